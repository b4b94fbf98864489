{#-
    One row per current order line of the shop database (lines removed from an order are gone), with its
    order's status and purchase time: the grain of GMV by seller, product and day.
-#}
with

order_items as (

    select * from {{ ref('int_shop__order_items_current') }}

),

orders as (

    select * from {{ ref('int_shop__orders_current') }}

),

final as (

    select
        ---------- keys
        {{ hash_key(['order_items.order_id', 'order_items.order_item_id']) }} as order_item_key,
        order_items.order_id,
        order_items.order_item_id,
        order_items.product_id,
        order_items.seller_id,
        'shop_db' as source_system,

        ---------- the order
        orders.status as order_status,
        orders.status = 'canceled' as is_canceled,
        orders.purchased_at,
        cast(orders.purchased_at as date) as purchase_date,

        ---------- the line
        order_items.shipping_limit_at,
        order_items.price,
        order_items.freight_value,
        order_items.updated_at as last_changed_at

    from order_items
    left join orders on order_items.order_id = orders.order_id

)

select * from final
