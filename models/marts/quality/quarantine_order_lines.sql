{#-
    The hospital: every order line that failed validation, with all its reasons, the raw payload, where it
    came from, when it was first seen and how often it was checked. Open rows are re-validated on every
    run (in int_order_lines__validated); those that pass move into the fact once and stay here as
    `recovered`. Nothing is deleted.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        file_format='iceberg',
        unique_key='order_line_key',
        on_schema_change='append_new_columns',
        full_refresh=false,
        pre_hook="{{ delete_restated_lines(this) }}",
    )
}}

with

validated_lines as (

    select * from {{ ref('int_order_lines__validated') }}

),

checked_lines as (

    select
        ---------- keys
        order_line_key,
        invoice_no,
        stock_code,
        customer_id,
        country_id,

        ---------- verdict
        case validation_status when 'recovered' then 'recovered' else 'open' end as status,
        failure_reasons,
        coalesce(first_seen_at, cast('{{ run_started_at }}' as timestamp)) as first_seen_at,
        cast('{{ run_started_at }}' as timestamp) as last_checked_at,
        previous_attempts + 1 as attempts,
        case
            when validation_status = 'recovered' then cast('{{ run_started_at }}' as timestamp)
        end as recovered_at,

        ---------- line as read
        invoice_ts,
        invoice_date_raw,
        is_date_error,
        is_date_ambiguous,
        is_cancellation,
        quantity,
        charged_unit_price,
        line_description,
        source_layout,
        line_type,
        price_currency_code,

        ---------- lineage
        raw_payload,
        _batch_id,
        _source_file,
        _row_number,
        _ingested_at

    from validated_lines
    where validation_status = 'failed'
        or validation_status = 'recovered'

)

select * from checked_lines
