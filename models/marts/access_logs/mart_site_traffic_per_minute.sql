{#- Site traffic per minute and endpoint group: requests, bytes, responses per status class, error rate. -#}
with

requests as (

    select * from {{ ref('fct_http_requests') }}

),

per_minute as (

    select
        request_minute,
        endpoint_group,
        count(*) as requests,
        sum(response_bytes) as response_bytes,
        count_if(status_code < 300) as success_responses,
        count_if(status_code >= 300 and status_code < 400) as redirect_responses,
        count_if(status_code >= 400 and status_code < 500) as client_errors,
        count_if(status_code >= 500) as server_errors
    from requests
    group by request_minute, endpoint_group

),

final as (

    select
        request_minute,
        cast(request_minute as date) as request_date,
        endpoint_group,
        requests,
        response_bytes,
        success_responses,
        redirect_responses,
        client_errors,
        server_errors,
        cast(server_errors / requests as decimal(9, 4)) as error_rate
    from per_minute

)

select * from final
