{#-
    The normal order quantity of every product, as this run's detection uses it.

    Training window (int_anomalies__windows): order lines (no cancellations) of the training days, minus the
    lines flagged on earlier runs and still NEW or REVIEWED; lines whose flag was RESOLVED (judged
    legitimate) count again, so a confirmed bulk order widens the normal range. Every product with lines
    in either window is listed: a product that cannot be scored says why, it is never dropped silently.
-#}
{{ config(meta={'gold': true}) }}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

windows as (

    select * from {{ ref('int_anomalies__windows') }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

lines_under_review as (
    {{ anomaly_ids_under_review('anomalies', 'review_status') }}
),

sold_lines as (

    select
        order_lines.order_line_key,
        order_lines.stock_code,
        order_lines.invoice_date,
        order_lines.quantity,
        windows.training_start,
        windows.detection_start,
        windows.detection_end

    from order_lines
    cross join windows
    where
        not order_lines.is_cancellation
        and order_lines.quantity > 0
        and order_lines.invoice_date >= windows.training_start
        and order_lines.invoice_date < windows.detection_end

),

training_lines as (

    select
        sold_lines.stock_code,
        sold_lines.quantity

    from sold_lines
    left anti join lines_under_review
        on sold_lines.order_line_key = lines_under_review.anomaly_id
    where sold_lines.invoice_date < sold_lines.detection_start

),

baseline_stats as (
    {{ anomaly_baseline_stats('training_lines', 'stock_code', 'quantity') }}
),

lines_to_score as (

    select
        stock_code,
        count(*) as detection_line_count

    from sold_lines
    where invoice_date >= detection_start
    group by stock_code

),

products as (

    select stock_code from baseline_stats
    union
    select stock_code from lines_to_score

),

baselines as (

    select
        products.stock_code,
        coalesce(baseline_stats.observation_count, 0) as observation_count,
        baseline_stats.baseline_median as median_quantity,
        baseline_stats.baseline_mean as mean_quantity,
        baseline_stats.baseline_stddev as stddev_quantity,
        cast({{ var('anomaly_k') }} as double) as k,
        {{ anomaly_threshold('baseline_stats.baseline_median', 'baseline_stats.baseline_stddev') }}
            as threshold_quantity,
        {{ anomaly_not_scored_reason('baseline_stats.observation_count', 'baseline_stats.baseline_stddev') }}
            as not_scored_reason,
        coalesce(lines_to_score.detection_line_count, 0) as detection_line_count,
        windows.training_start,
        windows.detection_start,
        windows.detection_end

    from products
    cross join windows
    left join baseline_stats
        on products.stock_code = baseline_stats.stock_code
    left join lines_to_score
        on products.stock_code = lines_to_score.stock_code

),

final as (

    select
        stock_code,
        not_scored_reason is null as is_scored,
        not_scored_reason,
        observation_count,
        median_quantity,
        mean_quantity,
        stddev_quantity,
        k,
        case when not_scored_reason is null then threshold_quantity end as threshold_quantity,
        detection_line_count,
        training_start,
        detection_start,
        detection_end

    from baselines

)

select * from final
