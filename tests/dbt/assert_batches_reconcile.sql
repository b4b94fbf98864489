-- Every landed order line is in the fact, open in the quarantine, or counted as a removed duplicate.
select
    batch_id,
    landed_rows,
    fact_rows,
    quarantined_rows,
    duplicate_rows,
    unreconciled_rows
from {{ ref('audit_batch_reconciliation') }}
where unreconciled_rows <> 0
