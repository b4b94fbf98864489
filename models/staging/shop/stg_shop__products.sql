with

source as (

    select * from {{ source('shop', 'products') }}

),

renamed as (

    select
        ---------- ids
        product_id,

        ---------- numerics
        cast(weight_g as int) as weight_g,
        cast(length_cm as int) as length_cm,
        cast(height_cm as int) as height_cm,
        cast(width_cm as int) as width_cm,
        cast(list_price as decimal(12, 2)) as list_price,

        ---------- text
        category,
        product_name,

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
