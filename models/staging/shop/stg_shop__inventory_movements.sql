with

source as (

    select * from {{ source('shop', 'inventory_movements') }}

),

renamed as (

    select
        ---------- ids
        cast(movement_id as bigint) as movement_id,
        product_id,
        order_id,

        ---------- numerics
        cast(quantity as int) as quantity,

        ---------- text
        movement_type,

        ---------- timestamps
        cast(occurred_at as timestamp) as occurred_at,
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
