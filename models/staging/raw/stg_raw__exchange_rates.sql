with

source as (

    select * from {{ source('raw', 'exchange_rates') }}

),

renamed as (

    select
        ---------- ids
        nullif(upper(trim(currency)), '') as currency_code,
        upper(trim(quote_currency)) as quote_currency_code,

        ---------- numerics
        try_cast(trim(rate) as decimal(18, 8)) as rate_to_gbp,

        ---------- dates
        {{ parse_version_start('trim(rate_date)') }} as rate_ts,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

),

latest_landing as (

    select
        *,
        row_number() over (
            partition by currency_code, rate_ts
            order by _ingested_at desc, _batch_id desc, _row_number desc
        ) as landing_rank
    from renamed
    where currency_code is not null
        and rate_ts is not null
        and rate_to_gbp > 0
        and quote_currency_code = 'GBP'

)

select
    currency_code,
    cast(rate_ts as date) as rate_date,
    rate_ts,
    rate_to_gbp,
    _batch_id,
    _ingested_at
from latest_landing
where landing_rank = 1
