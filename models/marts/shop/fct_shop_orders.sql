{#-
    The order lifecycle as an accumulating snapshot: one row per order of the shop database (its current
    state; a deleted order is gone), a timestamp per milestone, lead times between them, the delivery
    against the estimate, and the order's items and payments summed. Rebuilt in full from the current
    state, so a milestone reached since the last build fills its column in place.
-#}
with

orders as (

    select * from {{ ref('int_shop__orders_current') }}

),

order_items as (

    select * from {{ ref('int_shop__order_items_current') }}

),

payments as (

    select * from {{ ref('int_shop__order_payments_current') }}

),

customer_versions as (

    select * from {{ ref('dim_shop_customers') }}

),

items_per_order as (

    select
        order_id,
        count(*) as item_count,
        count(distinct seller_id) as seller_count,
        sum(price) as items_value,
        sum(freight_value) as freight_value
    from order_items
    group by order_id

),

payments_per_order as (

    select
        order_id,
        count(*) as payment_count,
        sum(payment_value) as payment_value
    from payments
    group by order_id

),

-- the customer's version in effect when the order was placed; when the order is older than every landed
-- version (a change before the first extraction hides the earlier ones), the first landed version
customer_at_purchase as (

    select
        orders.order_id,
        customer_versions.customer_sk,
        customer_versions.state as customer_state,
        row_number() over (
            partition by orders.order_id
            order by
                case when customer_versions.valid_from <= orders.purchased_at then 0 else 1 end,
                -- in effect: the latest such version; none in effect: the earliest
                case
                    when customer_versions.valid_from <= orders.purchased_at
                        then -cast(customer_versions.valid_from as double)
                    else cast(customer_versions.valid_from as double)
                end
        ) as version_rank
    from orders
    inner join customer_versions on orders.customer_id = customer_versions.customer_id

),

milestones as (

    select
        orders.order_id,
        orders.customer_id,
        customer_at_purchase.customer_sk,
        customer_at_purchase.customer_state,
        orders.status,
        orders.purchased_at,
        orders.approved_at,
        orders.shipped_at,
        orders.delivered_at,
        orders.canceled_at,
        orders.estimated_delivery_date,
        orders.updated_at,
        coalesce(items_per_order.item_count, 0) as item_count,
        coalesce(items_per_order.seller_count, 0) as seller_count,
        coalesce(items_per_order.items_value, 0) as items_value,
        coalesce(items_per_order.freight_value, 0) as freight_value,
        coalesce(payments_per_order.payment_count, 0) as payment_count,
        coalesce(payments_per_order.payment_value, 0) as payment_value
    from orders
    left join customer_at_purchase
        on orders.order_id = customer_at_purchase.order_id and customer_at_purchase.version_rank = 1
    left join items_per_order on orders.order_id = items_per_order.order_id
    left join payments_per_order on orders.order_id = payments_per_order.order_id

),

final as (

    select
        ---------- keys
        order_id,
        customer_id,
        customer_sk,
        customer_state,
        'shop_db' as source_system,

        ---------- status and milestones (UTC)
        status,
        purchased_at,
        cast(purchased_at as date) as purchase_date,
        approved_at,
        shipped_at,
        delivered_at,
        canceled_at,
        estimated_delivery_date,
        status = 'delivered' as is_delivered,
        status = 'canceled' as is_canceled,

        ---------- lead times
        cast((cast(approved_at as double) - cast(purchased_at as double)) / 3600 as decimal(10, 2))
            as hours_to_approval,
        cast((cast(shipped_at as double) - cast(purchased_at as double)) / 86400 as decimal(10, 2))
            as days_to_shipping,
        cast((cast(delivered_at as double) - cast(shipped_at as double)) / 86400 as decimal(10, 2))
            as days_in_transit,
        cast((cast(delivered_at as double) - cast(purchased_at as double)) / 86400 as decimal(10, 2))
            as days_to_delivery,

        ---------- delivery against the estimate (delivered orders only)
        datediff(cast(delivered_at as date), estimated_delivery_date) as delivery_delay_days,
        case
            when delivered_at is not null
                then cast(delivered_at as date) > estimated_delivery_date
        end as is_late,

        ---------- items and payments
        item_count,
        seller_count,
        cast(items_value as decimal(14, 2)) as items_value,
        cast(freight_value as decimal(14, 2)) as freight_value,
        cast(items_value + freight_value as decimal(14, 2)) as order_value,
        payment_count,
        cast(payment_value as decimal(14, 2)) as payment_value,

        ---------- lineage
        updated_at as last_changed_at

    from milestones

)

select * from final
