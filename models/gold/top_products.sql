with

products as (

    select * from {{ gold_mart('mart_top_products') }}

)

select
    stock_code as product_code,
    product_name as product,
    category as product_category,
    currency_code as reporting_currency,
    quantity as net_quantity,
    revenue as net_revenue,
    invoices as invoice_count,
    rank_by_quantity,
    rank_by_revenue
from products
where rank_by_revenue <= 20 or rank_by_quantity <= 20
