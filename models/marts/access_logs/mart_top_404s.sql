{#-
    The paths most often answered 404 Not Found, per UTC day: the top 20 (var access_log_top_404s) by
    404 responses, ties broken by path so the ranking is stable. is_probe_path marks the scanners'
    paths (endpoint group probe: /wp-*, /.env, /.git...), so dead product links stand out from probing.
-#}
{%- set top_n = var('access_log_top_404s', 20) %}
with

requests as (

    select * from {{ ref('fct_http_requests') }}

),

not_found as (

    select
        request_date,
        coalesce(url_path, request_target) as url_path,
        remote_addr,
        endpoint_group
    from requests
    where status_code = 404

),

per_path as (

    select
        request_date,
        url_path,
        count(*) as not_found_requests,
        count(distinct remote_addr) as distinct_clients,
        max(endpoint_group = 'probe') as is_probe_path
    from not_found
    group by request_date, url_path

),

ranked as (

    select
        request_date,
        url_path,
        not_found_requests,
        distinct_clients,
        is_probe_path,
        row_number() over (
            partition by request_date order by not_found_requests desc, url_path asc
        ) as rank_in_day
    from per_path

),

final as (

    select
        request_date,
        url_path,
        not_found_requests,
        distinct_clients,
        is_probe_path,
        cast(rank_in_day as int) as rank_in_day
    from ranked
    where rank_in_day <= {{ top_n }}

)

select * from final
