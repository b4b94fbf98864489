{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

revenue_by_country as (

    select
        countries.continent,
        countries.region_code,
        order_lines.country_id,
        countries.country_name,
        '{{ var("reporting_currency") }}' as currency_code,
        cast(sum(order_lines.amount_reporting) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(
            case when order_lines.line_type = 'sale' then order_lines.amount_reporting end
        ), 0) as decimal(18, 2)) as product_revenue,
        cast(coalesce(sum(
            case when order_lines.line_type <> 'sale' then order_lines.amount_reporting end
        ), 0) as decimal(18, 2)) as other_revenue,
        cast(sum(
            case when order_lines.line_type = 'sale' then order_lines.quantity end
        ) as bigint) as quantity,
        count(distinct case
            when not order_lines.is_cancellation and order_lines.line_type = 'sale'
                then order_lines.invoice_no
        end) as orders,
        count(distinct order_lines.customer_id) as customers
    from order_lines
    left join countries
        on order_lines.country_id = countries.country_id
    group by countries.continent, countries.region_code, order_lines.country_id, countries.country_name

),

final as (

    select
        continent,
        region_code,
        country_id,
        country_name,
        currency_code,
        revenue,
        product_revenue,
        other_revenue,
        quantity,
        orders,
        customers,
        cast(revenue / nullif(sum(revenue) over (), 0) as decimal(9, 6)) as revenue_share
    from revenue_by_country

)

select * from final
