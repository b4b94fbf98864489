{#- Site incidents (windows of minutes with an unusual 5xx rate), with their live review status. -#}
with

incidents as (

    select * from {{ gold_mart('anomalies_site_incidents') }}

),

reviews as (

    select * from {{ source('gold', 'anomaly_reviews') }}

)

select
    incidents.anomaly_id,
    incidents.incident_start,
    incidents.incident_end,
    incidents.minutes,
    incidents.flagged_minutes,
    incidents.requests,
    incidents.server_errors,
    incidents.error_rate,
    incidents.peak_error_rate,
    incidents.peak_minute,
    incidents.median_error_rate as usual_error_rate,
    incidents.threshold_error_rate,
    incidents.z_score,
    incidents.detected_at,
    coalesce(reviews.review_status, incidents.status) as review_status,
    coalesce(reviews.review_note, incidents.review_note) as review_note,
    coalesce(reviews.reviewed_by, incidents.reviewed_by) as reviewed_by,
    coalesce(reviews.reviewed_at, incidents.reviewed_at) as reviewed_at
from incidents
left join reviews
    on incidents.anomaly_id = reviews.anomaly_id
