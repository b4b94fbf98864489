{#-
    One row per human clickstream event, linked to the product version in effect at the event time,
    the customer version in effect where the visitor is a known customer ('-1' otherwise) and dim_date.
    Incremental merge on (event_id, event_date), partitioned by event_date: a run merges its new events
    and re-keys the kept events of the sessions they touched. full_refresh is off: the fact is also the
    ledger of kept events that int_clickstream__events_to_process deduplicates against.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key=['event_id', 'event_date'],
        partition_by=['event_date'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

sessionised_events as (

    select * from {{ ref('int_clickstream__events_sessionised') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

human_events as (

    select * from sessionised_events
    where bot_rule is null

),

events_linked as (

    select
        ---------- keys
        human_events.event_id,
        cast(human_events.event_ts as date) as event_date,
        human_events.session_key,
        human_events.session_source,
        human_events.session_id,
        human_events.visitor_id,
        human_events.customer_id,
        coalesce(customers.customer_sk, '-1') as customer_sk,
        human_events.stock_code,
        products.product_sk,
        cast(date_format(human_events.event_ts, 'yyyyMMdd') as int) as event_date_key,

        ---------- event (UTC)
        human_events.event_type,
        human_events.event_ts,
        human_events.event_time_raw,
        human_events.event_sequence,
        human_events.seconds_since_previous_event,
        human_events.seconds_to_next_event,

        ---------- page and context
        human_events.page_url,
        human_events.page_path,
        human_events.device_type,
        human_events.traffic_source,
        human_events.referrer,
        human_events.referrer_host,
        human_events.ip_address,
        human_events.ip_country_id,
        human_events.user_agent,
        human_events.browser_family,
        human_events.os_family,
        human_events.device_family,

        ---------- lineage
        human_events.raw_payload,
        human_events._batch_id,
        human_events._source_file,
        human_events._row_number,
        human_events._ingested_at,
        cast('{{ run_started_at }}' as timestamp) as _loaded_at

    from human_events
    left join products
        on human_events.stock_code = products.stock_code
            and human_events.event_ts >= products.valid_from
            and human_events.event_ts < products.valid_to
    left join customers
        on human_events.customer_id = customers.customer_id
            and human_events.event_ts >= customers.valid_from
            and human_events.event_ts < customers.valid_to

)

select * from events_linked
