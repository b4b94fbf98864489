{#-
    One row per order line flagged as anomalous: quantity above median + k * stddev of its product's
    baseline (anomaly_product_baselines), in the detection window. Incremental merge on anomaly_id (= the
    order line's key): a line is flagged once, keeps what it was detected with, and its review status (from
    the analysts' reviews in gold, copied back into the lake) is never reset by a re-run. full_refresh is
    off: a rebuild would re-date every flag (reviews would come back from the audit trail, detected_at not).
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
    'anomaly_id', 'order_line_key', 'invoice_month', 'invoice_no', 'stock_code', 'product_sk',
    'customer_id', 'customer_sk', 'country_id', 'invoice_ts', 'invoice_date', 'quantity',
    'median_quantity', 'mean_quantity', 'stddev_quantity', 'observation_count', 'k',
    'threshold_quantity', 'z_score',
] %}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

baselines as (

    select * from {{ ref('anomaly_product_baselines') }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

lines_scored as (

    select
        order_lines.order_line_key as anomaly_id,
        order_lines.order_line_key,
        order_lines.invoice_month,
        order_lines.invoice_no,
        order_lines.stock_code,
        order_lines.product_sk,
        order_lines.customer_id,
        order_lines.customer_sk,
        order_lines.country_id,
        order_lines.invoice_ts,
        order_lines.invoice_date,
        order_lines.quantity,
        baselines.median_quantity,
        baselines.mean_quantity,
        baselines.stddev_quantity,
        baselines.observation_count,
        baselines.k,
        baselines.threshold_quantity,
        {{ anomaly_z_score('order_lines.quantity', 'baselines.mean_quantity', 'baselines.stddev_quantity') }}
            as z_score

    from order_lines
    inner join baselines
        on order_lines.stock_code = baselines.stock_code
    where
        baselines.is_scored
        and not order_lines.is_cancellation
        and order_lines.invoice_date >= baselines.detection_start
        and order_lines.invoice_date < baselines.detection_end

),

already_flagged as (
    {{ anomaly_ids_flagged_before() }}
),

new_flags as (

    select lines_scored.*
    from lines_scored
    left anti join already_flagged
        on lines_scored.anomaly_id = already_flagged.anomaly_id
    where lines_scored.quantity > lines_scored.threshold_quantity

),

merged as (
    {{ anomaly_merge_rows('new_flags', 'review_status', detection_columns) }}
)

select * from merged
