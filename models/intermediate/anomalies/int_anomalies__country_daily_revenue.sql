{{ config(materialized='ephemeral') }}

{#-
    Revenue per country and day (GBP, cancellations excluded) over the training and detection windows: the
    observations of the volume detector, with the id a flag on that day gets.
-#}
with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

windows as (

    select * from {{ ref('int_anomalies__windows') }}

),

country_days as (

    select
        {{ hash_key(["'country_daily_revenue'", 'order_lines.country_id', 'order_lines.invoice_date']) }}
            as anomaly_id,
        order_lines.country_id,
        order_lines.invoice_date,
        cast(sum(order_lines.amount_gbp) as double) as revenue_gbp,
        count(*) as order_line_count,
        order_lines.invoice_date >= windows.detection_start as in_detection_window

    from order_lines
    cross join windows
    where
        not order_lines.is_cancellation
        and order_lines.invoice_date >= windows.training_start
        and order_lines.invoice_date < windows.detection_end
    group by
        order_lines.country_id,
        order_lines.invoice_date,
        windows.detection_start

)

select * from country_days
