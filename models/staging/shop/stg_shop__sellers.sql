with

source as (

    select * from {{ source('shop', 'sellers') }}

),

renamed as (

    select
        ---------- ids
        seller_id,

        ---------- text
        seller_name,
        zip_code_prefix,
        city,
        state,

        ---------- timestamps
        cast(created_at as timestamp) as created_at,
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
