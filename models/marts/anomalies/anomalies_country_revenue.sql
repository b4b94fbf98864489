{#-
    Volume anomalies: one row per country and day whose revenue (GBP, cancellations excluded) is above
    median + k * stddev of the country's daily revenue (anomaly_country_revenue_baselines), in the
    detection window. Incremental merge on anomaly_id: flagged once, review status never reset. A day is
    judged on the revenue known when it is first flagged (a day still filling up is judged again later).
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
    'anomaly_id', 'country_id', 'invoice_date', 'revenue_gbp', 'order_line_count',
    'median_revenue_gbp', 'mean_revenue_gbp', 'stddev_revenue_gbp', 'observation_count', 'k',
    'threshold_revenue_gbp', 'z_score',
] %}

with

country_days as (

    select * from {{ ref('int_anomalies__country_daily_revenue') }}

),

baselines as (

    select * from {{ ref('anomaly_country_revenue_baselines') }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

days_scored as (

    select
        country_days.*,
        baselines.median_revenue_gbp,
        baselines.mean_revenue_gbp,
        baselines.stddev_revenue_gbp,
        baselines.observation_count,
        baselines.k,
        baselines.threshold_revenue_gbp,
        {{ anomaly_z_score(
            'country_days.revenue_gbp', 'baselines.mean_revenue_gbp', 'baselines.stddev_revenue_gbp'
        ) }} as z_score

    from country_days
    inner join baselines
        on country_days.country_id = baselines.country_id
    where country_days.in_detection_window and baselines.is_scored

),

already_flagged as (
    {{ anomaly_ids_flagged_before() }}
),

new_flags as (

    select days_scored.*
    from days_scored
    left anti join already_flagged
        on days_scored.anomaly_id = already_flagged.anomaly_id
    where days_scored.revenue_gbp > days_scored.threshold_revenue_gbp

),

merged as (
    {{ anomaly_merge_rows('new_flags', 'review_status', detection_columns) }}
)

select * from merged
