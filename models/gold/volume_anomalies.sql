{#- Landed batches far off their source's usual row count at that hour of day, with their live review status. -#}
with

anomalies as (

    select * from {{ gold_mart('anomalies_volume') }}

),

reviews as (

    select * from {{ source('gold', 'anomaly_reviews') }}

)

select
    anomalies.anomaly_id,
    anomalies.batch_id,
    anomalies.source as source_table,
    anomalies.file as source_file,
    anomalies.hour_of_day,
    anomalies.hour_basis,
    anomalies.batch_at,
    anomalies.started_at as landed_at,
    anomalies.volume_change,
    anomalies.rows as rows_landed,
    anomalies.median_rows as usual_rows,
    anomalies.observation_count as baseline_batches,
    anomalies.threshold_rows,
    anomalies.rows_ratio,
    anomalies.deviation_factor,
    anomalies.detected_at,
    coalesce(reviews.review_status, anomalies.status) as review_status,
    coalesce(reviews.review_note, anomalies.review_note) as review_note,
    coalesce(reviews.reviewed_by, anomalies.reviewed_by) as reviewed_by,
    coalesce(reviews.reviewed_at, anomalies.reviewed_at) as reviewed_at
from anomalies
left join reviews
    on anomalies.anomaly_id = reviews.anomaly_id
