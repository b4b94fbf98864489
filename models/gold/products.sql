{#- Every version of every product (SCD2): the price, name and category in effect in [valid_from, valid_to). -#}
with

products as (

    select * from {{ gold_mart('dim_products') }}

)

select
    product_sk as product_version_key,
    stock_code as product_code,
    product_name as product,
    category as product_category,
    unit_price as list_price,
    currency_code,
    price_date as price_effective_date,
    valid_from,
    valid_to,
    is_current
from products
