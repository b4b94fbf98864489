with

shop_lead_funnel as (

    select * from {{ gold_mart('mart_shop_lead_funnel') }}

)

select
    source_system,
    origin,
    leads,
    closed_deals,
    conversion_rate,
    median_days_to_close,
    won_sellers_gmv_90d
from shop_lead_funnel
