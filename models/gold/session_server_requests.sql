{#- Each clickstream session with the server requests its visitor made (4xx, 5xx, slow) and its funnel stage. -#}
with

sessions as (

    select * from {{ gold_mart('mart_session_server_requests') }}

)

select
    session_key,
    session_id,
    session_date,
    session_start_ts,
    session_end_ts,
    funnel_stage,
    requests,
    client_errors,
    server_errors,
    slow_requests,
    saw_server_error
from sessions
