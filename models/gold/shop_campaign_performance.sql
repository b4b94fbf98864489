with

shop_campaign_performance as (

    select * from {{ gold_mart('mart_shop_campaign_performance') }}

)

select
    source_system,
    campaign_id,
    campaign_name,
    channel,
    campaign_code,
    start_date,
    end_date,
    spend_days,
    spend,
    impressions,
    clicks,
    click_through_rate,
    cost_per_click,
    sessions,
    attributed_orders,
    attributed_revenue,
    roas
from shop_campaign_performance
