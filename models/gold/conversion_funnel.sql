{#- Human sessions per day, device and traffic source through view, cart, checkout and purchase. -#}
with

funnel as (

    select * from {{ gold_mart('mart_conversion_funnel') }}

)

select
    session_date,
    device_type,
    traffic_source,
    sessions,
    viewed_sessions,
    cart_sessions,
    checkout_sessions,
    purchase_sessions,
    view_to_cart_rate,
    cart_to_checkout_rate,
    checkout_to_purchase_rate,
    conversion_rate
from funnel
