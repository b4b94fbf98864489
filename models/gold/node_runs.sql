{#- Every dbt node of every run: status, time, rows affected, failures and the first line of its message. -#}
with

nodes as (

    select * from {{ gold_history('node_runs') }}

),

runs as (

    select * from {{ gold_history('pipeline_runs') }}

)

select
    nodes.run_id,
    runs.flow_name,
    runs.started_at as run_started_at,
    nodes.invocation_id,
    nodes.command,
    nodes.unique_id,
    nodes.node_name,
    nodes.resource_type,
    nodes.status,
    nodes.rows_affected,
    nodes.started_at,
    nodes.completed_at,
    nodes.execution_seconds,
    nodes.failures,
    nodes.message,
    nodes.attached_node
from nodes
inner join runs on nodes.run_id = runs.run_id
