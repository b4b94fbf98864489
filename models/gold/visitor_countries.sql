with

visitors as (

    select * from {{ gold_mart('mart_visitor_countries') }}

)

select
    country_id as country_code,
    country_name as country,
    visitors,
    sessions,
    converted_sessions,
    conversion_rate,
    visitor_rank
from visitors
