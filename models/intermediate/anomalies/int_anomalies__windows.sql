{{ config(materialized='ephemeral') }}

{#-
    The detection and training windows of this run, one row (dates; start inclusive, end exclusive).

    Detection: the anomaly_detection_days before anomaly_detection_end (a var; default the day after the
    newest invoice in the fact, so a replayed history detects the same way). Training: the
    anomaly_training_days before the detection window.
-#}
{%- if var('anomaly_detection_end', none) -%}
    {%- set detection_end = "max(cast('" ~ var('anomaly_detection_end') ~ "' as date))" -%}
{%- else -%}
    {%- set detection_end = 'date_add(max(invoice_date), 1)' -%}
{%- endif %}

with

order_lines as (

    select invoice_date from {{ ref('fct_order_lines') }}

),

detection_end as (

    select {{ detection_end }} as detection_end
    from order_lines

),

windows as (

    select
        date_sub(
            detection_end,
            {{ var('anomaly_detection_days') + var('anomaly_training_days') }}
        ) as training_start,
        date_sub(detection_end, {{ var('anomaly_detection_days') }}) as detection_start,
        detection_end

    from detection_end

)

select * from windows
