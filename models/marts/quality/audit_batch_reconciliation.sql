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

{% if is_incremental() %}
previous_counts as (

    select
        batch_id,
        duplicate_rows
    from {{ this }}
    where batch_id in (select batch_id from touched_batches)

),
{% endif %}

landed as (

    select
        batch_id,
        count(*) as landed_rows,
        min(_ingested_at) as ingested_at
    from raw_order_lines
    where batch_id in (select batch_id from touched_batches)
    group by batch_id

),

in_fact as (

    select
        _batch_id as batch_id,
        count(*) as fact_rows
    from fact_lines
    where _batch_id in (select batch_id from touched_batches)
    group by _batch_id

),

in_quarantine as (

    select
        _batch_id as batch_id,
        count_if(status = 'open') as quarantined_rows,
        count_if(status = 'recovered') as recovered_rows
    from quarantined_lines
    where _batch_id in (select batch_id from touched_batches)
    group by _batch_id

),

reconciled as (

    select
        touched_batches.batch_id,
        landed.ingested_at,
        coalesce(landed.landed_rows, 0) as landed_rows,
        coalesce(in_fact.fact_rows, 0) as fact_rows,
        coalesce(in_quarantine.quarantined_rows, 0) as quarantined_rows,
        coalesce(in_quarantine.recovered_rows, 0) as recovered_rows,
        {% if is_incremental() -%}
        case
            when touched_batches.is_new_batch then touched_batches.duplicates_this_run
            else coalesce(previous_counts.duplicate_rows, 0)
        end as duplicate_rows,
        {%- else -%}
        touched_batches.duplicates_this_run as duplicate_rows,
        {%- endif %}
        cast('{{ run_started_at }}' as timestamp) as processed_at
    from touched_batches
    left join landed on touched_batches.batch_id = landed.batch_id
    left join in_fact on touched_batches.batch_id = in_fact.batch_id
    left join in_quarantine on touched_batches.batch_id = in_quarantine.batch_id
    {% if is_incremental() -%}
    left join previous_counts on touched_batches.batch_id = previous_counts.batch_id
    {%- endif %}

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
