{#- dbt source freshness of every run: when each source last landed and how that compares with its thresholds. -#}
with

freshness as (

    select * from {{ gold_history('source_freshness') }}

),

runs as (

    select * from {{ gold_history('pipeline_runs') }}

)

select
    freshness.run_id,
    runs.started_at as run_started_at,
    freshness.unique_id,
    freshness.source_name,
    freshness.table_name,
    freshness.status,
    freshness.max_loaded_at,
    freshness.snapshotted_at,
    freshness.age_seconds,
    freshness.age_seconds / 3600.0 as age_hours,
    freshness.warn_after_seconds,
    freshness.error_after_seconds,
    row_number() over (
        partition by freshness.unique_id order by runs.started_at desc
    ) = 1 as is_latest
from freshness
inner join runs on freshness.run_id = runs.run_id
