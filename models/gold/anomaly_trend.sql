{#- Flagged order lines per day and their review status, with the average threshold they crossed. -#}
with

anomalies as (

    select * from {{ ref('order_line_anomalies') }}

)

select
    invoice_date,
    count(*) as flagged_lines,
    count(*) filter (where review_status = 'NEW') as new_flags,
    count(*) filter (where review_status = 'REVIEWED') as reviewed_flags,
    count(*) filter (where review_status = 'RESOLVED') as resolved_flags,
    count(distinct product_code) as products,
    avg(threshold_quantity) as mean_threshold_quantity,
    max(z_score) as max_z_score
from anomalies
group by invoice_date
