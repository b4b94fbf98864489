{#-
    dbt-spark's safe_cast strips the quotes off a string fixture for complex types and emits
    `cast(["a"] as array<string>)`, which Spark cannot parse. Read such fixtures as JSON instead, so a unit
    test can write an array column as '["a", "b"]'. Every other cast is dbt-spark's.
-#}
{% macro spark__safe_cast(field, type) %}
{%- if field is string and (type | lower).startswith(('array<', 'map<', 'struct<')) and field.startswith("'") -%}
from_json({{ field }}, '{{ type }}')
{%- else -%}
{%- set field_clean = field.strip('"').strip("'") if (cast_from_string_unsupported_for(type) and field is string) else field -%}
cast({{ field_clean }} as {{ type }})
{%- endif -%}
{% endmacro %}
