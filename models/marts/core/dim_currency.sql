{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='currency_code',
        meta={'gold': true},
    )
}}

with

currency_versions as (

    select * from {{ ref('snap_currencies') }}

),

current_currencies as (

    select
        currency_code,
        currency_name,
        symbol,
        minor_units,
        dbt_valid_from as valid_from,
        currency_code = '{{ var("reporting_currency") }}' as is_reporting_currency
    from currency_versions
    where dbt_valid_to is null

),

{% if is_incremental() %}
    -- only versions newer than what the table holds are merged
    watermark as (

        select max(valid_from) as max_valid_from from {{ this }}

    ),
{% endif %}

changed_currencies as (

    select current_currencies.*
    from current_currencies
    {% if is_incremental() %}
        cross join watermark
        where
            watermark.max_valid_from is null
            or current_currencies.valid_from > watermark.max_valid_from
    {% endif %}

)

select * from changed_currencies
