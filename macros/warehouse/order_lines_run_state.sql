{#-
    What one run of the order-line pipeline has to look at, resolved before the SQL is rendered so that
    every filter is a literal Spark can prune partitions and files with. This macro is the one place that
    reads the previous run's state:

      batches           raw order-line batches to process: landed and not reconciled yet, plus the
                        restated ones (none = first run: all of them)
      restated          reconciled batches landed again since (same batch id, new content): their previous
                        lines leave the fact and the quarantine, their current lines are processed as new
      months            invoice months ('yyyy-MM') of those batches' lines (the fact partitions to check)
      fact              fct_order_lines relation, or none before its first build
      quarantine        quarantine_order_lines relation, or none before its first build
      price_changes     [(stock_code, first changed price_ts)] for product versions loaded since the last
                        reconciled run (their fact lines may need re-pricing)
      customer_changes  true when customer versions were loaded since the last reconciled run (the lines of
                        those customers may need re-linking)
      last_processed_at the last reconciled run's start, as a literal (none before the first)

    The fact, quarantine and audit tables are read here as the previous run's state, not through ref():
    they are built from int_order_lines__validated, so a ref would be a cycle; their schema comes from
    the project's graph. Unit tests override this macro with a dict.
-#}
{% macro order_lines_run_state() %}
    {%- set state = {
        'batches': [], 'restated': [], 'months': [], 'fact': none, 'quarantine': none, 'price_changes': [],
        'customer_changes': false, 'last_processed_at': none,
    } -%}
    {%- if not execute -%}
        {{ return(state) }}
    {%- endif -%}
    {%- set audit = previous_run_relation('audit_batch_reconciliation') -%}
    {%- do state.update({
        'fact': previous_run_relation('fct_order_lines'),
        'quarantine': previous_run_relation('quarantine_order_lines'),
    }) -%}

    {#- batches landed but not reconciled yet, and reconciled ones landed again since -#}
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
        {%- set restated = restated_order_line_batches(audit) -%}
        {%- set todo = landed | reject('in', done) | list + restated | select('in', landed) | list -%}
        {%- do state.update({'batches': todo | unique | sort | list, 'restated': restated}) -%}
        {%- set last_run = run_query('select cast(max(processed_at) as string) from ' ~ audit).columns[0].values() -%}
        {%- do state.update({'last_processed_at': last_run[0] if last_run and last_run[0] else none}) -%}
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

    {#- product and customer versions loaded since the last reconciled run -#}
    {%- if state.fact is not none and state.last_processed_at is not none -%}
        {%- set changes_sql -%}
            select stock_code, cast(min(coalesce(price_ts, cast(price_date as timestamp))) as string)
            from {{ ref('snap_products') }}
            where dbt_valid_from > timestamp '{{ state.last_processed_at }}'
            group by stock_code
        {%- endset -%}
        {%- do state.update({'price_changes': run_query(changes_sql).rows | map('list') | list}) -%}
        {%- set customers_sql -%}
            select count(*) from {{ ref('snap_customer_versions') }}
            where dbt_valid_from > timestamp '{{ state.last_processed_at }}'
        {%- endset -%}
        {%- do state.update({'customer_changes': run_query(customers_sql).columns[0].values()[0] > 0}) -%}
    {%- endif -%}
    {{ return(state) }}
{% endmacro %}

{#- A model of this pipeline as the previous run left it (none before its first build), found in the schema
    the project's configuration gives it, without a ref (which would make a cycle). -#}
{% macro previous_run_relation(name) %}
    {%- set node = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', name) | first -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}

{#- Reconciled order-line batches landed again since (the manifest's newest landing of the batch id is
    later than the lines the ledger reconciled): a corrected file re-sent under the same name. -#}
{% macro restated_order_line_batches(audit) %}
    {%- set restated_sql -%}
        select audit.batch_id
        from {{ audit }} as audit
        inner join {{ source('raw', '_batches') }} as manifest
            on audit.batch_id = manifest.batch_id
        where manifest.source = 'order_lines'
        group by audit.batch_id, audit.ingested_at
        having max(manifest.started_at) > audit.ingested_at + interval 1 second
    {%- endset -%}
    {{ return(run_query(restated_sql).columns[0].values() | sort | list) }}
{% endmacro %}

{#- `delete` of the restated batches' previous lines from a table of this pipeline (a pre-hook of the fact
    and the quarantine; nothing when no batch was restated or the table does not exist yet). -#}
{% macro delete_restated_lines(relation) %}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) -%}
        {%- set audit = previous_run_relation('audit_batch_reconciliation') -%}
        {%- set restated = restated_order_line_batches(audit) if audit is not none else [] -%}
        {%- if restated -%}
            delete from {{ relation }} where _batch_id in ({{ sql_string_list(restated) }})
        {%- endif -%}
    {%- endif -%}
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
