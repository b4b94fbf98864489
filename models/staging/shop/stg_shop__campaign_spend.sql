with

source as (

    select * from {{ source('shop', 'campaign_spend') }}

),

renamed as (

    select
        ---------- ids
        campaign_id,

        ---------- numerics
        cast(spend as decimal(12, 2)) as spend,
        cast(impressions as int) as impressions,
        cast(clicks as int) as clicks,

        ---------- dates
        cast(spend_date as date) as spend_date,

        ---------- timestamps
        cast(updated_at as timestamp) as updated_at,

        ---------- change data capture
        _op = 'delete' as is_deleted,
        _cursor,
        _extra,

        ---------- lineage
        batch_id as _batch_id,
        _row_number,
        _ingested_at

    from source

)

select * from renamed
