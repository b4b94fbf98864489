with

versions as (

    select * from {{ ref('stg_shop__inventory_movements') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by movement_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    movement_id,
    product_id,
    movement_type,
    quantity,
    occurred_at,
    order_id,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
