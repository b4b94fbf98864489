{#-
    shop.customers as SCD2 from its version history (stg_shop__customers: every extracted version, so versions
    between two builds are kept, which a dbt snapshot taken at build time would miss): one row per version
    landed, valid from its updated_at until the next version's (null = current). A key whose last event is
    a delete keeps its last version as the current row, flagged is_deleted.
-#}

with

versions as (

    select * from {{ ref('stg_shop__customers') }}

),

-- one row per version (key, updated_at): a version landed twice (a re-extracted batch) counts once
distinct_versions as (

    select
        *,
        row_number() over (
            partition by customer_id, updated_at
            order by _batch_id desc, _row_number desc
        ) as landing_rank
    from versions
    where not is_deleted

),

-- the key's last event when it is a delete (tombstone): when the customer left the source
last_events as (

    select
        customer_id,
        is_deleted,
        cast(_cursor as timestamp) as event_at,
        row_number() over (
            partition by customer_id
            order by _batch_id desc, _row_number desc
        ) as event_rank
    from versions

),

deletions as (

    select
        customer_id,
        event_at as deleted_at
    from last_events
    where event_rank = 1 and is_deleted

),

validity_windows as (

    select
        {{ hash_key(['customer_id', 'updated_at']) }} as customer_sk,
        customer_id,
        customer_unique_id,
        customer_name,
        email,
        zip_code_prefix,
        city,
        state,
        created_at,
        updated_at as valid_from,
        lead(updated_at) over by_updated_at as valid_to,
        lead(updated_at) over by_updated_at is null as is_current,
        _batch_id
    from distinct_versions
    where landing_rank = 1
    window by_updated_at as (partition by customer_id order by updated_at)

)

select
    validity_windows.customer_sk,
    validity_windows.customer_id,
    validity_windows.customer_unique_id,
    validity_windows.customer_name,
    validity_windows.email,
    validity_windows.zip_code_prefix,
    validity_windows.city,
    validity_windows.state,
    validity_windows.created_at,
    validity_windows.valid_from,
    validity_windows.valid_to,
    validity_windows.is_current,
    validity_windows.is_current and deletions.customer_id is not null as is_deleted,
    case when validity_windows.is_current then deletions.deleted_at end as deleted_at,
    'shop_db' as source_system,
    validity_windows._batch_id
from validity_windows
left join deletions
    on validity_windows.customer_id = deletions.customer_id
