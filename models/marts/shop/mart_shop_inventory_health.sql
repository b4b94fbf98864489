{#-
    Stock health per product on the newest day of the stock snapshot: on hand, days of cover, stockout
    days (over the whole history and the last 28 days), and an overstock flag: units on hand but no sale in
    28 days, or more days of cover than var shop_overstock_days_of_cover (default 90).
-#}
with

stock as (

    select * from {{ ref('fct_shop_stock_daily') }}

),

products as (

    select * from {{ ref('int_shop__products_current') }}

),

per_product as (

    select
        product_id,
        max(stock_date) as stock_date,
        max_by(on_hand, stock_date) as on_hand,
        max_by(avg_daily_sold_28d, stock_date) as avg_daily_sold_28d,
        max_by(days_of_cover, stock_date) as days_of_cover,
        max_by(is_stockout, stock_date) as is_stockout,
        count_if(is_stockout) as stockout_days,
        sum(sold) as units_sold
    from stock
    group by product_id

),

recent_stockouts as (

    select
        stock.product_id,
        count_if(stock.is_stockout) as stockout_days_28d
    from stock
    inner join per_product on stock.product_id = per_product.product_id
    where stock.stock_date > date_sub(per_product.stock_date, 28)
    group by stock.product_id

),

final as (

    select
        'shop_db' as source_system,
        per_product.product_id,
        products.product_name,
        products.category,
        per_product.stock_date,
        per_product.on_hand,
        per_product.is_stockout,
        cast(per_product.stockout_days as bigint) as stockout_days,
        cast(recent_stockouts.stockout_days_28d as bigint) as stockout_days_28d,
        cast(per_product.units_sold as bigint) as units_sold,
        per_product.avg_daily_sold_28d,
        per_product.days_of_cover,
        per_product.on_hand > 0
        and coalesce(per_product.days_of_cover > {{ var('shop_overstock_days_of_cover', 90) }}, true)
            as is_overstock
    from per_product
    left join products on per_product.product_id = products.product_id
    left join recent_stockouts on per_product.product_id = recent_stockouts.product_id

)

select * from final
