{#-
    Malformed clickstream events with every reason, the raw payload and where they came from. A malformed
    event cannot become valid later (there is no master data to wait for), so rows stay here as they are.
    Incremental merge on (_batch_id, _row_number); full_refresh is off.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key=['_batch_id', '_row_number'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

events_to_process as (

    select * from {{ ref('int_clickstream__events_to_process') }}

),

quarantined as (

    select
        ---------- keys
        _batch_id,
        _row_number,
        event_id,
        visitor_id,
        session_id,

        ---------- verdict
        to_json(invalid_reasons) as failure_reasons,
        cast('{{ run_started_at }}' as timestamp) as quarantined_at,

        ---------- event as read
        event_type,
        event_time_raw,
        event_ts,
        stock_code,
        page_url,

        ---------- lineage
        raw_payload,
        _source_file,
        _ingested_at

    from events_to_process
    where event_status = 'quarantined'

)

select * from quarantined
