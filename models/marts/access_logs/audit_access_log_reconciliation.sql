{#-
    One row per access-log batch (log file), written when the batch is first processed:
    landed lines = fct_http_requests + quarantine_access_log_lines. It is also the ledger of processed batches
    that int_access_logs__lines_to_process reads.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key='batch_id',
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

lines_to_process as (

    select * from {{ ref('int_access_logs__lines_to_process') }}

),

raw_lines as (

    select * from {{ source('access_logs', 'access_logs') }}

),

requests as (

    select * from {{ ref('fct_http_requests') }}

),

quarantined_lines as (

    select * from {{ ref('quarantine_access_log_lines') }}

),

new_batches as (

    select distinct _batch_id as batch_id
    from lines_to_process

),

landed as (

    select
        raw_lines.batch_id,
        count(*) as landed_lines,
        max(raw_lines._row_number) as last_line_number,
        min(raw_lines._ingested_at) as ingested_at
    from raw_lines
    where raw_lines.batch_id in (select new_batches.batch_id from new_batches)
    group by raw_lines.batch_id

),

in_fact as (

    select
        requests._batch_id as batch_id,
        count(*) as parsed_lines
    from requests
    where requests._batch_id in (select new_batches.batch_id from new_batches)
    group by requests._batch_id

),

in_quarantine as (

    select
        quarantined_lines._batch_id as batch_id,
        count(*) as quarantined_lines
    from quarantined_lines
    where quarantined_lines._batch_id in (select new_batches.batch_id from new_batches)
    group by quarantined_lines._batch_id

),

final as (

    select
        new_batches.batch_id,
        landed.ingested_at,
        coalesce(landed.landed_lines, 0) as landed_lines,
        coalesce(landed.last_line_number, 0) as last_line_number,
        coalesce(in_fact.parsed_lines, 0) as parsed_lines,
        coalesce(in_quarantine.quarantined_lines, 0) as quarantined_lines,
        coalesce(landed.landed_lines, 0)
        - coalesce(in_fact.parsed_lines, 0)
        - coalesce(in_quarantine.quarantined_lines, 0) as unreconciled_lines,
        cast('{{ run_started_at }}' as timestamp) as processed_at
    from new_batches
    left join landed on new_batches.batch_id = landed.batch_id
    left join in_fact on new_batches.batch_id = in_fact.batch_id
    left join in_quarantine on new_batches.batch_id = in_quarantine.batch_id

)

select * from final
