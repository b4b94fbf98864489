{#-
    `column` when `relation` has it, else a typed null under its name: lets a model read an incremental table
    built by an older version of the project, before the model that owns the table appends the new column.
-#}
{% macro column_or_null(relation, column, qualifier='', data_type='string') -%}
    {%- set present = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- if column in present -%}
        {{ qualifier ~ column }}
    {%- else -%}
        cast(null as {{ data_type }}) as {{ column }}
    {%- endif -%}
{%- endmacro %}
