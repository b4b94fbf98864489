{#-
    Product price versions in valid time: a window starts at a version's price_ts (a date alone is
    midnight UTC) when its price, name or category differs from the previous version, and ends where the
    next one starts, so a back-dated version takes effect from its own time even when it lands later and
    two changes on one day are two windows.
-#}
{{ config(materialized='view') }}

with

price_versions as (

    select
        stock_code,
        product_name,
        category,
        unit_price,
        -- snapshot rows landed before times of day were read carry the date only
        coalesce(price_ts, cast(price_date as timestamp)) as price_ts
    from {{ ref('snap_products') }}
    where dbt_valid_to is null

),

-- a version only starts a window when something changed: daily catalogues repeat the same price
version_changes as (

    select
        *,
        coalesce(
            unit_price <=> lag(unit_price) over by_price_ts
            and product_name <=> lag(product_name) over by_price_ts
            and category <=> lag(category) over by_price_ts,
            false
        ) as repeats_previous_version
    from price_versions
    window by_price_ts as (partition by stock_code order by price_ts)

),

validity_windows as (

    select
        {{ hash_key(['stock_code', version_stamp('price_ts')]) }} as product_sk,
        stock_code,
        product_name,
        category,
        unit_price,
        'GBP' as currency_code,
        cast(price_ts as date) as price_date,
        price_ts as valid_from,
        coalesce(lead(price_ts) over by_price_ts, timestamp '9999-12-31 00:00:00') as valid_to,
        lead(price_ts) over by_price_ts is null as is_current
    from version_changes
    where not repeats_previous_version
    window by_price_ts as (partition by stock_code order by price_ts)

)

select * from validity_windows
