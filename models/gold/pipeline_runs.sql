{#-
    Every flow run that wrote to the lake, succeeded or failed, with its rows per layer at the end and what
    each layer gained since the previous run that counted them (flows/history.py).
-#}
with

runs as (

    select * from {{ gold_history('pipeline_runs') }}

),

gains as (

    select
        run_id,
        raw_order_lines - lag(raw_order_lines) over by_start as raw_lines_gained,
        fact_order_lines - lag(fact_order_lines) over by_start as fact_lines_gained,
        (quarantine_open + quarantine_recovered)
        - lag(quarantine_open + quarantine_recovered) over by_start as quarantined_lines_in,
        quarantine_recovered - lag(quarantine_recovered) over by_start as recovered_lines_out
    from runs
    where fact_order_lines is not null
    window by_start as (order by started_at)

)

select
    runs.run_id,
    runs.flow_name,
    runs.title,
    runs.started_at,
    runs.ended_at,
    (runs.started_at at time zone 'UTC')::date as run_date,
    runs.status,
    runs.error,
    runs.seconds,
    runs.rows_landed,
    runs.raw_order_lines,
    runs.fact_order_lines,
    runs.quarantine_open,
    runs.quarantine_recovered,
    runs.rows_exported,
    runs.anomalies_flagged,
    runs.anomalies_new,
    gains.raw_lines_gained,
    gains.fact_lines_gained,
    gains.quarantined_lines_in,
    gains.recovered_lines_out
from runs
left join gains on runs.run_id = gains.run_id
