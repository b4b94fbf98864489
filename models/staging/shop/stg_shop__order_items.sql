with

source as (

    select * from {{ source('shop', 'order_items') }}

),

renamed as (

    select
        ---------- ids
        order_id,
        cast(order_item_id as int) as order_item_id,
        product_id,
        seller_id,

        ---------- numerics
        cast(price as decimal(12, 2)) as price,
        cast(freight_value as decimal(12, 2)) as freight_value,

        ---------- timestamps
        cast(shipping_limit_at as timestamp) as shipping_limit_at,
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
