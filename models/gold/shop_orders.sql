with

shop_orders as (

    select * from {{ gold_mart('fct_shop_orders') }}

)

select
    order_id,
    customer_id,
    customer_sk,
    customer_state,
    source_system,
    status,
    purchased_at,
    purchase_date,
    approved_at,
    shipped_at,
    delivered_at,
    canceled_at,
    estimated_delivery_date,
    is_delivered,
    is_canceled,
    hours_to_approval,
    days_to_shipping,
    days_in_transit,
    days_to_delivery,
    delivery_delay_days,
    is_late,
    item_count,
    seller_count,
    items_value,
    freight_value,
    order_value,
    payment_count,
    payment_value
from shop_orders
