{#-
    The seller acquisition funnel per lead origin: marketing-qualified leads, deals closed, conversion,
    median days from first contact to the won date, and the GMV the won sellers sold in their first 90 days
    (item prices of orders not canceled, purchased from the won date on). A deal whose lead was deleted
    (spam) counts under origin 'unknown'; a lead without an origin too.
-#}
with

leads as (

    select * from {{ ref('int_shop__leads_current') }}

),

closed_deals as (

    select * from {{ ref('int_shop__closed_deals_current') }}

),

order_items as (

    select * from {{ ref('fct_shop_order_items') }}

),

deal_gmv as (

    select
        closed_deals.mql_id,
        sum(order_items.price) as gmv_first_90_days
    from closed_deals
    inner join order_items
        on
            closed_deals.seller_id = order_items.seller_id
            and closed_deals.won_date <= order_items.purchase_date
            and date_add(closed_deals.won_date, 90) > order_items.purchase_date
    where not order_items.is_canceled
    group by closed_deals.mql_id

),

funnel as (

    select
        coalesce(leads.origin, 'unknown') as origin,
        leads.mql_id as lead_id,
        closed_deals.mql_id as deal_id,
        closed_deals.seller_id,
        datediff(closed_deals.won_date, leads.first_contact_date) as days_to_close,
        deal_gmv.gmv_first_90_days
    from leads
    full outer join closed_deals on leads.mql_id = closed_deals.mql_id
    left join deal_gmv on closed_deals.mql_id = deal_gmv.mql_id

),

aggregated as (

    select
        origin,
        count(lead_id) as leads,
        count(deal_id) as closed_deals,
        percentile(days_to_close, 0.5) as median_days_to_close,
        sum(gmv_first_90_days) as won_sellers_gmv_90d
    from funnel
    group by origin

),

final as (

    select
        'shop_db' as source_system,
        origin,
        leads,
        closed_deals,
        cast(closed_deals / nullif(leads, 0) as decimal(9, 4)) as conversion_rate,
        cast(median_days_to_close as decimal(8, 1)) as median_days_to_close,
        cast(coalesce(won_sellers_gmv_90d, 0) as decimal(14, 2)) as won_sellers_gmv_90d
    from aggregated

)

select * from final
