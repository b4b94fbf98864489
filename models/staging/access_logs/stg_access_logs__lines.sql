{#-
    One row per landed access-log line, typed: the landing parsed it (ingestion/logs.py, the first format of
    ingestion/access_log_formats.yml that matches it whole: log_format and the fields as strings, null when
    none matched); here the fields are cast (macros/parsing/access_logs.sql) and every reason a line cannot be
    used is listed in invalid_reasons. Nothing is filtered: a line that does not parse is here with its
    reasons and goes to the quarantine (int_access_logs__lines_to_process decides).
-#}
with

source as (

    select * from {{ source('access_logs', 'access_logs') }}

),

fields as (

    select
        server,
        line,
        line_base64,
        log_format,
        {%- for name in access_log_field_names() %}
            nullif({{ name }}, '') as {{ name }},
        {%- endfor %}
        batch_id as _batch_id,
        _source_file,
        _row_number,
        _ingested_at
    from source

),

request_line as (

    select
        *,
        -- "METHOD target PROTOCOL"; a request that is not three parts (a TLS hello, garbage) has no method
        coalesce(request rlike '^[A-Z]+ [^ ]+( [^ ]+)* HTTP/[0-9.]+$', false) as is_http_request
    from fields

),

split_request as (

    select
        *,
        case when is_http_request then substring_index(request, ' ', 1) end as http_method,
        case when is_http_request then substring_index(request, ' ', -1) end as http_protocol
    from request_line

),

renamed as (

    select
        ---------- where the line came from
        server,
        _row_number as line_number,
        log_format,

        ---------- client
        remote_addr,
        nullif(remote_user, '-') as remote_user,
        nullif({{ access_log_unescape('http_user_agent') }}, '-') as user_agent,
        nullif({{ access_log_unescape('http_referer') }}, '-') as referer,

        ---------- request
        {{ access_log_unescape('request') }} as request,
        http_method,
        case
            when http_method is not null
                then substr(
                        request,
                        length(http_method) + 2,
                        length(request) - length(http_method) - length(http_protocol) - 2
                    )
        end as request_target,
        http_protocol,

        ---------- response
        cast(status as int) as status_code,
        cast(case when body_bytes_sent = '-' then '0' else body_bytes_sent end as bigint) as response_bytes,
        cast(nullif(request_time, '-') as double) as request_time_s,
        case
            when upstream_response_time is null or upstream_response_time = '-' then null
            -- one upstream: a number (no lambda per row); several: their sum
            when upstream_response_time not like '%,%' and upstream_response_time not like '%:%'
                then cast(upstream_response_time as double)
            else aggregate(
                    split(upstream_response_time, ', | : '),
                    cast(0 as double),
                    (total, part) -> total + coalesce(cast(nullif(part, '-') as double), 0)
                )
        end as upstream_time_s,

        ---------- time, as the server's clock wrote it (servers' clock skew is not corrected here)
        time_local as time_local_raw,
        {{ access_log_timestamp('time_local') }} as request_ts,

        ---------- the line as landed
        line,
        line_base64,
        line_base64 is not null as is_invalid_utf8,
        log_format is not null as is_parsed,

        ---------- lineage
        _batch_id,
        _source_file,
        _ingested_at

    from split_request

),

flagged as (

    select
        *,
        -- every reason that applies, empty when none (concat_ws skips nulls: no lambda per row)
        array_remove(split(concat_ws(
            ',',
            case when line = '' then 'empty_line' end,
            case
                when not is_parsed and line <> '' and line rlike '^[^ ]+ [^ ]+ [^ ]+ \\['
                    then 'truncated_or_malformed'
            end,
            case
                when not is_parsed and line <> '' and not line rlike '^[^ ]+ [^ ]+ [^ ]+ \\['
                    then 'unrecognised_format'
            end,
            case when is_parsed and request_ts is null then 'unreadable_time' end
        ), ','), '') as invalid_reasons
    from renamed

)

select * from flagged
