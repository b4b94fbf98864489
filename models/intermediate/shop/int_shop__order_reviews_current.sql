with

versions as (

    select * from {{ ref('stg_shop__order_reviews') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by review_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    review_id,
    order_id,
    review_score,
    comment_title,
    comment_message,
    created_at,
    answered_at,
    updated_at,
    deleted_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
