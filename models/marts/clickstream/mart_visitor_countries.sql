{#-
    Visitors by country, the country being where the session's first IP address is registered
    (enrich.ip_countries, resolved offline with iptocc); 'XX' when the address is private or unknown.
-#}
with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

countries as (

    select * from {{ ref('dim_countries') }}

),

by_country as (

    select
        coalesce(country_id, 'XX') as country_id,
        count(distinct visitor_id) as visitors,
        count(*) as sessions,
        count_if(is_converted) as converted_sessions
    from sessions
    group by coalesce(country_id, 'XX')

),

final as (

    select
        by_country.country_id,
        countries.country_name,
        by_country.visitors,
        by_country.sessions,
        by_country.converted_sessions,
        cast(by_country.converted_sessions / by_country.sessions as decimal(9, 4)) as conversion_rate,
        cast(rank() over (order by by_country.visitors desc) as int) as visitor_rank
    from by_country
    left join countries
        on by_country.country_id = countries.country_id

)

select * from final
