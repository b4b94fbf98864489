with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        ---------- ids
        order_id,
        customer_id,

        ---------- text
        status,

        ---------- dates
        cast(estimated_delivery_date as date) as estimated_delivery_date,

        ---------- timestamps
        cast(purchased_at as timestamp) as purchased_at,
        cast(approved_at as timestamp) as approved_at,
        cast(shipped_at as timestamp) as shipped_at,
        cast(delivered_at as timestamp) as delivered_at,
        cast(canceled_at as timestamp) as canceled_at,
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
