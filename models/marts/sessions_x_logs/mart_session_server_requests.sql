{#-
    Each clickstream session with the server-side requests its visitor made: matched on client address and
    user agent (the session's first event's), within the session's window widened by a clock-skew tolerance
    of 60 seconds each side (var access_log_session_skew_s), so a funnel drop can be traced to the errors the
    visitor saw. A full table (the clickstream funnel marts are tables); sessions with no request keep a row.
-#}
{{ config(meta={'gold': true}) }}
{%- set skew_s = var('access_log_session_skew_s') %}
with

sessions as (

    select * from {{ ref('fct_sessions') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

requests as (

    select * from {{ ref('fct_http_requests') }}

),

session_clients as (

    select
        session_key,
        min_by(ip_address, event_sequence) as ip_address,
        min_by(user_agent, event_sequence) as user_agent
    from events
    group by session_key

),

sessions_with_client as (

    select
        sessions.session_key,
        sessions.session_id,
        sessions.session_date,
        sessions.session_start_ts,
        sessions.session_end_ts,
        session_clients.ip_address,
        session_clients.user_agent,
        case
            when sessions.is_converted then 'purchase'
            when sessions.reached_checkout then 'checkout'
            when sessions.reached_cart then 'cart'
            when sessions.reached_view then 'view'
            else 'none'
        end as funnel_stage
    from sessions
    inner join session_clients
        on sessions.session_key = session_clients.session_key

),

matched as (

    select
        sessions_with_client.session_key,
        requests.status_code,
        requests.request_time_s
    from sessions_with_client
    inner join requests
        on
            sessions_with_client.ip_address = requests.remote_addr
            and sessions_with_client.user_agent = requests.user_agent
            and requests.request_ts
            >= sessions_with_client.session_start_ts - interval {{ skew_s }} seconds
            and requests.request_ts
            <= sessions_with_client.session_end_ts + interval {{ skew_s }} seconds

),

per_session as (

    select
        session_key,
        count(*) as requests,
        count_if(status_code >= 400 and status_code < 500) as client_errors,
        count_if(status_code >= 500) as server_errors,
        count_if(request_time_s >= 1) as slow_requests
    from matched
    group by session_key

),

final as (

    select
        sessions_with_client.session_key,
        sessions_with_client.session_id,
        sessions_with_client.session_date,
        sessions_with_client.session_start_ts,
        sessions_with_client.session_end_ts,
        sessions_with_client.funnel_stage,
        coalesce(per_session.requests, 0) as requests,
        coalesce(per_session.client_errors, 0) as client_errors,
        coalesce(per_session.server_errors, 0) as server_errors,
        coalesce(per_session.slow_requests, 0) as slow_requests,
        coalesce(per_session.server_errors, 0) > 0 as saw_server_error
    from sessions_with_client
    left join per_session
        on sessions_with_client.session_key = per_session.session_key

)

select * from final
