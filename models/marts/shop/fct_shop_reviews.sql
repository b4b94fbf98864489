{#-
    One row per live review of the shop database: its latest score and text (a review edited after it was
    written shows the edit), soft-deleted reviews (deleted_at) excluded.
-#}
with

reviews as (

    select * from {{ ref('int_shop__order_reviews_current') }}

),

final as (

    select
        ---------- keys
        review_id,
        order_id,
        'shop_db' as source_system,

        ---------- the review (latest version)
        review_score,
        comment_title,
        comment_message,
        created_at,
        cast(created_at as date) as review_date,
        cast(date_trunc('month', created_at) as date) as review_month,
        answered_at,
        cast((cast(answered_at as double) - cast(created_at as double)) / 3600 as decimal(10, 2))
            as hours_to_answer,
        updated_at as last_changed_at

    from reviews
    where deleted_at is null

)

select * from final
