with

versions as (

    select * from {{ ref('stg_shop__orders') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by order_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    order_id,
    customer_id,
    status,
    purchased_at,
    approved_at,
    shipped_at,
    delivered_at,
    canceled_at,
    estimated_delivery_date,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
