{#-
    The candidate events of this run (incoming, and the kept events of the sessions they touch) put into
    sessions, enriched with the user-agent and IP-country lookups, and judged human or bot per session.

    Sessions: the tracker's session id where there is one; otherwise the visitor's events ordered in time,
    a new session starting when the gap to the previous event exceeds var session_inactivity_minutes
    (a gap of exactly that length continues the session).
    Bot rules, in priority order (bot_rule is the first that applies, bot_rules all of them):
      known_bot_agent      an event of the session has an agent ua-parser knows as a crawler or script
      too_fast             at least var bot_min_events events and more than var bot_max_events_per_minute
      no_pauses            at least var bot_min_events events and no gap of var bot_min_pause_seconds or more
-#}
{{ config(materialized='table', schema='intermediate') }}

{%- set gap_seconds = var('session_inactivity_minutes', 30) * 60 -%}
{%- set min_events = var('bot_min_events', 10) -%}
{%- set max_per_minute = var('bot_max_events_per_minute', 30) -%}
{%- set min_pause = var('bot_min_pause_seconds', 2) %}

with

events_to_process as (

    select * from {{ ref('int_clickstream__events_to_process') }}

),

user_agents as (

    select * from {{ source('enrich', 'user_agents') }}

),

ip_countries as (

    select * from {{ source('enrich', 'ip_countries') }}

),

candidate_events as (

    select
        *,
        cast(event_ts as double) as event_epoch
    from events_to_process
    where event_status = 'candidate'

),

gaps_marked as (

    select
        *,
        case
            when session_id is not null then 0
            when lag(event_epoch) over by_visitor is null then 1
            when event_epoch - (lag(event_epoch) over by_visitor) > {{ gap_seconds }} then 1
            else 0
        end as starts_gap_session
    from candidate_events
    window by_visitor as (
        partition by case when session_id is null then visitor_id end
        order by event_epoch, event_id
    )

),

gap_sessions_numbered as (

    select
        *,
        sum(starts_gap_session) over (
            partition by case when session_id is null then visitor_id end
            order by event_epoch, event_id
            rows between unbounded preceding and current row
        ) as gap_session_number
    from gaps_marked

),

sessions_keyed as (

    select
        *,
        case
            when session_id is not null then {{ hash_key(["'tracker'", 'session_id']) }}
            else {{ hash_key([
                "'inactivity_gap'", 'visitor_id',
                'min(event_ts) over (partition by visitor_id, session_id, gap_session_number)',
            ]) }}
        end as session_key,
        case when session_id is not null then 'tracker' else 'inactivity_gap' end as session_source
    from gap_sessions_numbered

),

events_ordered as (

    select
        sessions_keyed.*,
        row_number() over by_session as event_sequence,
        sessions_keyed.event_epoch - (lag(sessions_keyed.event_epoch) over by_session)
            as seconds_since_previous_event,
        (lead(sessions_keyed.event_epoch) over by_session) - sessions_keyed.event_epoch
            as seconds_to_next_event,
        coalesce(user_agents.is_bot, false) as is_bot_agent,
        coalesce(user_agents.browser_family, 'Other') as browser_family,
        coalesce(user_agents.os_family, 'Other') as os_family,
        coalesce(user_agents.device_family, 'Other') as device_family,
        ip_countries.country_id as ip_country_id
    from sessions_keyed
    left join user_agents
        on sessions_keyed.user_agent = user_agents.user_agent
    left join ip_countries
        on sessions_keyed.ip_address = ip_countries.ip_address
    window by_session as (partition by session_key order by event_epoch, event_id)

),

session_behaviour as (

    select
        session_key,
        count(*) as session_events,
        max(cast(is_bot_agent as int)) = 1 as has_bot_agent,
        (max(event_epoch) - min(event_epoch)) / 60.0 as session_minutes,
        coalesce(max(seconds_since_previous_event), 0) as longest_pause_seconds
    from events_ordered
    group by session_key

),

session_verdicts as (

    select
        session_key,
        filter(array(
            case when has_bot_agent then 'known_bot_agent' end,
            case
                when session_events >= {{ min_events }}
                    and session_events / greatest(session_minutes, 1.0 / 60) > {{ max_per_minute }}
                    then 'too_fast'
            end,
            case
                when session_events >= {{ min_events }} and longest_pause_seconds < {{ min_pause }}
                    then 'no_pauses'
            end
        ), rule -> rule is not null) as bot_rules
    from session_behaviour

),

final as (

    select
        ---------- keys
        events_ordered.event_id,
        events_ordered.session_key,
        events_ordered.session_source,
        events_ordered.session_id,
        events_ordered.visitor_id,
        events_ordered.customer_id,
        events_ordered.stock_code,

        ---------- event
        events_ordered.event_type,
        events_ordered.event_ts,
        events_ordered.event_time_raw,
        events_ordered.event_sequence,
        events_ordered.seconds_since_previous_event,
        events_ordered.seconds_to_next_event,

        ---------- page and context
        events_ordered.page_url,
        events_ordered.page_path,
        events_ordered.device_type,
        events_ordered.traffic_source,
        events_ordered.referrer,
        events_ordered.referrer_host,
        events_ordered.ip_address,
        events_ordered.ip_country_id,
        events_ordered.user_agent,
        events_ordered.browser_family,
        events_ordered.os_family,
        events_ordered.device_family,

        ---------- bot verdict of the session (null rule = human)
        try_element_at(session_verdicts.bot_rules, 1) as bot_rule,
        nullif(array_join(session_verdicts.bot_rules, ','), '') as bot_rules,

        ---------- lineage
        events_ordered.event_origin,
        events_ordered.raw_payload,
        events_ordered._batch_id,
        events_ordered._source_file,
        events_ordered._row_number,
        events_ordered._ingested_at

    from events_ordered
    inner join session_verdicts
        on events_ordered.session_key = session_verdicts.session_key

)

select * from final
