with

shop_reviews as (

    select * from {{ gold_mart('fct_shop_reviews') }}

)

select
    review_id,
    order_id,
    source_system,
    review_score,
    comment_title,
    comment_message,
    created_at,
    review_date,
    review_month,
    answered_at,
    hours_to_answer
from shop_reviews
