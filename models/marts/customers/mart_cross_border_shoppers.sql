{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

customer_countries as (

    select
        customer_id,
        count(distinct country_id) as countries,
        array_sort(collect_set(country_id)) as country_ids,
        count(distinct case when not is_cancellation then invoice_no end) as orders,
        cast(sum(amount_reporting) as decimal(18, 2)) as revenue
    from order_lines
    where customer_id is not null
    group by customer_id

),

final as (

    select
        customer_id,
        cast(countries as bigint) as countries,
        concat_ws(',', country_ids) as country_ids,
        cast(orders as bigint) as orders,
        '{{ var("reporting_currency") }}' as currency_code,
        revenue
    from customer_countries
    where countries > 1

)

select * from final
