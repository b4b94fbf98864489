with

versions as (

    select * from {{ ref('stg_shop__products') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by product_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    product_id,
    category,
    product_name,
    weight_g,
    length_cm,
    height_cm,
    width_cm,
    list_price,
    created_at,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
