{#-
    Implicit feedback for recommendations: per identified customer, product and day, the product views and
    cart adds of the clickstream and the purchases (product-sale order lines, cancellations left out).
-#}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

purchases as (

    select
        customer_id,
        stock_code,
        invoice_date as interaction_date,
        0 as view_events,
        0 as cart_adds,
        count(*) as purchases,
        sum(greatest(quantity, 0)) as quantity
    from order_lines
    where customer_id is not null and line_type = 'sale' and not is_cancellation
    group by customer_id, stock_code, invoice_date

),

clicks as (

    select
        customer_id,
        stock_code,
        event_date as interaction_date,
        count(case when event_type = 'view' then 1 end) as view_events,
        count(case when event_type = 'add_to_cart' then 1 end) as cart_adds,
        0 as purchases,
        0 as quantity
    from events
    where customer_id is not null and stock_code is not null
    group by customer_id, stock_code, event_date

),

interactions as (

    select
        customer_id,
        stock_code,
        interaction_date,
        sum(view_events) as view_events,
        sum(cart_adds) as cart_adds,
        sum(purchases) as purchases,
        sum(quantity) as quantity
    from (
        select * from purchases
        union all
        select * from clicks
    ) as both_sources
    group by customer_id, stock_code, interaction_date

),

final as (

    select
        customer_id,
        stock_code,
        interaction_date,
        cast(view_events as bigint) as views,  -- noqa: RF04
        cast(cart_adds as bigint) as cart_adds,
        cast(purchases as bigint) as purchases,
        cast(quantity as bigint) as quantity
    from interactions
    where view_events + cart_adds + purchases > 0

)

select * from final
