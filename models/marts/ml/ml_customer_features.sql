{#-
    Customer features as of each cutoff date D ("as of D 00:00 UTC": only facts before D count) and the
    churn label over [D, D + churn_horizon_days). Facts are first aggregated to (customer, day), then every
    customer day is matched to the cutoffs after it (and to those whose horizon it falls in, for the label).
-#}
{%- set step = var('ml_cutoff_step_days') | int -%}
{%- set horizon = var('churn_horizon_days') | int -%}

with

order_lines as (

    select * from {{ ref('fct_order_lines') }}

),

sessions as (

    select * from {{ ref('fct_sessions') }}

),

events as (

    select * from {{ ref('fct_events') }}

),

customers as (

    select * from {{ ref('dim_customers') }}

),

data_window as (

    select
        min(invoice_date) as first_order_day,
        max(invoice_date) as last_order_day,
        cast(floor(datediff(max(invoice_date), min(invoice_date)) / {{ step }}) as int) as regular_cutoffs
    from order_lines

),

cutoffs as (

    select
        date_add(data_window.first_order_day, steps.k * {{ step }}) as cutoff_date,
        false as is_scoring_cutoff
    from data_window
        lateral view explode(sequence(0, data_window.regular_cutoffs)) steps as k
    where steps.k >= 1
    union all
    select
        date_add(last_order_day, 1) as cutoff_date,
        true as is_scoring_cutoff
    from data_window
    where last_order_day is not null

),

---------- facts per (customer, day)
order_days as (

    select
        customer_id,
        invoice_date as activity_date,
        count(distinct invoice_no) as orders,
        count(case when line_type = 'sale' then 1 end) as sale_lines,
        collect_set(case when line_type = 'sale' then stock_code end) as products,
        0 as revenue,
        0 as sessions,
        0 as cart_adds,
        0 as product_views
    from order_lines
    where customer_id is not null and not is_cancellation
    group by customer_id, invoice_date

),

revenue_days as (  -- net: cancellations of product sales count against the revenue

    select
        customer_id,
        invoice_date as activity_date,
        0 as orders,
        0 as sale_lines,
        cast(array() as array<string>) as products,
        sum(amount_gbp) as revenue,
        0 as sessions,
        0 as cart_adds,
        0 as product_views
    from order_lines
    where customer_id is not null and line_type = 'sale'
    group by customer_id, invoice_date

),

session_days as (

    select
        customer_id,
        session_date as activity_date,
        0 as orders,
        0 as sale_lines,
        cast(array() as array<string>) as products,
        0 as revenue,
        count(*) as sessions,
        0 as cart_adds,
        0 as product_views
    from sessions
    where customer_id is not null
    group by customer_id, session_date

),

event_days as (

    select
        customer_id,
        event_date as activity_date,
        0 as orders,
        0 as sale_lines,
        cast(array() as array<string>) as products,
        0 as revenue,
        0 as sessions,
        count(case when event_type = 'add_to_cart' then 1 end) as cart_adds,
        count(case when event_type = 'view' and stock_code is not null then 1 end) as product_views
    from events
    where customer_id is not null
    group by customer_id, event_date

),

customer_days as (

    select
        customer_id,
        activity_date,
        sum(orders) as orders,
        sum(sale_lines) as sale_lines,
        flatten(collect_list(products)) as products,
        sum(revenue) as revenue,
        sum(sessions) as sessions,
        sum(cart_adds) as cart_adds,
        sum(product_views) as product_views
    from (
        select * from order_days
        union all
        select * from revenue_days
        union all
        select * from session_days
        union all
        select * from event_days
    ) as facts
    group by customer_id, activity_date

),

---------- every customer day against the cutoffs it precedes, or whose churn horizon it falls in
days_by_cutoff as (

    select
        customer_days.*,
        cutoffs.cutoff_date,
        cutoffs.is_scoring_cutoff,
        datediff(cutoffs.cutoff_date, customer_days.activity_date) as days_before
    from customer_days
    inner join cutoffs
        on customer_days.activity_date < date_add(cutoffs.cutoff_date, {{ horizon }})

),

features as (

    select
        customer_id,
        cutoff_date,
        is_scoring_cutoff,
        min(case when days_before > 0 and orders > 0 then activity_date end) as first_order_date,
        max(case when days_before > 0 and orders > 0 then activity_date end) as last_order_date,
        sum(case when days_before > 0 then orders else 0 end) as orders_total,
        sum(case when days_before between 1 and 7 then orders else 0 end) as orders_7d,
        sum(case when days_before between 1 and 28 then orders else 0 end) as orders_28d,
        sum(case when days_before between 1 and 28 then sale_lines else 0 end) as lines_28d,
        size(
            array_distinct(flatten(collect_list(case when days_before between 1 and 28 then products end)))
        ) as distinct_products_28d,
        sum(case when days_before > 0 then revenue else 0 end) as revenue_total,
        sum(case when days_before between 1 and 28 then revenue else 0 end) as revenue_28d,
        sum(case when days_before between 1 and 7 then sessions else 0 end) as sessions_7d,
        sum(case when days_before between 8 and 14 then sessions else 0 end) as sessions_prev_7d,
        sum(case when days_before between 1 and 28 then sessions else 0 end) as sessions_28d,
        sum(case when days_before between 1 and 28 then cart_adds else 0 end) as cart_adds_28d,
        sum(case when days_before between 1 and 28 then product_views else 0 end) as product_views_28d,
        max(case when days_before <= 0 and orders > 0 then 1 else 0 end) as ordered_in_horizon
    from days_by_cutoff
    group by customer_id, cutoff_date, is_scoring_cutoff

),

customer_versions as (

    select
        features.customer_id,
        features.cutoff_date,
        customers.segment,
        customers.country_id
    from features
    inner join customers
        on
            features.customer_id = customers.customer_id
            and customers.valid_from < cast(features.cutoff_date as timestamp)
            and cast(features.cutoff_date as timestamp) <= customers.valid_to

),

final as (

    select
        ---------- keys
        features.customer_id,
        features.cutoff_date,
        features.is_scoring_cutoff,
        ---------- customer as of the cutoff
        customer_versions.segment,
        customer_versions.country_id,
        ---------- orders
        cast(datediff(features.cutoff_date, features.first_order_date) as int) as tenure_days,
        cast(datediff(features.cutoff_date, features.last_order_date) as int) as days_since_last_order,
        cast(features.orders_total as bigint) as orders_total,
        cast(features.orders_7d as bigint) as orders_7d,
        cast(features.orders_28d as bigint) as orders_28d,
        cast(features.lines_28d as bigint) as lines_28d,
        cast(features.distinct_products_28d as bigint) as distinct_products_28d,
        cast(features.revenue_total as double) as revenue_total,
        cast(features.revenue_28d as double) as revenue_28d,
        cast(features.revenue_total / features.orders_total as double) as avg_order_value,
        ---------- visits
        cast(features.sessions_7d as bigint) as sessions_7d,
        cast(features.sessions_prev_7d as bigint) as sessions_prev_7d,
        cast(features.sessions_28d as bigint) as sessions_28d,
        cast(features.cart_adds_28d as bigint) as cart_adds_28d,
        cast(features.product_views_28d as bigint) as product_views_28d,
        ---------- label
        date_add(features.cutoff_date, {{ horizon }}) as horizon_end_date,
        cast(
            case
                when date_add(features.cutoff_date, {{ horizon }}) > date_add(data_window.last_order_day, 1)
                    then null
                when features.ordered_in_horizon = 1 then 0
                else 1
            end as int
        ) as churned
    from features
    cross join data_window
    left join customer_versions
        on
            features.customer_id = customer_versions.customer_id
            and features.cutoff_date = customer_versions.cutoff_date
    where features.first_order_date is not null

)

select * from final
