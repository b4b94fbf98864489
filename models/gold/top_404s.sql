{#- The 20 paths most often answered 404 per day, scanners' probe paths marked. -#}
with

not_found as (

    select * from {{ gold_mart('mart_top_404s') }}

)

select
    request_date,
    url_path,
    not_found_requests,
    distinct_clients,
    is_probe_path,
    rank_in_day
from not_found
