{#- Carts left without a purchase, valued at the list price in effect when the product was last added. -#}
with

carts as (

    select * from {{ gold_mart('mart_abandoned_carts') }}

)

select
    session_key,
    visitor_id as visitor_key,
    customer_id as customer_key,
    abandoned_date,
    device_type,
    traffic_source,
    cart_started_at,
    last_cart_event_at,
    units,
    distinct_products,
    currency_code,
    cart_value,
    window_hours
from carts
