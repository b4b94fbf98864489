{#-
    Site incidents: windows of minutes whose server-error rate (5xx / requests, every server's access log)
    is above the anomaly rule's threshold, one row per window (anomaly type site_incident).

    - A minute is judged when it had at least site_incident_min_requests requests.
    - Its baseline is the judged minutes of the site_incident_baseline_minutes before it that were not
      failing themselves (error rate at most site_incident_min_error_rate): an incident does not become its
      own normal, as the other detectors leave their open flags out of their baselines. A baseline of fewer
      than anomaly_min_observations minutes is not scored.
    - The rule is the project's (macros/anomalies/anomaly_rules.sql): flagged when the error rate is above
      median + k * stddev of the baseline, and above the floor site_incident_min_error_rate. A healthy site
      has no 5xx at all (a zero stddev): the floor is then the threshold, instead of never scoring.
    - Flagged minutes at most site_incident_max_gap_minutes apart (minutes not flagged or not judged in
      between) make one window; a window is written once it is closed, i.e. the logs run on past its last
      minute by more than the gap. incident_end is the start of its last flagged minute.

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

with

requests as (

    select * from {{ ref('fct_http_requests') }}

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
        cast(server_errors / requests as double) as error_rate
    from per_minute
    where requests >= {{ var('site_incident_min_requests') }}

),

-- each healthy judged minute is an observation of the baselines of the minutes after it
baseline_observations as (

    select
        served.judged_minute,
        judged_minutes.error_rate
    from judged_minutes
        lateral view explode(
            sequence(
                judged_minutes.request_minute + interval 1 minute,
                judged_minutes.request_minute + interval {{ baseline_minutes }} minutes,
                interval 1 minute
            )
        ) served as judged_minute
    where judged_minutes.error_rate <= {{ floor_rate }}

),

baselines as (
    {{ anomaly_baseline_stats('baseline_observations', 'judged_minute', 'error_rate') }}
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
    inner join baselines
        on judged_minutes.request_minute = baselines.judged_minute
    where baselines.observation_count >= {{ var('anomaly_min_observations') }}

),

flagged_minutes as (

    select
        *,
        case
            when lag(request_minute) over (order by request_minute)
                >= request_minute - interval {{ max_gap + 1 }} minutes
                then 0
            else 1
        end as starts_window
    from minutes_scored
    where error_rate > threshold_error_rate

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
