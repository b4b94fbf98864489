-- Every landed access-log line is a request in fct_http_requests or quarantined, per batch; and no line is
-- missing from its file (line numbers 1..n).
select
    batch_id,
    landed_lines,
    last_line_number,
    parsed_lines,
    quarantined_lines,
    unreconciled_lines
from {{ ref('audit_access_log_reconciliation') }}
where unreconciled_lines <> 0
    or last_line_number <> landed_lines
