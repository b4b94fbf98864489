{#-
    One row per clickstream batch, written when the batch is first processed:
    landed events = fct_events + mart_bot_events + quarantined + removed duplicates.
    It is also the ledger of processed batches that int_clickstream__events_to_process reads.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key='batch_id',
        on_schema_change='fail',
        full_refresh=false,
    )
}}

with

events_to_process as (

    select * from {{ ref('int_clickstream__events_to_process') }}

),

raw_events as (

    select * from {{ source('clickstream', 'clickstream_events') }}

),

fact_events as (

    select * from {{ ref('fct_events') }}

),

bot_events as (

    select * from {{ ref('mart_bot_events') }}

),

quarantined_events as (

    select * from {{ ref('quarantine_clickstream_events') }}

),

new_batches as (

    select
        _batch_id as batch_id,
        count_if(event_status = 'duplicate') as duplicate_events
    from events_to_process
    where event_origin = 'incoming'
    group by _batch_id

),

landed as (

    select
        raw_events.batch_id,
        count(*) as landed_events,
        min(raw_events._ingested_at) as ingested_at
    from raw_events
    where raw_events.batch_id in (select new_batches.batch_id from new_batches)
    group by raw_events.batch_id

),

in_fact as (

    select
        fact_events._batch_id as batch_id,
        count(*) as fact_events
    from fact_events
    where fact_events._batch_id in (select new_batches.batch_id from new_batches)
    group by fact_events._batch_id

),

in_bots as (

    select
        bot_events._batch_id as batch_id,
        count(*) as bot_events
    from bot_events
    where bot_events._batch_id in (select new_batches.batch_id from new_batches)
    group by bot_events._batch_id

),

in_quarantine as (

    select
        quarantined_events._batch_id as batch_id,
        count(*) as quarantined_events
    from quarantined_events
    where quarantined_events._batch_id in (select new_batches.batch_id from new_batches)
    group by quarantined_events._batch_id

),

final as (

    select
        new_batches.batch_id,
        landed.ingested_at,
        coalesce(landed.landed_events, 0) as landed_events,
        coalesce(in_fact.fact_events, 0) as fact_events,
        coalesce(in_bots.bot_events, 0) as bot_events,
        coalesce(in_quarantine.quarantined_events, 0) as quarantined_events,
        new_batches.duplicate_events,
        coalesce(landed.landed_events, 0)
        - coalesce(in_fact.fact_events, 0)
        - coalesce(in_bots.bot_events, 0)
        - coalesce(in_quarantine.quarantined_events, 0)
        - new_batches.duplicate_events as unreconciled_events,
        cast('{{ run_started_at }}' as timestamp) as processed_at
    from new_batches
    left join landed on new_batches.batch_id = landed.batch_id
    left join in_fact on new_batches.batch_id = in_fact.batch_id
    left join in_bots on new_batches.batch_id = in_bots.batch_id
    left join in_quarantine on new_batches.batch_id = in_quarantine.batch_id

)

select * from final
