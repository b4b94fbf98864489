with

versions as (

    select * from {{ ref('stg_shop__order_payments') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by order_id, payment_sequential
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    order_id,
    payment_sequential,
    payment_type,
    payment_installments,
    payment_value,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
