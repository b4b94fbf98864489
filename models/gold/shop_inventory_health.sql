with

shop_inventory_health as (

    select * from {{ gold_mart('mart_shop_inventory_health') }}

)

select
    source_system,
    product_id,
    product_name,
    category,
    stock_date,
    on_hand,
    is_stockout,
    stockout_days,
    stockout_days_28d,
    units_sold,
    avg_daily_sold_28d,
    days_of_cover,
    is_overstock
from shop_inventory_health
