with

source as (

    select * from {{ source('reviews', 'anomaly_review_events') }}

),

renamed as (

    select
        ---------- ids
        event_id,
        anomaly_id,
        anomaly_type,

        ---------- change
        upper(trim(from_status)) as from_status,
        upper(trim(to_status)) as to_status,
        note as review_note,
        changed_by,
        changed_at,

        ---------- lineage
        _synced_at

    from source

)

select * from renamed
