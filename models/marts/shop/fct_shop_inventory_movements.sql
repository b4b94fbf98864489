{#-
    One row per stock movement of the shop database: receipts and returns add units, sales take them away
    (quantity is signed as the application writes it: a sale is -1), adjustments either way.
-#}
with

movements as (

    select * from {{ ref('int_shop__inventory_movements_current') }}

),

final as (

    select
        ---------- keys
        movement_id,
        product_id,
        order_id,
        'shop_db' as source_system,

        ---------- the movement
        movement_type,
        quantity,
        abs(quantity) as units,
        occurred_at,
        cast(occurred_at as date) as movement_date,
        updated_at as last_changed_at

    from movements

)

select * from final
