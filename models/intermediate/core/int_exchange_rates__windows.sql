{#-
    Exchange rates in valid time: GBP per unit of each currency from its rate_ts (a date alone is midnight
    UTC) to the next one; GBP itself at 1 for all time.
-#}
{{ config(materialized='view') }}

with

exchange_rates as (

    select * from {{ ref('stg_raw__exchange_rates') }}

),

rate_windows as (

    select
        currency_code,
        rate_to_gbp,
        rate_ts as valid_from,
        coalesce(
            lead(rate_ts) over (partition by currency_code order by rate_ts),
            timestamp '9999-12-31 00:00:00'
        ) as valid_to
    from exchange_rates
    where currency_code <> 'GBP'

),

gbp as (

    select
        'GBP' as currency_code,
        cast(1 as decimal(18, 8)) as rate_to_gbp,
        timestamp '1900-01-01 00:00:00' as valid_from,
        timestamp '9999-12-31 00:00:00' as valid_to

)

select * from rate_windows
union all
select * from gbp
