{#-
    Access-log typing (models/staging/access_logs). The landing parses each line (ingestion/logs.py, the RE2
    patterns of ingestion/access_log_formats.yml) into raw string columns named after nginx's variables;
    staging casts them with these macros.
-#}
{#- The raw columns a format may fill (ingestion.contract.LOG_FIELDS; a test checks they are the same). -#}
{% macro access_log_field_names() -%}
    {{ return([
        'remote_addr', 'ident', 'remote_user', 'time_local', 'request', 'status', 'body_bytes_sent',
        'http_referer', 'http_user_agent', 'request_time', 'upstream_response_time',
    ]) }}
{%- endmacro %}

{#- `dd/MMM/yyyy:HH:mm:ss +hhmm` to a UTC timestamp; null for an impossible one (30 Feb, 25:00, a second
    60). try_to_timestamp: never an exception, whatever spark.sql.legacy.timeParserPolicy says (verified with
    EXCEPTION); three times cheaper than make_timestamp with the offset as a zone, which parses the zone per row. -#}
{% macro access_log_timestamp(column) -%}
    try_to_timestamp({{ column }}, 'dd/MMM/yyyy:HH:mm:ss Z')
{%- endmacro %}

{#- A quoted field as the client sent it: Apache's \" and \\, nginx's \x22 and \x5C undone (other \xHH kept). -#}
{% macro access_log_unescape(column) -%}
    case
        when instr({{ column }}, '\\') > 0
            then replace(replace(
                regexp_replace({{ column }}, '\\\\(["\\\\])', '$1'), '\\x22', '"'), '\\x5C', '\\')
        else {{ column }}
    end
{%- endmacro %}
