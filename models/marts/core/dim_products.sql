{{ config(meta={'gold': true}) }}

with

price_versions as (

    select * from {{ ref('snap_products') }}
    where dbt_valid_to is null

),

-- a version only starts a window when something changed: daily catalogues repeat the same price
version_changes as (

    select
        stock_code,
        product_name,
        category,
        unit_price,
        price_date,
        coalesce(
            unit_price <=> lag(unit_price) over by_price_date
            and product_name <=> lag(product_name) over by_price_date
            and category <=> lag(category) over by_price_date,
            false
        ) as repeats_previous_version
    from price_versions
    window by_price_date as (partition by stock_code order by price_date)

),

validity_windows as (

    select
        {{ hash_key(['stock_code', 'price_date']) }} as product_sk,
        stock_code,
        product_name,
        category,
        unit_price,
        'GBP' as currency_code,
        price_date,
        cast(price_date as timestamp) as valid_from,
        coalesce(
            lead(cast(price_date as timestamp)) over by_price_date,
            timestamp '9999-12-31 00:00:00'
        ) as valid_to,
        lead(price_date) over by_price_date is null as is_current
    from version_changes
    where not repeats_previous_version
    window by_price_date as (partition by stock_code order by price_date)

)

select * from validity_windows
