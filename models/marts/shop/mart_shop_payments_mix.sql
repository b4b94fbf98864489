{#-
    Payments per payment type and month of purchase: how many, of how many orders, their value, the
    average number of instalments, and the type's share of the month's payment value. Payments of every
    order, canceled ones included (the money was taken).
-#}
with

payments as (

    select * from {{ ref('fct_shop_payments') }}

),

aggregated as (

    select
        purchase_month,
        payment_type,
        count(*) as payments,
        count(distinct order_id) as orders,
        sum(payment_value) as payment_value,
        avg(payment_installments) as avg_installments
    from payments
    group by purchase_month, payment_type

),

final as (

    select
        'shop_db' as source_system,
        purchase_month,
        payment_type,
        payments,
        orders,
        cast(payment_value as decimal(14, 2)) as payment_value,
        cast(avg_installments as decimal(6, 2)) as avg_installments,
        cast(payment_value / sum(payment_value) over (partition by purchase_month) as decimal(9, 4))
            as share_of_month_value
    from aggregated

)

select * from final
