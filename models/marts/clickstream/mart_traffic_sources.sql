with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

by_referrer as (

    select
        traffic_source,
        coalesce(referrer_host, '(direct)') as referrer_host,
        count(*) as sessions,
        count(distinct visitor_id) as visitors,
        count_if(is_converted) as converted_sessions
    from sessions
    group by traffic_source, coalesce(referrer_host, '(direct)')

),

final as (

    select
        traffic_source,
        referrer_host,
        sessions,
        visitors,
        converted_sessions,
        cast(converted_sessions / sessions as decimal(9, 4)) as conversion_rate,
        cast(sessions / sum(sessions) over () as decimal(9, 4)) as share_of_sessions,
        cast(rank() over (order by sessions desc) as int) as referrer_rank,
        cast(dense_rank() over (order by sum(sessions) over (partition by traffic_source) desc) as int)
            as traffic_source_rank
    from by_referrer

)

select * from final
