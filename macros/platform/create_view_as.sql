{#-
    Views that really change when their SQL changes.

    With Iceberg's SparkSessionCatalog, `create or replace view` on an existing view is accepted, yet every
    later query keeps reading the OLD definition (Spark reads the view text from the Hive metastore while the
    new SQL only reaches the Iceberg view metadata): a changed filter silently serves old rows, an added
    column fails with INCOMPATIBLE_VIEW_SCHEMA_CHANGE. `drop view` then `create view` works.

    dbt-spark's `create_view_as` (used by the view materialization, snapshot staging views and incremental
    temp views) emits `create or replace view`; this override drops the view first and then creates it.
    The drop runs when the statement is rendered, right before the create is executed; a query in between
    sees no view for a moment, which is acceptable in the lake (BI reads gold in PostgreSQL).
-#}
{% macro spark__create_view_as(relation, sql) -%}
  {%- if execute -%}
    {%- call statement('drop_view_before_create') -%}
      drop view if exists {{ relation }}
    {%- endcall -%}
  {%- endif -%}
  create view {{ relation }}
  {% if config.persist_column_docs() -%}
    {% set model_columns = model.columns %}
    {% set query_columns = get_columns_in_query(sql) %}
    (
    {{ get_persist_docs_column_list(model_columns, query_columns) }}
    )
  {% endif %}
  {{ comment_clause() }}
  {%- set contract_config = config.get('contract') -%}
  {%- if contract_config.enforced -%}
    {{ get_assert_columns_equivalent(sql) }}
  {%- endif %}
  as
    {{ sql }}
{%- endmacro %}
