{#-
    Review scores per month the reviews were written (latest score of live reviews): count, mean, and the
    shares of poor (1-2) and top (5) scores.
-#}
with

reviews as (

    select * from {{ ref('fct_shop_reviews') }}

),

aggregated as (

    select
        review_month,
        count(*) as reviews,
        avg(review_score) as mean_score,
        count_if(review_score <= 2) as low_score_reviews,
        count_if(review_score = 5) as top_score_reviews,
        count_if(answered_at is not null) as answered_reviews
    from reviews
    group by review_month

),

final as (

    select
        'shop_db' as source_system,
        review_month,
        reviews,
        cast(mean_score as decimal(4, 2)) as mean_score,
        low_score_reviews,
        top_score_reviews,
        cast(low_score_reviews / reviews as decimal(9, 4)) as low_score_share,
        cast(top_score_reviews / reviews as decimal(9, 4)) as top_score_share,
        cast(answered_reviews / reviews as decimal(9, 4)) as answered_share
    from aggregated

)

select * from final
