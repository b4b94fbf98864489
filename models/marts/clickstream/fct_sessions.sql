{#-
    One row per human session. Incremental merge on session_key: a run recomputes only the sessions its
    new events touch, from all their events (int_clickstream__events_to_process re-reads the kept ones).
    Sessions cut by inactivity can merge or split when a late event arrives: the post-hook deletes the
    gap sessions of the visitors this run re-sessionised that were not produced again.
    Funnel steps are cumulative: a session that purchased also reached checkout, cart and view, even when
    the tracker missed those events; repeated steps count once.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key='session_key',
        on_schema_change='fail',
        post_hook=[
            "delete from {{ this }}
            where session_source = 'inactivity_gap'
                and _loaded_at < cast('{{ run_started_at }}' as timestamp)
                and visitor_id in (
                    select visitor_id from {{ this }}
                    where session_source = 'inactivity_gap'
                        and _loaded_at = cast('{{ run_started_at }}' as timestamp)
                )"
        ],
    )
}}

with

sessionised_events as (

    select * from {{ ref('int_clickstream__events_sessionised') }}

),

human_events as (

    select * from sessionised_events
    where bot_rule is null

),

sessions_aggregated as (

    select
        session_key,
        max(session_source) as session_source,
        max(session_id) as session_id,
        min_by(visitor_id, event_sequence) as visitor_id,
        max(customer_id) as customer_id,
        min(event_ts) as session_start_ts,
        max(event_ts) as session_end_ts,
        count(*) as events,
        count_if(event_type = 'view') as page_views,
        count(distinct case when event_type = 'view' then stock_code end) as products_viewed,
        count_if(event_type = 'add_to_cart') as cart_adds,
        min_by(device_type, event_sequence) as device_type,
        min_by(browser_family, event_sequence) as browser_family,
        min_by(os_family, event_sequence) as os_family,
        min_by(traffic_source, event_sequence) as traffic_source,
        min_by(referrer_host, event_sequence) as referrer_host,
        min_by(ip_country_id, event_sequence) as country_id,
        min_by(page_path, event_sequence) as landing_page,
        max_by(page_path, event_sequence) as exit_page,
        count_if(event_type = 'view') > 0 as has_view_event,
        count_if(event_type = 'add_to_cart') > 0 as has_cart_event,
        count_if(event_type = 'checkout') > 0 as has_checkout_event,
        count_if(event_type = 'purchase') > 0 as has_purchase_event
    from human_events
    group by session_key

),

funnel_steps as (

    select
        *,
        has_purchase_event as is_converted,
        has_checkout_event or has_purchase_event as reached_checkout,
        has_cart_event or has_checkout_event or has_purchase_event as reached_cart,
        has_view_event or has_cart_event or has_checkout_event or has_purchase_event as reached_view
    from sessions_aggregated

),

final as (

    select
        ---------- keys
        session_key,
        session_source,
        session_id,
        visitor_id,
        customer_id,
        cast(session_start_ts as date) as session_date,
        cast(date_format(session_start_ts, 'yyyyMMdd') as int) as session_date_key,

        ---------- time (UTC)
        session_start_ts,
        session_end_ts,
        cast(session_end_ts as double) - cast(session_start_ts as double) as duration_seconds,

        ---------- activity
        events,
        page_views,
        products_viewed,
        cart_adds,
        landing_page,
        exit_page,

        ---------- context of the first event
        device_type,
        browser_family,
        os_family,
        traffic_source,
        referrer_host,
        country_id,

        ---------- funnel (cumulative)
        reached_view,
        reached_cart,
        reached_checkout,
        is_converted,

        ---------- lineage
        cast('{{ run_started_at }}' as timestamp) as _loaded_at

    from funnel_steps

)

select * from final
