-- A recovered quarantine line is in the fact exactly once; an open one is not in the fact at all.
with

quarantined_lines as (

    select * from {{ ref('quarantine_order_lines') }}

),

fact_lines as (

    select * from {{ ref('fct_order_lines') }}

),

fact_counts as (

    select
        fact_lines.order_line_key,
        count(*) as fact_rows
    from fact_lines
    left semi join quarantined_lines
        on fact_lines.order_line_key = quarantined_lines.order_line_key
    group by fact_lines.order_line_key

)

select
    quarantined_lines.order_line_key,
    quarantined_lines.status,
    coalesce(fact_counts.fact_rows, 0) as fact_rows
from quarantined_lines
left join fact_counts
    on quarantined_lines.order_line_key = fact_counts.order_line_key
where (quarantined_lines.status = 'recovered' and coalesce(fact_counts.fact_rows, 0) <> 1)
    or (quarantined_lines.status = 'open' and coalesce(fact_counts.fact_rows, 0) <> 0)
