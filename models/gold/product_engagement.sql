with

engagement as (

    select * from {{ gold_mart('mart_product_engagement') }}

)

select
    event_date,
    stock_code as product_code,
    product_name as product,
    category as product_category,
    product_views,
    viewing_sessions,
    cart_sessions,
    purchase_sessions,
    view_to_cart_rate,
    view_to_purchase_rate,
    seconds_on_product_pages,
    average_seconds_per_view
from engagement
