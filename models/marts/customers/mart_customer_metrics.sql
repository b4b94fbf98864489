{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

current_customers as (

    select
        customer_id,
        segment,
        country_id
    from customers
    where is_current

),

customer_orders as (

    select
        customer_id,
        min(invoice_date) as first_order_date,
        max(invoice_date) as last_order_date,
        count(distinct case when not is_cancellation then invoice_no end) as orders,
        cast(sum(amount_reporting) as decimal(18, 2)) as lifetime_value
    from order_lines
    where customer_id is not null
    group by customer_id

),

as_of as (

    select max(invoice_date) as reference_date from order_lines

),

scored as (

    select
        customer_orders.*,
        datediff(as_of.reference_date, customer_orders.last_order_date) as recency_days,
        ntile(5) over (order by customer_orders.last_order_date) as recency_score,
        ntile(5) over (order by customer_orders.orders) as frequency_score,
        ntile(5) over (order by customer_orders.lifetime_value) as monetary_score
    from customer_orders
    cross join as_of

),

final as (

    select
        scored.customer_id,
        current_customers.segment as customer_segment,
        current_customers.country_id,
        scored.first_order_date,
        scored.last_order_date,
        cast(scored.orders as bigint) as orders,
        '{{ var("reporting_currency") }}' as currency_code,
        scored.lifetime_value,
        cast(scored.recency_days as int) as recency_days,
        cast(scored.recency_score as int) as recency_score,
        cast(scored.frequency_score as int) as frequency_score,
        cast(scored.monetary_score as int) as monetary_score,
        concat(scored.recency_score, scored.frequency_score, scored.monetary_score) as rfm_score,
        case
            when scored.recency_score >= 4 and scored.frequency_score >= 4 then 'champions'
            when scored.recency_score >= 3 and scored.frequency_score >= 3 then 'loyal'
            when scored.recency_score >= 4 then 'new or promising'
            when scored.frequency_score >= 3 then 'at risk'
            else 'hibernating'
        end as rfm_segment,
        case
            when scored.orders <= 1 then '1'
            when scored.orders <= 3 then '2-3'
            when scored.orders <= 10 then '4-10'
            else '11+'
        end as order_frequency_band
    from scored
    left join current_customers
        on scored.customer_id = current_customers.customer_id

)

select * from final
