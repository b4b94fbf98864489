with

shop_payments_mix as (

    select * from {{ gold_mart('mart_shop_payments_mix') }}

)

select
    source_system,
    purchase_month,
    payment_type,
    payments,
    orders,
    payment_value,
    avg_installments,
    share_of_month_value
from shop_payments_mix
