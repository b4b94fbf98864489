with

source as (

    select * from {{ source('shop', 'order_reviews') }}

),

renamed as (

    select
        ---------- ids
        review_id,
        order_id,

        ---------- numerics
        cast(review_score as int) as review_score,

        ---------- text
        comment_title,
        comment_message,

        ---------- timestamps
        cast(created_at as timestamp) as created_at,
        cast(answered_at as timestamp) as answered_at,
        cast(updated_at as timestamp) as updated_at,
        cast(deleted_at as timestamp) as deleted_at,

        ---------- change data capture
        _op = 'delete' as is_deleted,
        _cursor,
        _extra,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

)

select * from renamed
