with

source as (

    select * from {{ source('shop', 'leads') }}

),

renamed as (

    select
        ---------- ids
        mql_id,
        landing_page_id,

        ---------- text
        origin,

        ---------- dates
        cast(first_contact_date as date) as first_contact_date,

        ---------- timestamps
        cast(updated_at as timestamp) as updated_at,

        ---------- change data capture
        _op = 'delete' as is_deleted,
        _cursor,
        _extra,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

)

select * from renamed
