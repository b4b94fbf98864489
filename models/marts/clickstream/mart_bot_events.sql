{#-
    The bot mart: every event of a session judged not human, with the rule that caught it (see
    int_clickstream__events_sessionised). Kept out of every other clickstream mart. Incremental merge on
    event_id; full_refresh is off (it is part of the ledger of kept events).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key='event_id',
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

sessionised_events as (

    select * from {{ ref('int_clickstream__events_sessionised') }}

),

bot_events as (

    select
        ---------- keys
        event_id,
        session_key,
        session_source,
        session_id,
        visitor_id,
        customer_id,
        stock_code,

        ---------- verdict
        bot_rule,
        bot_rules,

        ---------- event (UTC)
        event_type,
        event_ts,
        event_time_raw,
        event_sequence,
        seconds_since_previous_event,
        seconds_to_next_event,

        ---------- page and context
        page_url,
        page_path,
        device_type,
        traffic_source,
        referrer,
        referrer_host,
        ip_address,
        ip_country_id,
        user_agent,
        browser_family,
        os_family,
        device_family,

        ---------- lineage
        raw_payload,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at,
        cast('{{ run_started_at }}' as timestamp) as _loaded_at

    from sessionised_events
    where bot_rule is not null

)

select * from bot_events
