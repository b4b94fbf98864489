{#-
    The work of one run, validated and priced: every candidate of int_order_lines__candidates (new or
    restated lines, the open quarantine, fact lines to revisit) looked up as of its invoice time (product
    price version, customer version, exchange rates: validity windows, broadcast range joins), checked
    against every rule, and priced. fct_order_lines, quarantine_order_lines and audit_batch_reconciliation
    are built from this table, so validation and pricing live in one place.
-#}
-- sqlfluff:exclude_rules:ST06,AM04
{{ config(materialized='table', schema='intermediate') }}

with

candidates as (

    select * from {{ ref('int_order_lines__candidates') }}

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
    from candidates as candidate
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
