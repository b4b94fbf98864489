{#- Flagged order lines with their live review status (analysts change it in gold.anomaly_reviews). -#}
with

anomalies as (

    select * from {{ gold_mart('anomalies') }}

),

reviews as (

    select * from {{ source('gold', 'anomaly_reviews') }}

)

select
    anomalies.anomaly_id,
    anomalies.order_line_key,
    anomalies.invoice_no as invoice_number,
    anomalies.stock_code as product_code,
    anomalies.customer_id as customer_key,
    anomalies.country_id as country_code,
    anomalies.invoice_ts as invoiced_at,
    anomalies.invoice_date,
    anomalies.quantity,
    anomalies.median_quantity as usual_quantity,
    anomalies.mean_quantity,
    anomalies.stddev_quantity,
    anomalies.threshold_quantity,
    anomalies.z_score,
    anomalies.k,
    anomalies.detected_at,
    coalesce(reviews.review_status, anomalies.status) as review_status,
    coalesce(reviews.review_note, anomalies.review_note) as review_note,
    coalesce(reviews.reviewed_by, anomalies.reviewed_by) as reviewed_by,
    coalesce(reviews.reviewed_at, anomalies.reviewed_at) as reviewed_at
from anomalies
left join reviews
    on anomalies.anomaly_id = reviews.anomaly_id
