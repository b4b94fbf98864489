{#-
    One row per current payment of an order of the shop database (card, boleto, voucher, debit card; an
    order may be paid in several), with the order's status and purchase month.
-#}
with

payments as (

    select * from {{ ref('int_shop__order_payments_current') }}

),

orders as (

    select * from {{ ref('int_shop__orders_current') }}

),

final as (

    select
        ---------- keys
        {{ hash_key(['payments.order_id', 'payments.payment_sequential']) }} as payment_key,
        payments.order_id,
        payments.payment_sequential,
        'shop_db' as source_system,

        ---------- the order
        orders.status as order_status,
        orders.purchased_at,
        cast(date_trunc('month', orders.purchased_at) as date) as purchase_month,

        ---------- the payment
        payments.payment_type,
        payments.payment_installments,
        payments.payment_value,
        payments.updated_at as last_changed_at

    from payments
    left join orders on payments.order_id = orders.order_id

)

select * from final
