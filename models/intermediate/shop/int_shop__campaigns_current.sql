with

versions as (

    select * from {{ ref('stg_shop__campaigns') }}

),

-- the last version of each key: batches sort in extraction order, rows within a batch in cursor order
ranked as (

    select
        *,
        row_number() over (
            partition by campaign_id
            order by _batch_id desc, _row_number desc
        ) as version_rank
    from versions

)

select
    campaign_id,
    campaign_name,
    channel,
    campaign_code,
    start_date,
    end_date,
    daily_budget,
    updated_at,
    _extra,
    _batch_id,
    _ingested_at
from ranked
where version_rank = 1 and not is_deleted
