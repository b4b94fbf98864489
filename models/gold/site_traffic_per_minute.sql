with

traffic as (

    select * from {{ gold_mart('mart_site_traffic_per_minute') }}

)

select
    request_minute,
    request_date,
    endpoint_group,
    requests,
    response_bytes,
    success_responses,
    redirect_responses,
    client_errors,
    server_errors,
    error_rate
from traffic
