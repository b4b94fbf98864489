{#-
    One row per seller of the shop database: orders, cancellations, GMV (item prices of orders not
    canceled, freight excluded), deliveries and the late share, reviews of the seller's orders.
-#}
with

sellers as (

    select * from {{ ref('int_shop__sellers_current') }}

),

orders as (

    select * from {{ ref('fct_shop_orders') }}

),

order_items as (

    select * from {{ ref('fct_shop_order_items') }}

),

reviews as (

    select * from {{ ref('fct_shop_reviews') }}

),

sales_per_seller as (

    select
        seller_id,
        count(case when not is_canceled then order_item_key end) as items_sold,
        sum(case when not is_canceled then price else 0 end) as gmv
    from order_items
    group by seller_id

),

seller_orders as (

    select distinct
        order_items.seller_id,
        orders.order_id,
        orders.is_canceled,
        orders.is_delivered,
        orders.is_late
    from order_items
    inner join orders on order_items.order_id = orders.order_id

),

orders_per_seller as (

    select
        seller_id,
        count(*) as orders,
        count_if(is_canceled) as canceled_orders,
        count_if(is_delivered) as delivered_orders,
        count_if(is_late) as late_orders
    from seller_orders
    group by seller_id

),

reviews_per_seller as (

    select
        seller_orders.seller_id,
        count(*) as reviews,
        avg(reviews.review_score) as mean_review_score
    from reviews
    inner join seller_orders on reviews.order_id = seller_orders.order_id
    group by seller_orders.seller_id

),

final as (

    select
        'shop_db' as source_system,
        sellers.seller_id,
        sellers.seller_name,
        sellers.state as seller_state,
        sellers.created_at as seller_since,
        coalesce(orders_per_seller.orders, 0) as orders,
        coalesce(orders_per_seller.canceled_orders, 0) as canceled_orders,
        cast(orders_per_seller.canceled_orders / nullif(orders_per_seller.orders, 0) as decimal(9, 4))
            as cancellation_rate,
        coalesce(sales_per_seller.items_sold, 0) as items_sold,
        cast(coalesce(sales_per_seller.gmv, 0) as decimal(14, 2)) as gmv,
        coalesce(orders_per_seller.delivered_orders, 0) as delivered_orders,
        coalesce(orders_per_seller.late_orders, 0) as late_orders,
        cast(orders_per_seller.late_orders / nullif(orders_per_seller.delivered_orders, 0) as decimal(9, 4))
            as late_share,
        coalesce(reviews_per_seller.reviews, 0) as reviews,
        cast(reviews_per_seller.mean_review_score as decimal(4, 2)) as mean_review_score
    from sellers
    left join orders_per_seller on sellers.seller_id = orders_per_seller.seller_id
    left join sales_per_seller on sellers.seller_id = sales_per_seller.seller_id
    left join reviews_per_seller on sellers.seller_id = reviews_per_seller.seller_id

)

select * from final
