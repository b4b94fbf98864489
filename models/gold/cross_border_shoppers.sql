with

shoppers as (

    select * from {{ gold_mart('mart_cross_border_shoppers') }}

)

select
    customer_id as customer_key,
    countries as country_count,
    country_ids as country_codes,
    orders as order_count,
    currency_code as reporting_currency,
    revenue as net_revenue
from shoppers
