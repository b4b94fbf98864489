with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

by_device as (

    select
        device_type,
        browser_family,
        os_family,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count_if(is_converted) as converted_sessions
    from sessions
    group by device_type, browser_family, os_family

),

final as (

    select
        device_type,
        browser_family,
        os_family,
        sessions,
        visitors,
        converted_sessions,
        cast(converted_sessions / sessions as decimal(9, 4)) as conversion_rate,
        cast(sessions / sum(sessions) over () as decimal(9, 4)) as share_of_sessions
    from by_device

)

select * from final
