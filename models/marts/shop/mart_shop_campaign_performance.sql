{#-
    Marketing campaigns of the shop database with their channel: spend, impressions and clicks (current
    daily spend rows; a restated day counts once), clickstream sessions that carried the campaign's code
    (`utm_campaign` in the page URL), and orders and GMV attributed last-touch: a shop order (not
    canceled) goes to the campaign of its customer's last tracked touch in the
    var shop_attribution_window_days (default 30) before the purchase, visitor id = shop customer id.
    The tracker in this project writes no campaign codes and tracks the file-based shop's visitors, so
    sessions and attributed orders are 0 until it does (see README: the two shops).
-#}
with

campaigns as (

    select * from {{ ref('int_shop__campaigns_current') }}

),

campaign_spend as (

    select * from {{ ref('int_shop__campaign_spend_current') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

orders as (

    select * from {{ ref('fct_shop_orders') }}

),

spend_per_campaign as (

    select
        campaign_id,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        count(*) as spend_days
    from campaign_spend
    group by campaign_id

),

campaign_touches as (

    select
        session_key,
        visitor_id,
        event_ts,
        parse_url(page_url, 'QUERY', 'utm_campaign') as campaign_code
    from events
    where page_url like '%utm_campaign=%'

),

sessions_per_code as (

    select
        campaign_code,
        count(distinct session_key) as sessions
    from campaign_touches
    group by campaign_code

),

last_touches as (

    select
        orders.order_id,
        orders.items_value,
        campaign_touches.campaign_code,
        row_number() over (
            partition by orders.order_id order by campaign_touches.event_ts desc
        ) as touch_rank
    from orders
    inner join campaign_touches
        on
            orders.customer_id = campaign_touches.visitor_id
            and orders.purchased_at >= campaign_touches.event_ts
            and orders.purchased_at - interval {{ var('shop_attribution_window_days', 30) }} days
            < campaign_touches.event_ts
    where not orders.is_canceled

),

attributed_per_code as (

    select
        campaign_code,
        count(*) as attributed_orders,
        sum(items_value) as attributed_revenue
    from last_touches
    where touch_rank = 1
    group by campaign_code

),

final as (

    select
        'shop_db' as source_system,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.campaign_code,
        campaigns.start_date,
        campaigns.end_date,
        coalesce(spend_per_campaign.spend_days, 0) as spend_days,
        cast(coalesce(spend_per_campaign.spend, 0) as decimal(14, 2)) as spend,
        coalesce(spend_per_campaign.impressions, 0) as impressions,
        coalesce(spend_per_campaign.clicks, 0) as clicks,
        cast(spend_per_campaign.clicks / nullif(spend_per_campaign.impressions, 0) as decimal(9, 4))
            as click_through_rate,
        cast(spend_per_campaign.spend / nullif(spend_per_campaign.clicks, 0) as decimal(12, 4))
            as cost_per_click,
        coalesce(sessions_per_code.sessions, 0) as sessions,
        coalesce(attributed_per_code.attributed_orders, 0) as attributed_orders,
        cast(coalesce(attributed_per_code.attributed_revenue, 0) as decimal(14, 2)) as attributed_revenue,
        cast(
            coalesce(attributed_per_code.attributed_revenue, 0) / nullif(spend_per_campaign.spend, 0)
            as decimal(12, 4)
        ) as roas
    from campaigns
    left join spend_per_campaign on campaigns.campaign_id = spend_per_campaign.campaign_id
    left join sessions_per_code on campaigns.campaign_code = sessions_per_code.campaign_code
    left join attributed_per_code on campaigns.campaign_code = attributed_per_code.campaign_code

)

select * from final
