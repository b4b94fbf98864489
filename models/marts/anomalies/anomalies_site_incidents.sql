{#-
    Site incidents: windows of minutes whose server-error rate (5xx / requests, every server's access log)
    is above the anomaly rule's threshold, one row per window (anomaly type site_incident).

    - A minute is judged when it had at least site_incident_min_requests requests.
    - Its baseline is the last site_incident_baseline_minutes judged minutes before it that were not failing
      themselves (error rate at most site_incident_min_error_rate): an incident does not become its own
      normal (as the other detectors leave their open flags out of their baselines), and a long incident
      keeps the baseline of the healthy hour before it. A baseline of fewer than anomaly_min_observations
      minutes is not scored.
    - The rule is the project's (macros/anomalies/anomaly_rules.sql): flagged when the error rate is above
      median + k * stddev of the baseline, and above the floor site_incident_min_error_rate. A healthy site
      has no 5xx at all (a zero stddev): the floor is then the threshold, instead of never scoring.
    - Flagged minutes make one window until site_incident_recovery_minutes judged minutes at or below the
      threshold come between two of them (a recovery), or they are more than site_incident_max_gap_minutes
      apart: quiet minutes (too few requests to judge, or no page or API call to fail) inside an incident do
      not split it. A window is written once it is closed, i.e. the logs run on past its last minute by more
      than the gap. incident_end is the start of its last flagged minute.

    Incremental merge on anomaly_id (hash of the type and the window's first minute), as the other anomaly
    marts: a flag is written once with what it was judged on and its review status is never reset.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='anomaly_id',
        on_schema_change='fail',
        full_refresh=false,
        meta={'gold': true},
    )
}}

