{#-
    One row per order-line batch: landed rows = fact rows + open quarantine rows + removed duplicates.
    Rows are (re)computed for the batches this run touched (new batches and batches with recovered lines);
    the table is also the ledger of reconciled batches that int_order_lines__validated reads.
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

{%- if is_incremental() %}
    {%- set previous_counts_sql = 'select batch_id, duplicate_rows from ' ~ this %}
{%- else %}
    {%- set previous_counts_sql =
        'select cast(null as string) as batch_id, cast(null as bigint) as duplicate_rows where false' %}
{%- endif %}

with

validated_lines as (

    select * from {{ ref('int_order_lines__validated') }}

),

raw_order_lines as (

    select * from {{ source('raw', 'order_lines') }}

),

fact_lines as (

    select * from {{ ref('fct_order_lines') }}

),

quarantined_lines as (

    select * from {{ ref('quarantine_order_lines') }}

),

touched_batches as (

    select
        _batch_id as batch_id,
        count_if(candidate_origin = 'incoming' and validation_status = 'duplicate') as duplicates_this_run,
        max(cast(candidate_origin = 'incoming' as int)) = 1 as is_new_batch
    from validated_lines
    where candidate_origin in ('incoming', 'quarantine')
    group by _batch_id

),

previous_counts as (

    {{ previous_counts_sql }}

),

landed as (

    select
        raw_order_lines.batch_id,
        count(*) as landed_rows,
        min(raw_order_lines._ingested_at) as ingested_at
    from raw_order_lines
    left semi join touched_batches
        on raw_order_lines.batch_id = touched_batches.batch_id
    group by raw_order_lines.batch_id

),

in_fact as (

    select
        fact_lines._batch_id as batch_id,
        count(*) as fact_rows
    from fact_lines
    left semi join touched_batches
        on fact_lines._batch_id = touched_batches.batch_id
    group by fact_lines._batch_id

),

in_quarantine as (

    select
        quarantined_lines._batch_id as batch_id,
        count_if(quarantined_lines.status = 'open') as quarantined_rows,
        count_if(quarantined_lines.status = 'recovered') as recovered_rows
    from quarantined_lines
    left semi join touched_batches
        on quarantined_lines._batch_id = touched_batches.batch_id
    group by quarantined_lines._batch_id

),

reconciled as (

    select
        touched_batches.batch_id,
        landed.ingested_at,
        coalesce(landed.landed_rows, 0) as landed_rows,
        coalesce(in_fact.fact_rows, 0) as fact_rows,
        coalesce(in_quarantine.quarantined_rows, 0) as quarantined_rows,
        coalesce(in_quarantine.recovered_rows, 0) as recovered_rows,
        case
            when touched_batches.is_new_batch then touched_batches.duplicates_this_run
            else coalesce(previous_counts.duplicate_rows, 0)
        end as duplicate_rows,
        cast('{{ run_started_at }}' as timestamp) as processed_at
    from touched_batches
    left join landed on touched_batches.batch_id = landed.batch_id
    left join in_fact on touched_batches.batch_id = in_fact.batch_id
    left join in_quarantine on touched_batches.batch_id = in_quarantine.batch_id
    left join previous_counts on touched_batches.batch_id = previous_counts.batch_id

),

final as (

    select
        batch_id,
        ingested_at,
        landed_rows,
        fact_rows,
        quarantined_rows,
        recovered_rows,
        duplicate_rows,
        landed_rows - fact_rows - quarantined_rows - duplicate_rows as unreconciled_rows,
        processed_at
    from reconciled

)

select * from final
