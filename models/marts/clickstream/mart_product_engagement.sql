with

events as (

    select * from {{ ref('fct_events') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

products as (

    select * from {{ ref('dim_products') }}

),

product_events as (

    select
        events.event_date,
        events.stock_code,
        events.session_key,
        events.event_type,
        events.seconds_to_next_event,
        sessions.is_converted
    from events
    inner join sessions
        on events.session_key = sessions.session_key
    where events.stock_code is not null

),

daily_engagement as (

    select
        event_date,
        stock_code,
        count_if(event_type = 'view') as product_views,
        count(distinct case when event_type = 'view' then session_key end) as viewing_sessions,
        count(distinct case when event_type = 'add_to_cart' then session_key end) as cart_sessions,
        count(distinct case when event_type = 'add_to_cart' and is_converted then session_key end)
            as purchase_sessions,
        sum(case when event_type = 'view' then seconds_to_next_event end) as seconds_on_product_pages
    from product_events
    group by event_date, stock_code

),

current_products as (

    select
        stock_code,
        product_name,
        category
    from products
    where is_current

),

final as (

    select
        daily_engagement.event_date,
        daily_engagement.stock_code,
        current_products.product_name,
        current_products.category,
        daily_engagement.product_views,
        daily_engagement.viewing_sessions,
        daily_engagement.cart_sessions,
        daily_engagement.purchase_sessions,
        cast(daily_engagement.cart_sessions / nullif(daily_engagement.viewing_sessions, 0) as decimal(9, 4))
            as view_to_cart_rate,
        cast(
            daily_engagement.purchase_sessions / nullif(daily_engagement.viewing_sessions, 0) as decimal(9, 4)
        )
            as view_to_purchase_rate,
        cast(daily_engagement.seconds_on_product_pages as decimal(18, 3)) as seconds_on_product_pages,
        cast(
            daily_engagement.seconds_on_product_pages / nullif(daily_engagement.product_views, 0)
            as decimal(18, 3)
        ) as average_seconds_per_view
    from daily_engagement
    left join current_products
        on daily_engagement.stock_code = current_products.stock_code

)

select * from final
