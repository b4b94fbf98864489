with

shop_delivery_performance as (

    select * from {{ gold_mart('mart_shop_delivery_performance') }}

)

select
    source_system,
    customer_state,
    seller_id,
    seller_name,
    seller_state,
    orders,
    delivered_orders,
    on_time_orders,
    late_orders,
    on_time_share,
    avg_delivery_days,
    avg_delay_days
from shop_delivery_performance
