with

source as (

    select * from {{ source('shop', 'order_payments') }}

),

renamed as (

    select
        ---------- ids
        order_id,
        cast(payment_sequential as int) as payment_sequential,

        ---------- numerics
        cast(payment_installments as int) as payment_installments,
        cast(payment_value as decimal(12, 2)) as payment_value,

        ---------- text
        payment_type,

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