{%- set detection_columns = [
    'anomaly_id', 'incident_start', 'incident_end', 'minutes', 'flagged_minutes', 'requests',
    'server_errors', 'error_rate', 'peak_error_rate', 'peak_minute', 'median_error_rate', 'mean_error_rate',
    'stddev_error_rate', 'observation_count', 'k', 'threshold_error_rate', 'z_score',
] %}
{%- set baseline_minutes = var('site_incident_baseline_minutes') %}
{%- set floor_rate = var('site_incident_min_error_rate') %}
{%- set max_gap = var('site_incident_max_gap_minutes') %}
{#- Runs with every `tag:anomalies` build: empty in a lake whose access logs were never built. -#}
{%- set requests_ref = ref('fct_http_requests') %}
{%- set requests_relation = load_relation(requests_ref) if execute else none %}
{%- set no_requests = '(select cast(null as timestamp) as request_minute, '
    ~ 'cast(null as int) as status_code where false)' %}
{%- set requests_from = requests_ref if requests_relation is not none else no_requests %}

with

requests as (

    select
        request_minute,
        status_code
    from {{ requests_from }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

per_minute as (

    select
        request_minute,
        count(*) as requests,
        count_if(status_code >= 500) as server_errors
    from requests
    group by request_minute

),

judged_minutes as (

    select
        request_minute,
        requests,
        server_errors,
        cast(server_errors / requests as double) as error_rate,
        server_errors / requests <= {{ floor_rate }} as is_healthy
    from per_minute
    where requests >= {{ var('site_incident_min_requests') }}

),

-- healthy minutes numbered in time order; each judged minute knows how many came before it
judged_minutes_numbered as (

    select
        request_minute,
        error_rate,
        is_healthy,
        coalesce(
            count_if(is_healthy) over (
                order by request_minute rows between unbounded preceding and 1 preceding
            ),
            0
        ) as healthy_minutes_before
    from judged_minutes

),

-- each healthy minute is an observation of the baselines of the judged minutes that have it among the
-- last site_incident_baseline_minutes healthy minutes before them
baseline_observations as (

    select
        judged_minutes_numbered.error_rate,
        served.served_position as healthy_minutes_before
    from judged_minutes_numbered
        lateral view explode(
            sequence(
                judged_minutes_numbered.healthy_minutes_before + 1,
                judged_minutes_numbered.healthy_minutes_before + {{ baseline_minutes }}
            )
        ) served as served_position
    where judged_minutes_numbered.is_healthy

),

baselines as (
    {{ anomaly_baseline_stats('baseline_observations', 'healthy_minutes_before', 'error_rate') }}
),

minutes_scored as (

    select
        judged_minutes.request_minute,
        judged_minutes.requests,
        judged_minutes.server_errors,
        judged_minutes.error_rate,
        baselines.baseline_median as median_error_rate,
        baselines.baseline_mean as mean_error_rate,
        coalesce(baselines.baseline_stddev, 0) as stddev_error_rate,
        baselines.observation_count,
        cast({{ var('anomaly_k') }} as double) as k,
        greatest(
            {{ anomaly_threshold('baselines.baseline_median', 'coalesce(baselines.baseline_stddev, 0)') }},
            cast({{ floor_rate }} as double)
        ) as threshold_error_rate,
        {{ anomaly_z_score(
            'judged_minutes.error_rate', 'baselines.baseline_mean', 'baselines.baseline_stddev'
        ) }} as z_score
    from judged_minutes
    inner join judged_minutes_numbered
        on judged_minutes.request_minute = judged_minutes_numbered.request_minute
    inner join baselines
        on judged_minutes_numbered.healthy_minutes_before = baselines.healthy_minutes_before
    where baselines.observation_count >= {{ var('anomaly_min_observations') }}

),

minutes_judged as (

    select
        *,
        error_rate > threshold_error_rate as is_flagged,
        sum(case when error_rate > threshold_error_rate then 0 else 1 end) over (
            order by request_minute rows between unbounded preceding and current row
        ) as healthy_minutes_so_far
    from minutes_scored

),

-- a window goes on while the flagged minutes are at most max_gap minutes apart with fewer than
-- site_incident_recovery_minutes judged healthy minutes between them
flagged_minutes as (

    select
        *,
        case
            when lag(request_minute) over (order by request_minute)
                >= request_minute - interval {{ max_gap }} minutes
                and healthy_minutes_so_far - lag(healthy_minutes_so_far) over (order by request_minute)
                < {{ var('site_incident_recovery_minutes') }}
                then 0
            else 1
        end as starts_window
    from minutes_judged
    where is_flagged

),

windowed_minutes as (

    select
        *,
        sum(starts_window) over (order by request_minute rows unbounded preceding) as window_number
    from flagged_minutes

),

peaks as (

    select
        window_number,
        max_by(request_minute, error_rate) as peak_minute,
        max(error_rate) as peak_error_rate,
        max_by(median_error_rate, error_rate) as median_error_rate,
        max_by(mean_error_rate, error_rate) as mean_error_rate,
        max_by(stddev_error_rate, error_rate) as stddev_error_rate,
        max_by(observation_count, error_rate) as observation_count,
        max_by(k, error_rate) as k,
        max_by(threshold_error_rate, error_rate) as threshold_error_rate,
        max_by(z_score, error_rate) as z_score,
        min(request_minute) as incident_start,
        max(request_minute) as incident_end,
        count(*) as flagged_minutes
    from windowed_minutes
    group by window_number

),

newest_minute as (

    select max(request_minute) as request_minute from per_minute

),

closed_windows as (

    select peaks.*
    from peaks
    cross join newest_minute
    where peaks.incident_end < newest_minute.request_minute - interval {{ max_gap }} minutes

),

windows as (

    select
        {{ hash_key(["'site_incident'", 'closed_windows.incident_start']) }} as anomaly_id,
        closed_windows.incident_start,
        closed_windows.incident_end,
        cast(
            (unix_seconds(closed_windows.incident_end) - unix_seconds(closed_windows.incident_start)) / 60 + 1
            as bigint
        ) as minutes,
        closed_windows.flagged_minutes,
        sum(per_minute.requests) as requests,
        sum(per_minute.server_errors) as server_errors,
        cast(sum(per_minute.server_errors) / sum(per_minute.requests) as double) as error_rate,
        closed_windows.peak_error_rate,
        closed_windows.peak_minute,
        closed_windows.median_error_rate,
        closed_windows.mean_error_rate,
        closed_windows.stddev_error_rate,
        closed_windows.observation_count,
        closed_windows.k,
        closed_windows.threshold_error_rate,
        closed_windows.z_score
    from closed_windows
    inner join per_minute
        on
            closed_windows.incident_start <= per_minute.request_minute
            and closed_windows.incident_end >= per_minute.request_minute
    group by
        closed_windows.incident_start,
        closed_windows.incident_end,
        closed_windows.flagged_minutes,
        closed_windows.peak_error_rate,
        closed_windows.peak_minute,
        closed_windows.median_error_rate,
        closed_windows.mean_error_rate,
        closed_windows.stddev_error_rate,
        closed_windows.observation_count,
        closed_windows.k,
        closed_windows.threshold_error_rate,
        closed_windows.z_score

),

already_flagged as (
    {{ anomaly_ids_flagged_before() }}
),

new_flags as (

    select windows.*
    from windows
    left anti join already_flagged
        on windows.anomaly_id = already_flagged.anomaly_id

),

merged as (
    {{ anomaly_merge_rows('new_flags', 'review_status', detection_columns) }}
)

select * from merged
