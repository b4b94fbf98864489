{#-
    Stock per product and day as a periodic snapshot: every day from the product's first movement to the
    day of the newest movement in the shop (the simulated clock runs in the past, so not today), with the
    day's receipts, sales, returns and adjustments, the units on hand at the end of the day, and days of
    cover = on hand / average daily units sold over the last 28 days (fewer at the start of a product's
    history: the days it has). A day with nothing on hand is a stockout day.
-#}
with

movements as (

    select * from {{ ref('fct_shop_inventory_movements') }}

),

daily_movements as (

    select
        product_id,
        movement_date as stock_date,
        sum(case when movement_type = 'receipt' then quantity else 0 end) as received,
        -sum(case when movement_type = 'sale' then quantity else 0 end) as sold,
        sum(case when movement_type = 'return' then quantity else 0 end) as returned,
        sum(case when movement_type = 'adjustment' then quantity else 0 end) as adjusted,
        sum(quantity) as net_change
    from movements
    group by product_id, movement_date

),

product_spans as (

    select
        product_id,
        min(stock_date) as first_date,
        max(max(stock_date)) over () as last_date
    from daily_movements
    group by product_id

),

product_days as (

    select
        product_id,
        explode(sequence(first_date, last_date, interval 1 day)) as stock_date
    from product_spans

),

days_filled as (

    select
        product_days.product_id,
        product_days.stock_date,
        coalesce(daily_movements.received, 0) as received,
        coalesce(daily_movements.sold, 0) as sold,
        coalesce(daily_movements.returned, 0) as returned,
        coalesce(daily_movements.adjusted, 0) as adjusted,
        coalesce(daily_movements.net_change, 0) as net_change
    from product_days
    left join daily_movements
        on
            product_days.product_id = daily_movements.product_id
            and product_days.stock_date = daily_movements.stock_date

),

running as (

    select
        *,
        sum(net_change) over (
            partition by product_id order by stock_date rows between unbounded preceding and current row
        ) as on_hand,
        sum(sold) over (
            partition by product_id order by stock_date rows between 27 preceding and current row
        ) as sold_28d,
        count(*) over (
            partition by product_id order by stock_date rows between 27 preceding and current row
        ) as days_in_window
    from days_filled

),

final as (

    select
        ---------- keys
        {{ hash_key(['product_id', 'stock_date']) }} as stock_key,
        product_id,
        stock_date,
        'shop_db' as source_system,

        ---------- the day's movements (units)
        cast(received as bigint) as received,
        cast(sold as bigint) as sold,
        cast(returned as bigint) as returned,
        cast(adjusted as bigint) as adjusted,

        ---------- end of day
        cast(on_hand as bigint) as on_hand,
        on_hand <= 0 as is_stockout,
        cast(sold_28d / days_in_window as decimal(12, 4)) as avg_daily_sold_28d,
        case
            when sold_28d > 0 then cast(on_hand * days_in_window / sold_28d as decimal(12, 1))
        end as days_of_cover

    from running

)

select * from final
