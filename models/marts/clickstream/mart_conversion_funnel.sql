with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

daily_funnel as (

    select
        session_date,
        device_type,
        traffic_source,
        count(*) as sessions,
        count_if(reached_view) as viewed_sessions,
        count_if(reached_cart) as cart_sessions,
        count_if(reached_checkout) as checkout_sessions,
        count_if(is_converted) as purchase_sessions
    from sessions
    group by session_date, device_type, traffic_source

),

final as (

    select
        session_date,
        device_type,
        traffic_source,
        sessions,
        viewed_sessions,
        cart_sessions,
        checkout_sessions,
        purchase_sessions,
        cast(cart_sessions / nullif(viewed_sessions, 0) as decimal(9, 4)) as view_to_cart_rate,
        cast(checkout_sessions / nullif(cart_sessions, 0) as decimal(9, 4)) as cart_to_checkout_rate,
        cast(purchase_sessions / nullif(checkout_sessions, 0) as decimal(9, 4)) as checkout_to_purchase_rate,
        cast(purchase_sessions / nullif(sessions, 0) as decimal(9, 4)) as conversion_rate
    from daily_funnel

)

select * from final
