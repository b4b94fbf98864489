{#- The usual order quantity per product the last detection used, and which products were not scored. -#}
with

baselines as (

    select * from {{ gold_mart('anomaly_product_baselines') }}

)

select
    stock_code as product_code,
    is_scored,
    not_scored_reason,
    observation_count,
    median_quantity as usual_quantity,
    mean_quantity,
    stddev_quantity,
    threshold_quantity,
    detection_line_count,
    training_start,
    detection_start,
    detection_end
from baselines
