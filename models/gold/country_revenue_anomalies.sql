{#- Country-days of unusual revenue with their live review status. -#}
with

anomalies as (

    select * from {{ gold_mart('anomalies_country_revenue') }}

),

reviews as (

    select * from {{ source('gold', 'anomaly_reviews') }}

)

select
    anomalies.anomaly_id,
    anomalies.country_id as country_code,
    anomalies.invoice_date as sales_date,
    anomalies.revenue_gbp,
    anomalies.order_line_count,
    anomalies.median_revenue_gbp as usual_revenue_gbp,
    anomalies.threshold_revenue_gbp,
    anomalies.z_score,
    anomalies.detected_at,
    coalesce(reviews.review_status, anomalies.status) as review_status,
    coalesce(reviews.review_note, anomalies.review_note) as review_note
from anomalies
left join reviews
    on anomalies.anomaly_id = reviews.anomaly_id
