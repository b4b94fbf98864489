{#-
    Carts with no purchase by the same visitor within var abandoned_cart_window_hours of the last cart
    event, once that window has passed (relative to the newest event in the fact). The value is the net
    quantity left in the cart (adds minus removes) at the list price of the product version in effect
    when the product was last added.
-#}
{%- set window_hours = var('abandoned_cart_window_hours', 24) %}

with

events as (

    select * from {{ ref('fct_events') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

cart_lines as (

    select
        session_key,
        stock_code,
        count_if(event_type = 'add_to_cart') - count_if(event_type = 'remove_from_cart') as quantity,
        max_by(product_sk, case when event_type = 'add_to_cart' then event_ts end) as product_sk
    from events
    where event_type in ('add_to_cart', 'remove_from_cart')
    group by session_key, stock_code

),

carts as (

    select
        session_key,
        min(visitor_id) as visitor_id,
        min(customer_id) as customer_id,
        min(device_type) as device_type,
        min(traffic_source) as traffic_source,
        min(event_ts) as cart_started_at,
        max(event_ts) as last_cart_event_at
    from events
    where event_type in ('add_to_cart', 'remove_from_cart')
    group by session_key

),

purchases as (

    select
        visitor_id,
        event_ts as purchased_at
    from events
    where event_type = 'purchase'

),

horizon as (

    select max(event_ts) as newest_event_at from events

),

abandoned as (

    select carts.*
    from carts
    cross join horizon
    where carts.last_cart_event_at + interval {{ window_hours }} hours <= horizon.newest_event_at
        and not exists (
            select 1
            from purchases
            where purchases.visitor_id = carts.visitor_id
                and purchases.purchased_at >= carts.cart_started_at
                and purchases.purchased_at <= carts.last_cart_event_at + interval {{ window_hours }} hours
        )

),

cart_values as (

    select
        cart_lines.session_key,
        cast(sum(cart_lines.quantity) as bigint) as units,
        count(*) as distinct_products,
        cast(sum(cart_lines.quantity * products.unit_price) as decimal(18, 2)) as cart_value
    from cart_lines
    left join products
        on cart_lines.product_sk = products.product_sk
    where cart_lines.quantity > 0
    group by cart_lines.session_key

),

final as (

    select
        abandoned.session_key,
        abandoned.visitor_id,
        abandoned.customer_id,
        cast(abandoned.last_cart_event_at as date) as abandoned_date,
        abandoned.device_type,
        abandoned.traffic_source,
        abandoned.cart_started_at,
        abandoned.last_cart_event_at,
        cart_values.units,
        cart_values.distinct_products,
        'GBP' as currency_code,
        cart_values.cart_value,
        {{ window_hours }} as window_hours
    from abandoned
    inner join cart_values
        on abandoned.session_key = cart_values.session_key

)

select * from final
