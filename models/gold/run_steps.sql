{#- The steps of every run, in order, with their result and duration. -#}
with

steps as (

    select * from {{ gold_history('run_steps') }}

),

runs as (

    select * from {{ gold_history('pipeline_runs') }}

)

select
    steps.run_id,
    runs.flow_name,
    runs.started_at as run_started_at,
    steps.step_no,
    steps.step,
    steps.status,
    steps.result,
    steps.started_at,
    steps.seconds
from steps
inner join runs on steps.run_id = runs.run_id
