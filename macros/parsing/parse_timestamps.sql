{#-
    Timestamp parsing for the raw string dates, one format tried after the other (coalesce).
    All results are UTC (the session time zone of the lake); values with a zone are converted.

    parse_unambiguous_timestamp: formats that only read a value one way
      yyyy-MM-dd HH:mm:ss, ISO 8601 with a zone (2024-03-04T10:15:00+01:00, ...Z), epoch milliseconds.
    parse_slash_timestamp(column, 'day_first' | 'month_first'): dd/MM/yyyy [HH:mm[:ss]] read one way.
    Whether a slash value is ambiguous is decided in the staging model (both readings valid and different).
-#}
{% macro parse_unambiguous_timestamp(column) -%}
    coalesce(
        case when {{ column }} rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{1,2}:[0-9]{2}:[0-9]{2}$'
            then try_to_timestamp({{ column }}, 'yyyy-MM-dd H:mm:ss') end,
        case when {{ column }} rlike '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?(Z|[+-][0-9]{2}:?[0-9]{2})$'
            then cast({{ column }} as timestamp) end,
        case when {{ column }} rlike '^[0-9]{12,13}$'
            then timestamp_millis(cast({{ column }} as bigint)) end
    )
{%- endmacro %}

{% macro parse_slash_timestamp(column, order) -%}
    {%- set date_part = 'd/M/yyyy' if order == 'day_first' else 'M/d/yyyy' -%}
    case when {{ column }} rlike '^[0-9]{1,2}/[0-9]{1,2}/[0-9]{4}( [0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?$'
        then coalesce(
            try_to_timestamp({{ column }}, '{{ date_part }} H:mm'),
            try_to_timestamp({{ column }}, '{{ date_part }} H:mm:ss'),
            try_to_timestamp({{ column }}, '{{ date_part }}')
        ) end
{%- endmacro %}

{#-
    The declared reading of slash dates per source layout, from the var `slash_date_order`
    (e.g. {'uci_online_retail': 'month_first', 'default': 'day_first'}). Without a declaration the
    expression is null and two different readings make the row ambiguous.
-#}
{% macro slash_date_order(layout_column) -%}
    {%- set orders = var('slash_date_order', {}) -%}
    {%- set default = "'" ~ orders['default'] ~ "'" if orders.get('default') else 'cast(null as string)' -%}
    {%- set layouts = orders.items() | rejectattr(0, 'equalto', 'default') | list -%}
    {%- if layouts -%}
    case
    {%- for layout, order in layouts %}
        when {{ layout_column }} = '{{ layout }}' then '{{ order }}'
    {%- endfor %}
        else {{ default }}
    end
    {%- else -%}
    {{ default }}
    {%- endif -%}
{%- endmacro %}
