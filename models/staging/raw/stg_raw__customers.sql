with

source as (

    select * from {{ source('raw', 'customers') }}

),

renamed as (

    select
        ---------- ids
        nullif(regexp_replace(trim(customer_id), '\\.0+$', ''), '') as customer_id,
        nullif(upper(trim(country_id)), '') as country_id,

        ---------- text
        trim(customer_name) as customer_name,
        lower(trim(email)) as email,
        coalesce(nullif(lower(trim(segment)), ''), 'unknown') as segment,

        ---------- dates
        cast(try_to_timestamp(trim(registration_date), 'yyyy-MM-dd') as date) as registration_date,
        coalesce(
            {{ parse_unambiguous_timestamp('trim(updated_at)') }},
            cast(cast(try_to_timestamp(trim(updated_at), 'yyyy-MM-dd') as date) as timestamp),
            _ingested_at
        ) as updated_at,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

),

-- the snapshot wants one row per customer: the latest change wins
latest_version as (

    select
        *,
        row_number() over (
            partition by customer_id
            order by updated_at desc, _ingested_at desc, _batch_id desc, _row_number desc
        ) as version_rank
    from renamed
    where customer_id is not null

)

select
    customer_id,
    customer_name,
    email,
    country_id,
    segment,
    registration_date,
    updated_at,
    _batch_id,
    _ingested_at
from latest_version
where version_rank = 1
