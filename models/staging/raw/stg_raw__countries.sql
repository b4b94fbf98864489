with

source as (

    select * from {{ source('raw', 'countries') }}

),

renamed as (

    select
        ---------- ids
        nullif(upper(trim(country_id)), '') as country_id,

        ---------- text
        trim(country_name) as country_name,
        trim(continent) as continent,
        upper(trim(region_code)) as region_code,
        nullif(upper(trim(currency)), '') as currency_code,

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
            partition by country_id
            order by _ingested_at desc, _batch_id desc, _row_number desc
        ) as landing_rank
    from renamed
    where country_id is not null

)

select
    country_id,
    country_name,
    continent,
    region_code,
    currency_code,
    _batch_id,
    _ingested_at
from latest_landing
where landing_rank = 1
