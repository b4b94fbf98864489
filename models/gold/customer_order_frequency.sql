with

customer_metrics as (

    select * from {{ gold_mart('mart_customer_metrics') }}

)

select
    customer_id as customer_key,
    customer_segment,
    country_id as country_code,
    first_order_date,
    last_order_date,
    orders as order_count,
    order_frequency_band,
    currency_code as reporting_currency,
    lifetime_value,
    rfm_segment
from customer_metrics
