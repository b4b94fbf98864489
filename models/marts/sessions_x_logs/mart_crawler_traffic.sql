{#-
    Requests per UTC day by kind of client: scanner, crawler or human, and the client's user-agent family.
    A client is an address on a day. It is a scanner when it requested a probe path that day (endpoint
    group probe: /wp-*, /.env, /.git...) or sent a scanner's agent (var access_log_scanner_agent_pattern,
    or no agent at all); else a request is a crawler's when its agent is a known bot (enrich.user_agents,
    the ua-parser lookup of the clickstream: is_bot), or, for an agent the lookup has not seen, when it
    matches var access_log_crawler_agent_pattern; else human. client_name is the lookup's browser family
    ('unknown' when the agent is not in the lookup). The load balancer's health checks are left out.
-#}
with

requests as (

    select * from {{ ref('fct_http_requests') }}

),

user_agents as (

    select * from {{ source('enrich', 'user_agents') }}

),

client_requests as (

    select
        requests.request_date,
        requests.remote_addr,
        requests.user_agent,
        requests.endpoint_group,
        requests.status_code,
        requests.endpoint_group = 'probe' as is_probe,
        requests.user_agent is null
        or requests.user_agent rlike '{{ var("access_log_scanner_agent_pattern") }}' as is_scanner_agent
    from requests
    where requests.endpoint_group != 'health_check'

),

scanner_clients as (

    select
        request_date,
        remote_addr
    from client_requests
    group by request_date, remote_addr
    having max(is_probe or is_scanner_agent)

),

classified as (

    select
        client_requests.request_date,
        client_requests.remote_addr,
        client_requests.is_probe,
        client_requests.status_code,
        case
            when scanner_clients.remote_addr is not null then 'scanner'
            when user_agents.is_bot then 'crawler'
            when user_agents.user_agent is null
                and client_requests.user_agent rlike '{{ var("access_log_crawler_agent_pattern") }}'
                then 'crawler'
            else 'human'
        end as client_category,
        coalesce(user_agents.browser_family, 'unknown') as client_name
    from client_requests
    left join scanner_clients
        on
            client_requests.request_date = scanner_clients.request_date
            and client_requests.remote_addr = scanner_clients.remote_addr
    left join user_agents
        on trim(client_requests.user_agent) = user_agents.user_agent

),

final as (

    select
        request_date,
        client_category,
        client_name,
        count(*) as requests,
        count(distinct remote_addr) as distinct_clients,
        count_if(is_probe) as probe_requests,
        count_if(status_code >= 400 and status_code < 500) as client_errors
    from classified
    group by request_date, client_category, client_name

)

select * from final
