with

source as (

    select * from {{ source('shop', 'campaigns') }}

),

renamed as (

    select
        ---------- ids
        campaign_id,

        ---------- numerics
        cast(daily_budget as decimal(12, 2)) as daily_budget,

        ---------- text
        campaign_name,
        channel,
        campaign_code,

        ---------- dates
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,

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
