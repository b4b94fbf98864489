with

source as (

    select * from {{ source('shop', 'customers') }}

),

renamed as (

    select
        ---------- ids
        customer_id,
        customer_unique_id,

        ---------- text
        customer_name,
        email,
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
