with

shop_review_scores as (

    select * from {{ gold_mart('mart_shop_review_scores') }}

)

select
    source_system,
    review_month,
    reviews,
    mean_score,
    low_score_reviews,
    top_score_reviews,
    low_score_share,
    top_score_share,
    answered_share
from shop_review_scores
