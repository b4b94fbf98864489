{#-
    One row per order line that passed validation, priced as of its invoice time.
    Incremental merge on (order_line_key, invoice_month): the month in the merge condition lets Iceberg
    prune the fact to the partitions the batch touches. New columns are appended to an existing fact
    (a lake built by an older version keeps its rows; they read null there). full_refresh is off: the fact holds lines whose
    batches are already reconciled, which a rebuild from int_order_lines__validated would lose.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key=['order_line_key', 'invoice_month'],
        partition_by=['invoice_month'],
        on_schema_change='append_new_columns',
        full_refresh=false,
        meta={'gold': true},
        pre_hook="{{ delete_restated_lines(this) }}",
    )
}}

with

validated_lines as (

    select * from {{ ref('int_order_lines__validated') }}

),

lines_to_load as (

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

        ---------- invoice time (UTC)
        invoice_ts,
        cast(invoice_ts as date) as invoice_date,
        cast(date_format(invoice_ts, 'yyyyMMdd') as int) as invoice_date_key,
        hour(invoice_ts) as invoice_hour,

        ---------- line
        is_cancellation,
        quantity,
        line_description,
        source_layout,
        line_type,
        price_source,

        ---------- prices and amounts in the line's currency
        currency_code,
        unit_price,
        list_unit_price,
        amount,

        ---------- the same in GBP and in the reporting currency
        exchange_rate_to_gbp,
        charged_unit_price,
        list_unit_price_gbp,
        unit_price_gbp,
        amount_gbp,
        price_currency_code,
        reporting_currency,
        amount_reporting,

        ---------- lineage
        candidate_origin as _load_origin,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at,
        cast('{{ run_started_at }}' as timestamp) as _loaded_at

    from validated_lines
    where validation_status in ('passed', 'recovered', 'repriced', 'relinked')

)

select * from lines_to_load
