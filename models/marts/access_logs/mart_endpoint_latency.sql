{#-
    Latency per UTC day and endpoint group, from the servers that log it (the nginx timed format; Combined
    lines have no time): exact percentiles (Spark's percentile: linear interpolation between the two
    nearest values, as numpy's default), so a figure can be checked against the log file.
-#}
with

requests as (

    select * from {{ ref('fct_http_requests') }}

),

timed as (

    select * from requests
    where request_time_s is not null

),

per_endpoint as (

    select
        request_date,
        endpoint_group,
        count(*) as timed_requests,
        percentile(request_time_s, array(0.5, 0.95, 0.99)) as request_time_percentiles,
        percentile(upstream_time_s, 0.95) as upstream_time_p95_s,
        max(request_time_s) as request_time_max_s,
        count_if(request_time_s >= 1) as slow_requests
    from timed
    group by request_date, endpoint_group

),

final as (

    select
        request_date,
        endpoint_group,
        timed_requests,
        request_time_percentiles[0] as request_time_p50_s,
        request_time_percentiles[1] as request_time_p95_s,
        request_time_percentiles[2] as request_time_p99_s,
        request_time_max_s,
        upstream_time_p95_s,
        slow_requests
    from per_endpoint

)

select * from final
