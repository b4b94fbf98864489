{#- Requests per day by kind of client (crawler, scanner, human) and user-agent family. -#}
with

traffic as (

    select * from {{ gold_mart('mart_crawler_traffic') }}

)

select
    request_date,
    client_category,
    client_name,
    requests,
    distinct_clients,
    probe_requests,
    client_errors
from traffic
