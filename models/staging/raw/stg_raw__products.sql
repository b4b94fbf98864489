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
        -- a date alone is midnight UTC; a time of day (or a zone) makes two changes on one day two versions
        {{ parse_version_start('trim(price_date)') }} as price_ts,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

),

-- one row per price version: the latest landing of (stock_code, price_ts) wins
latest_landing as (

    select
        *,
        row_number() over (
            partition by stock_code, price_ts
            order by _ingested_at desc, _batch_id desc, _row_number desc
        ) as landing_rank
    from renamed
    where stock_code is not null
        and price_ts is not null
        and unit_price is not null

),

versions as (

    select
        {{ hash_key(['stock_code', version_stamp('price_ts')]) }} as product_version_key,
        stock_code,
        product_name,
        category,
        unit_price,
        cast(price_ts as date) as price_date,
        price_ts,
        _batch_id,
        _ingested_at
    from latest_landing
    where landing_rank = 1

)

select * from versions
