{#- Open quarantined order lines per failure reason at the end of every run (a line may have several). -#}
with

quarantine as (

    select * from {{ gold_history('quarantine_by_reason') }}

)

select
    run_id,
    recorded_at,
    reason,
    open_lines
from quarantine
