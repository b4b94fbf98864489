with

versions as (

    select * from {{ ref('stg_shop__sellers') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by seller_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    seller_id,
    seller_name,
    zip_code_prefix,
    city,
    state,
    created_at,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
