with

source as (

    select * from {{ source('shop', 'closed_deals') }}

),

renamed as (

    select
        ---------- ids
        mql_id,
        seller_id,

        ---------- numerics
        cast(declared_monthly_revenue as decimal(12, 2)) as declared_monthly_revenue,

        ---------- text
        business_segment,
        lead_type,

        ---------- dates
        cast(won_date as date) as won_date,

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
