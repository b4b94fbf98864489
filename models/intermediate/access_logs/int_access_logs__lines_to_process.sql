{#-
    The access-log lines one run decides on: every line of the log batches not yet in
    audit_access_log_reconciliation, marked parsed or quarantined. Log lines are never deduplicated: two
    identical lines are two requests (same client, same second, same page is ordinary traffic).

    The ledger is read with adapter.get_relation, not ref(): it is built from this model (a ref would be a cycle).
-#}
-- depends_on: {{ ref('stg_access_logs__lines') }}
{{ config(materialized='table', schema='intermediate') }}

{%- set state = {'batches': none} -%}
{%- if execute -%}
    {%- set audit = adapter.get_relation(
        database=none, schema='marts', identifier='audit_access_log_reconciliation') -%}
    {%- if audit is not none -%}
        {%- set landed = [] -%}
        {%- for row in run_query('show partitions ' ~ source('access_logs', 'access_logs')) -%}
            {%- for part in row[0].split('/') if part.startswith('batch_id=') -%}
                {%- do landed.append(unescape_partition_value(part[9:])) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set done = run_query('select batch_id from ' ~ audit).columns[0].values() -%}
        {%- do state.update({'batches': landed | reject('in', done) | unique | sort | list}) -%}
    {%- endif -%}
{%- endif %}

with

staged_lines as (

    select * from {{ ref('stg_access_logs__lines') }}

),

incoming_lines as (

    select * from staged_lines
    {% if state.batches is not none -%}
        where {% if state.batches -%}
        _batch_id in ({{ sql_string_list(state.batches) }})
    {%- else -%}
                false
        {%- endif %}
    {%- endif %}

),

classified as (

    select
        *,
        case when size(invalid_reasons) > 0 then 'quarantined' else 'parsed' end as line_status
    from incoming_lines

)

select * from classified
