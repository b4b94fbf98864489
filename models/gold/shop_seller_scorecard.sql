with

shop_seller_scorecard as (

    select * from {{ gold_mart('mart_shop_seller_scorecard') }}

)

select
    source_system,
    seller_id,
    seller_name,
    seller_state,
    seller_since,
    orders,
    canceled_orders,
    cancellation_rate,
    items_sold,
    gmv,
    delivered_orders,
    late_orders,
    late_share,
    reviews,
    mean_review_score
from shop_seller_scorecard
