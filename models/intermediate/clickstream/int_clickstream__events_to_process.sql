{#-
    The clickstream events one run has to decide on: every event of the batches not reconciled yet
    (incoming), each marked duplicate (its event id already kept, in this run or in an earlier one),
    quarantined (with every reason) or candidate; plus the events already kept of the sessions those
    candidates touch (existing), so that a late event re-opens only its own session.

    The previous run's state (audit ledger, fact, bot mart, quarantine) is read with adapter.get_relation,
    not ref(): those tables are built from this one, so a ref would be a cycle.
-#}
-- depends_on: {{ ref('stg_clickstream__events') }}
{{ config(materialized='table', schema='intermediate') }}

{%- set state = {'batches': none, 'fact': none, 'bots': none, 'quarantine': none} -%}
{%- if execute -%}
    {%- set audit = adapter.get_relation(
        database=none, schema='marts', identifier='audit_clickstream_reconciliation') -%}
    {%- do state.update({
        'fact': adapter.get_relation(database=none, schema='marts', identifier='fct_events'),
        'bots': adapter.get_relation(database=none, schema='marts', identifier='mart_bot_events'),
        'quarantine': adapter.get_relation(
            database=none, schema='marts', identifier='quarantine_clickstream_events'),
    }) -%}
    {%- if audit is not none -%}
        {%- set landed = [] -%}
        {%- for row in run_query('show partitions ' ~ source('clickstream', 'clickstream_events')) -%}
            {%- for part in row[0].split('/') if part.startswith('batch_id=') -%}
                {%- do landed.append(unescape_partition_value(part[9:])) -%}
            {%- endfor -%}
        {%- endfor -%}
        {%- set done = run_query('select batch_id from ' ~ audit).columns[0].values() -%}
        {%- do state.update({'batches': landed | reject('in', done) | unique | sort | list}) -%}
    {%- endif -%}
{%- endif %}

with

staged_events as (

    select * from {{ ref('stg_clickstream__events') }}

),

{% if state.fact is not none %}
    fact_events as (

        select * from {{ state.fact }}

    ),
{% endif %}

{% if state.bots is not none %}
    bot_events as (

        select * from {{ state.bots }}

    ),
{% endif %}

{% if state.quarantine is not none %}
    quarantined_events as (

        select * from {{ state.quarantine }}

    ),
{% endif %}

incoming_events as (

    select * from staged_events
    {% if state.batches is not none -%}
        where {% if state.batches -%}
        _batch_id in ({{ sql_string_list(state.batches) }})
    {%- else -%}
                false
        {%- endif %}
    {%- endif %}

),

-- event ids kept by earlier runs (wherever they went)
kept_event_ids as (

    {% if state.fact is not none -%}
        select event_id from fact_events
        union all
        select event_id from bot_events
        union all
        select event_id from quarantined_events
        where event_id is not null
    {%- else -%}
        select cast(null as string) as event_id
        where false
    {%- endif %}

),

distinct_kept_event_ids as (

    select distinct event_id from kept_event_ids

),

incoming_ranked as (

    select
        incoming_events.*,
        distinct_kept_event_ids.event_id is not null as is_kept_before,
        case
            when incoming_events.event_id is not null
                then row_number() over (
                        partition by incoming_events.event_id
                        order by
                            incoming_events._ingested_at,
                            incoming_events._batch_id,
                            incoming_events._row_number
                    )
        end as copy_number
    from incoming_events
    left join distinct_kept_event_ids
        on incoming_events.event_id = distinct_kept_event_ids.event_id

),

incoming_classified as (

    select
        *,
        case
            when is_kept_before or copy_number > 1 then 'duplicate'
            when size(invalid_reasons) > 0 then 'quarantined'
            else 'candidate'
        end as event_status,
        'incoming' as event_origin
    from incoming_ranked

),

touched as (

    select distinct
        session_id,
        case when session_id is null then visitor_id end as gapless_visitor_id
    from incoming_classified
    where event_status = 'candidate'

),

{% set kept_columns = [
    'event_id', 'visitor_id', 'customer_id', 'session_id', 'stock_code', 'event_type', 'event_time_raw',
    'event_ts', 'page_url', 'page_path', 'device_type', 'ip_address', 'user_agent', 'referrer',
    'referrer_host', 'traffic_source', 'raw_payload', '_batch_id', '_source_file', '_row_number',
    '_ingested_at',
] %}

existing_events as (

    {% if state.fact is not none -%}
        select
            {%- for column in kept_columns %}
                fact_events.{{ column }},
            {%- endfor %}
            'fct_events' as kept_in
        from fact_events
        inner join touched
            on fact_events.session_id = touched.session_id
                or (fact_events.session_id is null and fact_events.visitor_id = touched.gapless_visitor_id)
        union all
        select
            {%- for column in kept_columns %}
                bot_events.{{ column }},
            {%- endfor %}
            'mart_bot_events' as kept_in
        from bot_events
        inner join touched
            on bot_events.session_id = touched.session_id
                or (bot_events.session_id is null and bot_events.visitor_id = touched.gapless_visitor_id)
    {%- else -%}
        select
            {%- for column in kept_columns %}
                incoming_classified.{{ column }},
            {%- endfor %}
            'none' as kept_in
        from incoming_classified
        inner join touched
            on incoming_classified.session_id = touched.session_id
        where false
    {%- endif %}

),

final as (

    select
        {%- for column in kept_columns %}
            {{ column }},
        {%- endfor %}
        invalid_reasons,
        event_status,
        event_origin
    from incoming_classified
    union all
    select
        {%- for column in kept_columns %}
            {{ column }},
        {%- endfor %}
        cast(array() as array<string>) as invalid_reasons,
        'candidate' as event_status,
        'existing' as event_origin
    from existing_events
    -- an existing event is never also incoming: incoming copies of kept ids are duplicates

)

select * from final
