{#-
    What one run of the order-line pipeline has to look at, resolved before the SQL is rendered so that
    every filter is a literal Spark can prune partitions and files with:

      batches         raw order-line batches not yet reconciled (none = first run: all of them)
      months          invoice months ('yyyy-MM') of those batches' lines (the fact partitions to check)
      fact            fct_order_lines relation, or none before its first build
      quarantine      quarantine_order_lines relation, or none before its first build
      price_changes   [(stock_code, first changed price_date)] for product versions loaded since the
                      last reconciled run (their fact lines may need re-pricing)

    The fact, quarantine and audit tables are read here as the previous run's state, not through ref():
    they are built from int_order_lines__validated, so a ref would be a cycle. Unit tests override this
    macro with a dict.
-#}
{% macro order_lines_run_state() %}
    {%- set state = {'batches': [], 'months': [], 'fact': none, 'quarantine': none, 'price_changes': []} -%}
    {%- if not execute -%}
        {{ return(state) }}
    {%- endif -%}
    {%- set audit = adapter.get_relation(database=none, schema='marts', identifier='audit_batch_reconciliation') -%}
    {%- do state.update({
        'fact': adapter.get_relation(database=none, schema='marts', identifier='fct_order_lines'),
        'quarantine': adapter.get_relation(database=none, schema='marts', identifier='quarantine_order_lines'),
    }) -%}

    {#- batches landed but not reconciled yet -#}
    {%- set landed = [] -%}
    {%- for row in run_query('show partitions ' ~ source('raw', 'order_lines')) -%}
        {%- for part in row[0].split('/') if part.startswith('batch_id=') -%}
            {%- do landed.append(unescape_partition_value(part[9:])) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if audit is none -%}
        {%- do state.update({'batches': none}) -%}
    {%- else -%}
        {%- set done = run_query('select batch_id from ' ~ audit).columns[0].values() -%}
        {%- do state.update({'batches': landed | reject('in', done) | unique | sort | list}) -%}
    {%- endif -%}

    {#- the fact partitions those batches can touch -#}
    {%- if state.fact is not none and (state.batches is none or state.batches | length > 0) -%}
        {%- set months_sql -%}
            select distinct date_format(invoice_ts, 'yyyy-MM')
            from {{ ref('stg_raw__order_lines') }}
            {% if state.batches is not none %}where _batch_id in ({{ sql_string_list(state.batches) }}){% endif %}
        {%- endset -%}
        {%- do state.update({'months': run_query(months_sql).columns[0].values() | list}) -%}
    {%- endif -%}

    {#- product versions loaded since the last reconciled run -#}
    {%- if state.fact is not none and audit is not none -%}
        {%- set changes_sql -%}
            select stock_code, cast(min(price_date) as string)
            from {{ ref('snap_products') }}
            where dbt_valid_from > (select max(processed_at) from {{ audit }})
            group by stock_code
        {%- endset -%}
        {%- do state.update({'price_changes': run_query(changes_sql).rows | map('list') | list}) -%}
    {%- endif -%}
    {{ return(state) }}
{% endmacro %}

{% macro sql_string_list(values) -%}
    {%- for value in values -%}
        '{{ value | replace("\\", "\\\\") | replace("'", "\\'") }}'{{ ', ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}

{#- Hive escapes these characters in partition paths (ExternalCatalogUtils.escapePathName). -#}
{% macro unescape_partition_value(value) -%}
    {%- set escapes = [
        ('%22', '"'), ('%23', '#'), ('%27', "'"), ('%2A', '*'), ('%2F', '/'), ('%3A', ':'), ('%3D', '='),
        ('%3F', '?'), ('%5C', '\\'), ('%7B', '{'), ('%5B', '['), ('%5D', ']'), ('%5E', '^'), ('%25', '%'),
    ] -%}
    {%- set ns = namespace(value=value) -%}
    {%- for code, char in escapes -%}
        {%- set ns.value = ns.value | replace(code, char) -%}
    {%- endfor -%}
    {{ return(ns.value) }}
{%- endmacro %}
