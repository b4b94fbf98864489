with

order_lines as (

    select * from {{ gold_mart('fct_order_lines') }}

)

select
    order_line_key,
    invoice_no as invoice_number,
    stock_code as product_code,
    product_sk as product_version_key,
    customer_sk as customer_version_key,
    country_id as country_code,
    invoice_ts as invoiced_at,
    invoice_date,
    is_cancellation,
    quantity,
    line_type,
    price_source,
    unit_price_gbp,
    amount_gbp,
    reporting_currency,
    amount_reporting as amount_in_reporting_currency,
    _batch_id as load_batch
from order_lines
