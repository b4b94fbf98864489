{#-
    The order lines one run has to decide on, before any lookup: the lines of batches not reconciled yet
    (new or restated), the open quarantine of the previous runs and the fact lines to revisit (prices or
    customer versions changed since the last run), each once: a key seen twice in this run, twice in its
    batch, or already in the fact from another batch is marked is_duplicate. All the Jinja of the pipeline
    lives here: the previous run's state comes from order_lines_run_state as literals, so Spark prunes
    partitions and files. A table (a view would keep those literals in the metastore, whose view text is
    limited to 32,700 characters), rebuilt by every run that builds int_order_lines__validated.
-#}
-- depends_on: {{ ref('snap_products') }}
-- depends_on: {{ ref('snap_customer_versions') }}
-- The candidate blocks are SQL assembled in Jinja from the lake's state: their indentation depends on
-- the state the linter compiles against (LT02 seen only in a test session's lake): LT02 is excluded here.
-- sqlfluff:exclude_rules:ST06,AM04,LT02
{{ config(materialized='table') }}

{%- set state = order_lines_run_state() -%}
{%- set line_columns = [
    'order_line_key', 'invoice_no', 'stock_code', 'quantity', 'invoice_ts', 'is_date_error',
    'is_date_ambiguous', 'is_cancellation', 'customer_id', 'country_id', 'charged_unit_price',
    'line_description', 'source_layout', 'line_type', 'price_currency_code', 'invoice_date_raw', 'raw_payload',
    '_batch_id', '_source_file', '_row_number', '_ingested_at',
] -%}

{#- which raw batches this run reads: literals, so Spark prunes the raw partitions -#}
{%- if state.batches is none -%}
{%- set incoming_filter = 'true' -%}
{%- elif state.batches | length == 0 -%}
{%- set incoming_filter = 'false' -%}
{%- else -%}
{%- set incoming_filter = '_batch_id in (' ~ sql_string_list(state.batches) ~ ')' -%}
{%- endif -%}

{#- the open quarantine of the previous runs -#}
{#- columns a fact or quarantine table of an older version lacks are read as null (they gain them below) -#}
{%- if state.quarantine -%}
{%- set quarantined_sql -%}
{%- set quarantine_columns = [] -%}
{%- for column in line_columns -%}
{%- if column in ('line_type', 'price_currency_code') -%}
{%- do quarantine_columns.append(column_or_null(state.quarantine, column) | trim) -%}
{%- else -%}
{%- do quarantine_columns.append(column) -%}
{%- endif -%}
{%- endfor -%}
select
    {{ quarantine_columns | join(', ') }},
    false as is_duplicate_in_batch,
    'quarantine' as candidate_origin,
    first_seen_at,
    attempts as previous_attempts,
    cast(null as string) as previous_product_sk,
    cast(null as decimal(18, 4)) as previous_list_unit_price_gbp,
    cast(null as string) as previous_customer_sk
from {{ state.quarantine }}
where status = 'open'
{%- if state.restated %}
    -- a restated batch's lines come again as incoming; its previous quarantine rows are deleted
    and _batch_id not in ({{ sql_string_list(state.restated) }})
{%- endif %}
{%- endset -%}
{%- else -%}
{%- set quarantined_sql = 'select * from incoming where false' -%}
{%- endif -%}

{#- fact lines to revisit: of products whose price versions changed (from the first changed version on)
    and of customers whose versions changed (all their lines: a first version covers all time before it) -#}
{%- if state.fact and (state.price_changes or state.customer_changes) -%}
{%- set revisit_sql -%}
select
{%- for column in line_columns %}
{%- if column in ('is_date_error', 'is_date_ambiguous') %}
    false as {{ column }},
{%- elif column in ('invoice_date_raw', 'raw_payload') %}
    cast(null as string) as {{ column }},
{%- elif column in ('line_type', 'price_currency_code') %}
    {{ column_or_null(state.fact, column, 'fct.') }},
{%- else %}
    fct.{{ column }},
{%- endif %}
{%- endfor %}
    false as is_duplicate_in_batch,
    'revisit' as candidate_origin,
    cast(null as timestamp) as first_seen_at,
    0 as previous_attempts,
    fct.product_sk as previous_product_sk,
    fct.list_unit_price_gbp as previous_list_unit_price_gbp,
    fct.customer_sk as previous_customer_sk
from {{ state.fact }} as fct
{%- if state.price_changes %}
left join values
{%- for stock_code, first_price_ts in state.price_changes %}
    ('{{ stock_code }}', timestamp '{{ first_price_ts }}'){{ ',' if not loop.last }}
{%- endfor %}
    as changed_product (stock_code, first_price_ts)
    on fct.stock_code = changed_product.stock_code
    and fct.invoice_ts >= changed_product.first_price_ts
{%- endif %}
{%- if state.customer_changes %}
left join (
    select distinct customer_id from {{ ref('snap_customer_versions') }}
    where dbt_valid_from > timestamp '{{ state.last_processed_at }}'
) as changed_customer
    on fct.customer_id = changed_customer.customer_id
{%- endif %}
where (
    {%- if state.price_changes %}
    changed_product.stock_code is not null
    {%- if not state.customer_changes %}
    and fct.invoice_month >= '{{ (state.price_changes | map(attribute=1) | min)[:7] }}'
    {%- endif %}
    {%- else %}
    false
    {%- endif %}
    or {{ 'changed_customer.customer_id is not null' if state.customer_changes else 'false' }}
)
{%- if state.restated %}
    -- a restated batch's previous lines are deleted from the fact
    and fct._batch_id not in ({{ sql_string_list(state.restated) }})
{%- endif %}
{%- endset -%}
{%- else -%}
{%- set revisit_sql = 'select * from incoming where false' -%}
{%- endif -%}

{#- keys already in the fact, in the months the new batches touch only -#}
{%- if state.fact and state.months -%}
{%- set fact_keys_sql -%}
select order_line_key, invoice_month, _batch_id as fact_batch_id
from {{ state.fact }}
where invoice_month in ({{ sql_string_list(state.months) }})
{%- endset -%}
{%- else -%}
{%- set fact_keys_sql -%}
select
    cast(null as string) as order_line_key,
    cast(null as string) as invoice_month,
    cast(null as string) as fact_batch_id
where false
{%- endset -%}
{%- endif %}

with

order_lines as (

    select * from {{ ref('stg_raw__order_lines') }}

),

---------- candidates: new lines, open quarantine, fact lines to revisit

incoming as (

    select
        {{ line_columns | join(',\n        ') }},
        is_duplicate_in_batch,
        'incoming' as candidate_origin,
        cast(null as timestamp) as first_seen_at,
        0 as previous_attempts,
        cast(null as string) as previous_product_sk,
        cast(null as decimal(18, 4)) as previous_list_unit_price_gbp,
        cast(null as string) as previous_customer_sk
    from order_lines
    where {{ incoming_filter }}

),

quarantined as (

    {{ quarantined_sql }}

),

revisit as (

    {{ revisit_sql }}

),

candidates as (

    select * from incoming
    union all
    select * from quarantined
    union all
    select * from revisit

),

---------- duplicates: same key twice in this run, or already in the fact from another batch

fact_keys as (

    {{ fact_keys_sql }}

),

candidates_ranked as (

    select
        candidates.*,
        date_format(candidates.invoice_ts, 'yyyy-MM') as invoice_month,
        row_number() over (
            partition by candidates.order_line_key
            order by
                case candidates.candidate_origin when 'revisit' then 0 when 'quarantine' then 1 else 2 end,
                candidates._ingested_at,
                candidates._batch_id,
                candidates._row_number
        ) as key_rank
    from candidates

),

candidates_deduplicated as (

    select
        candidates_ranked.*,
        candidates_ranked.key_rank > 1
        or candidates_ranked.is_duplicate_in_batch
        or (
            candidates_ranked.candidate_origin = 'incoming'
            and fact_keys.fact_batch_id is not null
            and fact_keys.fact_batch_id <> candidates_ranked._batch_id
        ) as is_duplicate
    from candidates_ranked
    left join fact_keys
        on candidates_ranked.order_line_key = fact_keys.order_line_key
            and candidates_ranked.invoice_month = fact_keys.invoice_month

),

final as (

    select * from candidates_deduplicated

)

select * from final
