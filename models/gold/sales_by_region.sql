with

geography as (

    select * from {{ gold_mart('mart_revenue_by_geography') }}

)

select
    continent,
    region_code as sales_region,
    country_id as country_code,
    country_name as country,
    currency_code as reporting_currency,
    revenue as net_revenue,
    product_revenue,
    other_revenue,
    quantity as net_quantity,
    orders as order_count,
    customers as customer_count,
    revenue_share
from geography
