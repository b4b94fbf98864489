with

traffic as (

    select * from {{ gold_mart('mart_traffic_sources') }}

)

select
    traffic_source,
    referrer_host,
    sessions,
    visitors,
    converted_sessions,
    conversion_rate,
    share_of_sessions,
    referrer_rank,
    traffic_source_rank
from traffic
