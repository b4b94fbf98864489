{#-
    Fix for on_schema_change='append_new_columns' on dbt-spark 1.11: its spark__alter_relation_add_remove_columns
    runs the `alter table ... add columns` through run_query, whose empty result (a DDL statement over
    Thrift has no result set) fails with "'NoneType' object is not iterable". Same statement, run as a
    statement without fetching. Dropping columns stays refused, as upstream (our incremental models never do).
-#}
{% macro spark__alter_relation_add_remove_columns(relation, add_columns, remove_columns) %}
  {% if remove_columns %}
    {{ exceptions.raise_compiler_error('dropping columns from ' ~ relation ~ ' is not supported') }}
  {% endif %}
  {% if add_columns %}
    {% call statement('alter_relation_add_columns') -%}
      alter table {{ relation }} add columns (
        {%- for column in add_columns %}
        {{ column.quoted }} {{ column.data_type }}{{ ',' if not loop.last }}
        {%- endfor %}
      )
    {%- endcall %}
  {% endif %}
{% endmacro %}
