-- Every landed clickstream event is in fct_events, in the bot mart, quarantined or a removed duplicate.
select
    batch_id,
    landed_events,
    fact_events,
    bot_events,
    quarantined_events,
    duplicate_events,
    unreconciled_events
from {{ ref('audit_clickstream_reconciliation') }}
where unreconciled_events <> 0
