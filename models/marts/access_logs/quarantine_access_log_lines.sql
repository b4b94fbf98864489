{#-
    Access-log lines that are not requests (empty, cut short, another format, an impossible time), with every
    reason, the line as landed (and its bytes when not UTF-8) and where it came from. A line cannot become
    valid later, so rows stay as they are. Incremental merge on (_batch_id, line_number); full_refresh is off.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key=['_batch_id', 'line_number'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

lines_to_process as (

    select * from {{ ref('int_access_logs__lines_to_process') }}

),

quarantined as (

    select
        ---------- keys
        _batch_id,
        line_number,
        server,

        ---------- verdict
        to_json(invalid_reasons) as failure_reasons,
        invalid_reasons[0] as first_reason,
        cast('{{ run_started_at }}' as timestamp) as quarantined_at,

        ---------- the line as landed
        line,
        line_base64,
        is_invalid_utf8,
        log_format,

        ---------- lineage
        _source_file,
        _ingested_at

    from lines_to_process
    where line_status = 'quarantined'

)

select * from quarantined
