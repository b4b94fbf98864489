{#-
    Delivery performance per customer state (at purchase) and seller: an order with items of two sellers
    counts for each. On time = delivered on or before the estimated delivery date (UTC days).
-#}
with

orders as (

    select * from {{ ref('fct_shop_orders') }}

),

order_items as (

    select * from {{ ref('fct_shop_order_items') }}

),

sellers as (

    select * from {{ ref('int_shop__sellers_current') }}

),

order_sellers as (

    select distinct
        order_id,
        seller_id
    from order_items

),

orders_by_seller as (

    select
        orders.customer_state,
        order_sellers.seller_id,
        orders.is_delivered,
        orders.is_late,
        orders.days_to_delivery,
        orders.delivery_delay_days
    from order_sellers
    inner join orders on order_sellers.order_id = orders.order_id

),

aggregated as (

    select
        customer_state,
        seller_id,
        count(*) as orders,
        count_if(is_delivered) as delivered_orders,
        count_if(is_delivered and not is_late) as on_time_orders,
        count_if(is_late) as late_orders,
        avg(case when is_delivered then days_to_delivery end) as avg_delivery_days,
        avg(case when is_late then delivery_delay_days end) as avg_delay_days
    from orders_by_seller
    group by customer_state, seller_id

),

final as (

    select
        'shop_db' as source_system,
        aggregated.customer_state,
        aggregated.seller_id,
        sellers.seller_name,
        sellers.state as seller_state,
        aggregated.orders,
        aggregated.delivered_orders,
        aggregated.on_time_orders,
        aggregated.late_orders,
        cast(aggregated.on_time_orders / nullif(aggregated.delivered_orders, 0) as decimal(9, 4))
            as on_time_share,
        cast(aggregated.avg_delivery_days as decimal(10, 2)) as avg_delivery_days,
        cast(aggregated.avg_delay_days as decimal(10, 2)) as avg_delay_days
    from aggregated
    left join sellers on aggregated.seller_id = sellers.seller_id

)

select * from final
