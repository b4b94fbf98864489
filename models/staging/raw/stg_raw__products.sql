with

source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        ---------- ids
        nullif(upper(trim(stock_code)), '') as stock_code,

        ---------- text
        nullif(trim(description), '') as product_name,
        coalesce(nullif(trim(category), ''), 'Uncategorised') as category,

        ---------- numerics
        try_cast(trim(unit_price) as decimal(18, 4)) as unit_price,

        ---------- dates
        cast(try_to_timestamp(trim(price_date), 'yyyy-MM-dd') as date) as price_date,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

),

-- one row per price version: the latest landing of (stock_code, price_date) wins
latest_landing as (

    select
        *,
        row_number() over (
            partition by stock_code, price_date
            order by _ingested_at desc, _batch_id desc, _row_number desc
        ) as landing_rank
    from renamed
    where stock_code is not null
        and price_date is not null
        and unit_price is not null

),

versions as (

    select
        {{ hash_key(['stock_code', 'price_date']) }} as product_version_key,
        stock_code,
        product_name,
        category,
        unit_price,
        price_date,
        _batch_id,
        _ingested_at
    from latest_landing
    where landing_rank = 1

)

select * from versions
