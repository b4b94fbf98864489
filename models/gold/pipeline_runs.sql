{#- Every flow run that wrote to the lake, succeeded or failed, with its rows per layer (flows/history.py). -#}
with

runs as (

    select * from {{ gold_history('pipeline_runs') }}

)

select
    run_id,
    flow_name,
    title,
    started_at,
    ended_at,
    (started_at at time zone 'UTC')::date as run_date,
    status,
    error,
    seconds,
    rows_landed,
    raw_order_lines,
    fact_order_lines,
    quarantine_open,
    quarantine_recovered,
    rows_exported,
    anomalies_flagged,
    anomalies_new
from runs
