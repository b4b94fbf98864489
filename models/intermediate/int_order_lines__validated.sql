{#-
    The work of one run, validated and priced: the order lines of batches not reconciled yet (new or
    restated), the open quarantine (re-validated against today's master data) and the fact lines to revisit:
    those whose price window changed since the last run (back-dated or restated prices) and those of
    customers whose versions changed (a customer who arrived after their orders, a late or back-dated
    change). fct_order_lines, quarantine_order_lines and audit_batch_reconciliation are built from this
    table, so validation and pricing live in one place.
-#}
-- depends_on: {{ ref('snap_products') }}
-- depends_on: {{ ref('snap_customer_versions') }}
-- The candidate blocks are SQL assembled in Jinja from the lake's state: their indentation depends on
-- the state the linter compiles against (LT02 seen only in a test session's lake): LT02 is excluded here.
-- sqlfluff:exclude_rules:ST06,AM04,LT02
{{ config(materialized='table', schema='intermediate') }}

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

product_windows as (

    select * from {{ ref('int_products__windows') }}

),

customer_windows as (

    select * from {{ ref('int_customers__windows') }}

),

countries as (

    select * from {{ ref('stg_raw__countries') }}

),

rate_windows as (

    select * from {{ ref('int_exchange_rates__windows') }}

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

---------- as-of lookups: validity windows, broadcast, at most one match per line

known_products as (

    select distinct stock_code from product_windows

),

lines_looked_up as (

    select /*+ broadcast(known_products, price, countries, customer, line_rate, reporting_rate) */
        candidate.*,
        known_products.stock_code is not null as is_known_product,
        countries.country_id is not null as is_known_country,
        -- the line's currency: the one its file declares for its prices, else its country's (generated shop)
        coalesce(candidate.price_currency_code, countries.currency_code, 'GBP') as currency_code,
        price.product_sk,
        price.unit_price as list_unit_price_gbp,
        coalesce(customer.customer_sk, '-1') as customer_sk,
        line_rate.rate_to_gbp as line_rate_to_gbp,
        reporting_rate.rate_to_gbp as reporting_rate_to_gbp
    from candidates_deduplicated as candidate
    left join known_products
        on candidate.stock_code = known_products.stock_code
    left join product_windows as price
        on candidate.stock_code = price.stock_code
            and candidate.invoice_ts >= price.valid_from
            and candidate.invoice_ts < price.valid_to
    left join countries
        on candidate.country_id = countries.country_id
    left join customer_windows as customer
        on candidate.customer_id = customer.customer_id
            and candidate.invoice_ts >= customer.valid_from
            and candidate.invoice_ts < customer.valid_to
    left join rate_windows as line_rate
        on coalesce(candidate.price_currency_code, countries.currency_code, 'GBP') = line_rate.currency_code
            and candidate.invoice_ts >= line_rate.valid_from
            and candidate.invoice_ts < line_rate.valid_to
    left join rate_windows as reporting_rate
        on reporting_rate.currency_code = '{{ var("reporting_currency") }}'
            and candidate.invoice_ts >= reporting_rate.valid_from
            and candidate.invoice_ts < reporting_rate.valid_to

),

lines_flagged as (

    select
        *,
        -- lines of the generated shop, and fact rows of an older version, carry no line type: sales
        coalesce(line_type, 'sale') = 'sale' as is_product_line
    from lines_looked_up

),

---------- validation: every reason that applies

lines_validated as (

    select
        *,
        filter(array(
            case when invoice_no is null then 'missing_invoice_no' end,
            case when stock_code is null then 'missing_stock_code' end,
            case when quantity is null then 'missing_quantity' end,
            case when country_id is null then 'missing_country' end,
            case when is_date_error then 'date_error' end,
            case when is_date_ambiguous then 'ambiguous_date' end,
            -- product lines only: postage, fees, discounts and the like need no product or price version
            case
                when is_product_line and quantity <= 0 and not is_cancellation then 'non_positive_quantity'
            end,
            -- a line that carries its charged price is priced by it: it needs no product master data
            case
                when is_product_line and stock_code is not null and not is_known_product
                    and charged_unit_price is null
                    then 'unknown_product'
            end,
            case when country_id is not null and not is_known_country then 'unknown_country' end,
            case
                when is_product_line and is_known_product and charged_unit_price is null
                    and not is_date_error and not is_date_ambiguous and product_sk is null
                    then 'no_price_in_effect'
            end,
            -- a rate is needed only where the line's currency differs from the reporting currency
            case
                when currency_code <> '{{ var("reporting_currency") }}'
                    and not is_date_error and not is_date_ambiguous
                    and (line_rate_to_gbp is null or reporting_rate_to_gbp is null)
                    then 'no_exchange_rate'
            end
        ), reason -> reason is not null) as failure_reasons
    from lines_flagged

),

---------- prices and amounts: catalogue prices are GBP, a charged price is in the currency its file declares

lines_priced as (

    select
        *,
        case
            when is_duplicate then 'duplicate'
            when size(failure_reasons) > 0 then 'failed'
            when candidate_origin = 'revisit'
                and product_sk <=> previous_product_sk
                and list_unit_price_gbp <=> previous_list_unit_price_gbp
                then 'relinked'
            when candidate_origin = 'revisit' then 'repriced'
            when candidate_origin = 'quarantine' then 'recovered'
            else 'passed'
        end as validation_status,
        case
            when charged_unit_price is null then list_unit_price_gbp
            when coalesce(price_currency_code, 'GBP') = 'GBP' then charged_unit_price
            else charged_unit_price * line_rate_to_gbp
        end as unit_price_gbp,
        case
            when charged_unit_price is null then 'list'
            when product_sk is null then 'charged_no_list'
            else 'charged'
        end as price_source
    from lines_validated

),

lines_converted as (

    select
        *,
        -- unit price and amount in the line's currency: as charged where the file declares that currency
        case
            when charged_unit_price is not null and price_currency_code is not null then charged_unit_price
            else unit_price_gbp / line_rate_to_gbp
        end as line_unit_price,
        case
            when charged_unit_price is not null and price_currency_code is not null
                then quantity * charged_unit_price
            else quantity * unit_price_gbp / line_rate_to_gbp
        end as line_amount
    from lines_priced

),

final as (

    select
        ---------- keys
        order_line_key,
        invoice_month,
        invoice_no,
        stock_code,
        product_sk,
        customer_id,
        customer_sk,
        country_id,

        ---------- status
        candidate_origin,
        validation_status,
        failure_reasons,
        is_duplicate,

        ---------- line
        invoice_ts,
        invoice_date_raw,
        is_date_error,
        is_date_ambiguous,
        is_cancellation,
        quantity,
        line_description,
        source_layout,
        coalesce(line_type, 'sale') as line_type,
        price_source,

        ---------- prices and amounts
        charged_unit_price,
        list_unit_price_gbp,
        unit_price_gbp,
        cast(quantity * unit_price_gbp as decimal(18, 2)) as amount_gbp,
        currency_code,
        line_rate_to_gbp as exchange_rate_to_gbp,
        cast(line_unit_price as decimal(18, 4)) as unit_price,
        cast(list_unit_price_gbp / line_rate_to_gbp as decimal(18, 4)) as list_unit_price,
        cast(line_amount as decimal(18, 2)) as amount,
        price_currency_code,
        '{{ var("reporting_currency") }}' as reporting_currency,
        case
            when currency_code = '{{ var("reporting_currency") }}'
                then cast(line_amount as decimal(18, 2))
            else cast(quantity * unit_price_gbp / reporting_rate_to_gbp as decimal(18, 2))
        end as amount_reporting,

        ---------- quarantine bookkeeping
        first_seen_at,
        previous_attempts,
        previous_product_sk,
        previous_list_unit_price_gbp,
        previous_customer_sk,

        ---------- lineage
        raw_payload,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from lines_converted
    -- a revisited line whose product version, price and customer version did not change needs no merge
    where not (
            candidate_origin = 'revisit'
            and validation_status in ('repriced', 'relinked')
            and product_sk <=> previous_product_sk
            and list_unit_price_gbp <=> previous_list_unit_price_gbp
            and customer_sk <=> previous_customer_sk
        )

)

select * from final
