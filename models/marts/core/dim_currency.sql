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

)

select * from current_currencies
{% if is_incremental() %}
where valid_from > (select coalesce(max(valid_from), timestamp '1900-01-01') from {{ this }})
{% endif %}
