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

-- one row per customer version (customer_id, updated_at): the latest landing of a version wins, so a
-- corrected file restates it, and several days landed before one build keep every change
latest_landing as (

    select
        *,
        row_number() over (
            partition by customer_id, updated_at
            order by _ingested_at desc, _batch_id desc, _row_number desc
        ) as landing_rank
    from renamed
    where customer_id is not null

)

select
    {{ hash_key(['customer_id', 'updated_at']) }} as customer_version_key,
    customer_id,
    customer_name,
    email,
    country_id,
    segment,
    registration_date,
    updated_at,
    _batch_id,
    _ingested_at
from latest_landing
where landing_rank = 1
