{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

lines_described as (

    select
        order_lines.invoice_date,
        order_lines.country_id,
        countries.country_name,
        products.category,
        order_lines.line_type,
        order_lines.invoice_no,
        order_lines.is_cancellation,
        order_lines.quantity,
        order_lines.amount_reporting
    from order_lines
    left join products
        on order_lines.product_sk = products.product_sk
    left join countries
        on order_lines.country_id = countries.country_id

),

daily_sales as (

    select
        invoice_date as sales_date,
        country_id,
        max(country_name) as country_name,
        category,
        line_type,
        '{{ var("reporting_currency") }}' as currency_code,
        cast(sum(amount_reporting) as decimal(18, 2)) as revenue,
        cast(sum(quantity) as bigint) as quantity,
        count(distinct case when not is_cancellation then invoice_no end) as orders,
        count(distinct case when is_cancellation then invoice_no end) as cancellations
    from lines_described
    group by invoice_date, country_id, category, line_type

),

final as (

    select
        sales_date,
        country_id,
        country_name,
        category,
        line_type,
        currency_code,
        revenue,
        quantity,
        orders,
        cancellations,
        cast(case when orders > 0 then revenue / orders end as decimal(18, 2)) as average_order_value
    from daily_sales

)

select * from final
