{#-
    Custom schemas are used as named (`staging`, `marts`, `snapshots`), not prefixed with the target
    schema: the lake's Hive databases keep stable names that ingestion, export and BI can rely on.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
