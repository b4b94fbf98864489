{#- The current review of every reviewed anomaly: its latest change in the audit trail. -#}
with

review_events as (

    select * from {{ ref('stg_reviews__anomaly_review_events') }}

),

ranked as (

    select
        *,
        row_number() over (partition by anomaly_id order by event_id desc) as recency

    from review_events

),

current_reviews as (

    select
        anomaly_id,
        anomaly_type,
        to_status as review_status,
        review_note,
        changed_by as reviewed_by,
        changed_at as reviewed_at,
        event_id as review_event_id

    from ranked
    where recency = 1

)

select * from current_reviews
