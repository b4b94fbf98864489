{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

current_products as (

    select
        stock_code,
        product_name,
        category
    from products
    where is_current

),

product_sales as (

    select
        stock_code,
        cast(sum(quantity) as bigint) as quantity,
        cast(sum(amount_reporting) as decimal(18, 2)) as revenue,
        count(distinct invoice_no) as invoices
    from order_lines
    where line_type = 'sale'
    group by stock_code

),

final as (

    select
        product_sales.stock_code,
        current_products.product_name,
        current_products.category,
        '{{ var("reporting_currency") }}' as currency_code,
        product_sales.quantity,
        product_sales.revenue,
        product_sales.invoices,
        cast(rank() over (order by product_sales.quantity desc) as int) as rank_by_quantity,
        cast(rank() over (order by product_sales.revenue desc) as int) as rank_by_revenue
    from product_sales
    left join current_products
        on product_sales.stock_code = current_products.stock_code

)

select * from final
