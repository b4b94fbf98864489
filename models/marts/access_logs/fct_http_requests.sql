{#-
    One row per parsed access-log line: a request as one server logged it. Incremental merge on
    (_batch_id, line_number), partitioned by request_date; full_refresh is off (the fact is half of the
    ledger audit_access_log_reconciliation balances).
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key=['_batch_id', 'line_number'],
        partition_by=['request_date'],
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

lines_to_process as (

    select * from {{ ref('int_access_logs__lines_to_process') }}

),

parsed_lines as (

    select * from lines_to_process
    where line_status = 'parsed'

),

requests as (

    select
        ---------- keys
        _batch_id,
        line_number,
        server,

        ---------- when (UTC, as the server's clock said)
        request_ts,
        cast(request_ts as date) as request_date,
        date_trunc('minute', request_ts) as request_minute,

        ---------- client
        remote_addr,
        remote_user,
        user_agent,
        referer,

        ---------- request
        http_method,
        request_target,
        nullif(substring_index(request_target, '?', 1), '') as url_path,
        case when instr(request_target, '?') > 0
                then substr(request_target, instr(request_target, '?') + 1)
        end as query_string,
        {{ access_log_endpoint_group("nullif(substring_index(request_target, '?', 1), '')", 'http_method') }}
            as endpoint_group,
        http_protocol,

        ---------- response
        status_code,
        concat(cast(status_code div 100 as string), 'xx') as status_class,
        status_code >= 500 as is_server_error,
        response_bytes,
        request_time_s,
        upstream_time_s,

        ---------- the line
        log_format,
        is_invalid_utf8,
        _source_file,
        _ingested_at

    from parsed_lines

)

select * from requests
