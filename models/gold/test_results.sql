{#- Every data and unit test of every run, and whether it failed. -#}
with

nodes as (

    select * from {{ ref('node_runs') }}

)

select
    run_id,
    flow_name,
    run_started_at,
    command,
    unique_id,
    node_name as test_name,
    resource_type,
    attached_node,
    status,
    status in ('fail', 'error', 'runtime error') as failed,
    failures,
    message,
    execution_seconds
from nodes
where resource_type in ('test', 'unit_test')
