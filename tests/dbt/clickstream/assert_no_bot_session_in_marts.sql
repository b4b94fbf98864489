-- A session caught as a bot is never in fct_events or fct_sessions, and no event is in both marts.
with

bot_events as (

    select * from {{ ref('mart_bot_events') }}

),

fact_events as (

    select * from {{ ref('fct_events') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

)

select
    bot_events.event_id,
    bot_events.session_key
from bot_events
where bot_events.session_key in (select fact_events.session_key from fact_events)
    or bot_events.session_key in (select sessions.session_key from sessions)
    or bot_events.event_id in (select fact_events.event_id from fact_events)
