{#-
    Access-log parsing (models/staging/access_logs). The formats and their Java regexes are the var
    `access_log_formats` (dbt_project.yml): a list of {name, pattern, fields}, tried in order.

    access_log_match(column) runs ONE regexp_replace per format and stops at the first that matches
    (coalesce is evaluated left to right): a matching pattern rewrites the whole line into
    '<format>\u0001<field 1>\u0001...<field N>' in the canonical field order below (a field the format does
    not capture is ''); a line no pattern matches comes back unchanged and becomes null. The result is an
    array: [0] the format's name, [i] the i-th canonical field. One regex pass per line and format instead
    of one regexp_extract per field (eleven passes): what makes the parse fast (benchmarks/bench_logs_parse.py).
-#}
{% macro access_log_field_names() -%}
    {{ return([
        'remote_addr', 'ident', 'remote_user', 'time_local', 'request', 'status', 'body_bytes_sent',
        'http_referer', 'http_user_agent', 'request_time', 'upstream_response_time',
    ]) }}
{%- endmacro %}

{% macro regex_literal(pattern) -%}
    '{{ pattern | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}

{% macro access_log_replacement(log_format) -%}
    {%- set names = access_log_field_names() -%}
    {%- for name in log_format.fields if name not in names -%}
        {{ exceptions.raise_compiler_error(
            "access_log_formats: unknown field " ~ name ~ " in format " ~ log_format.name) }}
    {%- endfor -%}
    '\u0001{{ log_format.name }}
    {%- for name in names -%}
        \u0001{{ '$' ~ (log_format.fields.index(name) + 1) if name in log_format.fields }}
    {%- endfor -%}'
{%- endmacro %}

{% macro access_log_match(column) -%}
    split(substr(coalesce(
        {%- for log_format in var('access_log_formats') %}
            nullif(
                regexp_replace({{ column }}, {{ regex_literal(log_format.pattern) }},
                    {{ access_log_replacement(log_format) }}),
                {{ column }}
            ){{ ',' if not loop.last }}
        {%- endfor %}
    ), 2), '\u0001')
{%- endmacro %}

{#- `dd/MMM/yyyy:HH:mm:ss +hhmm` (fixed width, the patterns check the shape) to a UTC timestamp; null for an
    impossible date. make_timestamp, not to_timestamp: no datetime parser, so no parser-policy exception. -#}
{% macro access_log_timestamp(column) -%}
    make_timestamp(
        cast(substr({{ column }}, 8, 4) as int),
        array_position(
            array('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'),
            substr({{ column }}, 4, 3)
        ),
        cast(substr({{ column }}, 1, 2) as int),
        cast(substr({{ column }}, 13, 2) as int),
        cast(substr({{ column }}, 16, 2) as int),
        cast(substr({{ column }}, 19, 2) as int),
        concat(substr({{ column }}, 22, 3), ':', substr({{ column }}, 25, 2))
    )
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
