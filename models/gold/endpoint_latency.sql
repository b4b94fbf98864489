with

latency as (

    select * from {{ gold_mart('mart_endpoint_latency') }}

)

select
    request_date,
    endpoint_group,
    timed_requests,
    request_time_p50_s,
    request_time_p95_s,
    request_time_p99_s,
    request_time_max_s,
    upstream_time_p95_s,
    slow_requests
from latency
