{#-
    One row per (order_id, status) an order has been in, with the time it entered that status. The order's
    milestone timestamps (purchased_at for created, approved_at, shipped_at, delivered_at, canceled_at) say
    when; a status seen in an extracted version without its milestone falls back to the first such version's
    updated_at. Statuses skipped between two extractions are still found through their milestones. Orders
    whose last version is a delete are left out.
-#}

with

order_versions as (

    select * from {{ ref('stg_shop__orders') }}
    where not is_deleted

),

current_orders as (

    select * from {{ ref('int_shop__orders_current') }}

),

-- every status the versions show, entered at their milestone (or, without one, the version's time)
statuses_from_versions as (

    select
        order_id,
        status,
        case status
            when 'created' then purchased_at
            when 'approved' then approved_at
            when 'shipped' then shipped_at
            when 'delivered' then delivered_at
            when 'canceled' then canceled_at
        end as milestone_at,
        updated_at
    from order_versions

),

-- the milestones of the current version: statuses passed between two extractions
statuses_from_milestones as (

    select
        current_orders.order_id,
        milestones.status,
        milestones.milestone_at,
        cast(null as timestamp) as updated_at
    from current_orders
        lateral view stack(
            5,
            'created', current_orders.purchased_at,
            'approved', current_orders.approved_at,
            'shipped', current_orders.shipped_at,
            'delivered', current_orders.delivered_at,
            'canceled', current_orders.canceled_at
        ) milestones as status, milestone_at
    where milestones.milestone_at is not null

),

sightings as (

    select * from statuses_from_versions
    union all
    select * from statuses_from_milestones

),

statuses as (

    select
        sightings.order_id,
        sightings.status,
        coalesce(min(sightings.milestone_at), min(sightings.updated_at)) as entered_at,
        min(sightings.milestone_at) is not null as is_from_milestone
    from sightings
    left semi join current_orders
        on sightings.order_id = current_orders.order_id
    group by sightings.order_id, sightings.status

),

ordered as (

    select
        order_id,
        status,
        entered_at,
        lead(entered_at) over by_entered as exited_at,
        row_number() over by_entered as status_sequence,
        lead(entered_at) over by_entered is null as is_current_status,
        is_from_milestone
    from statuses
    window by_entered as (partition by order_id order by entered_at, {{ shop_status_rank('status') }})

)

select * from ordered
