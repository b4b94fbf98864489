with

source as (

    select * from {{ source('clickstream', 'clickstream_events') }}

),

renamed as (

    select
        ---------- ids
        nullif(lower(trim(event_id)), '') as event_id,
        nullif(trim(user_id), '') as visitor_id,
        nullif(trim(session_id), '') as session_id,
        nullif(upper(trim(product_id)), '') as stock_code,

        ---------- event
        nullif(lower(trim(event_type)), '') as event_type,
        trim(event_time) as event_time_raw,
        {{ parse_unambiguous_timestamp('trim(event_time)') }} as event_ts,

        ---------- page and context
        nullif(trim(page_url), '') as page_url,
        coalesce(nullif(lower(trim(device_type)), ''), 'unknown') as device_type,
        nullif(trim(ip_address), '') as ip_address,
        nullif(trim(user_agent), '') as user_agent,
        nullif(trim(referrer), '') as referrer,
        coalesce(nullif(lower(trim(traffic_source)), ''), 'unknown') as traffic_source,

        ---------- raw payload (business columns as landed)
        to_json(named_struct(
            'event_id', event_id,
            'user_id', user_id,
            'session_id', session_id,
            'event_time', event_time,
            'page_url', page_url,
            'product_id', product_id,
            'event_type', event_type,
            'device_type', device_type,
            'ip_address', ip_address,
            'user_agent', user_agent,
            'referrer', referrer,
            'traffic_source', traffic_source
        )) as raw_payload,

        ---------- lineage
        batch_id as _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from source

),

flagged as (

    select
        ---------- ids
        event_id,
        visitor_id,
        case when visitor_id not like 'anon-%' then visitor_id end as customer_id,
        session_id,
        stock_code,

        ---------- event
        event_type,
        event_time_raw,
        event_ts,

        ---------- page and context
        page_url,
        nullif(parse_url(page_url, 'PATH'), '') as page_path,
        device_type,
        ip_address,
        user_agent,
        referrer,
        nullif(lower(parse_url(referrer, 'HOST')), '') as referrer_host,
        traffic_source,

        ---------- validity: every reason that applies (empty = valid)
        filter(array(
            case when event_id is null then 'missing_event_id' end,
            case when event_ts is null then 'unreadable_event_time' end,
            case
                when event_type is null
                    or event_type not in ('view', 'add_to_cart', 'remove_from_cart', 'checkout', 'purchase')
                    then 'unknown_event_type'
            end,
            case
                when event_type in ('add_to_cart', 'remove_from_cart') and stock_code is null
                    then 'cart_event_without_product'
            end,
            case when visitor_id is null and session_id is null then 'no_visitor_or_session' end
        ), reason -> reason is not null) as invalid_reasons,

        ---------- lineage
        raw_payload,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from renamed

)

select * from flagged
