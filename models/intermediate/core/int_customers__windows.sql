{#-
    Customer versions in valid time: a window starts at a version's updated_at when segment, country,
    name, e-mail or registration differ from the previous version, and ends where the next one starts.
    The first version covers everything before it (the customer existed before its first recorded
    change), so orders placed before it find it.
-#}
{{ config(materialized='view') }}

with

customer_versions as (

    select * from {{ ref('snap_customer_versions') }}
    where dbt_valid_to is null

),

-- a version only starts a window when something changed: daily customer files repeat the same state
version_changes as (

    select
        *,
        coalesce(
            customer_name <=> lag(customer_name) over by_updated_at
            and email <=> lag(email) over by_updated_at
            and country_id <=> lag(country_id) over by_updated_at
            and segment <=> lag(segment) over by_updated_at
            and registration_date <=> lag(registration_date) over by_updated_at,
            false
        ) as repeats_previous_version
    from customer_versions
    window by_updated_at as (partition by customer_id order by updated_at)

),

validity_windows as (

    select
        {{ hash_key(['customer_id', 'updated_at']) }} as customer_sk,
        customer_id,
        customer_name,
        email,
        country_id,
        segment,
        registration_date,
        case
            when row_number() over by_updated_at = 1 then timestamp '1900-01-01 00:00:00'
            else updated_at
        end as valid_from,
        coalesce(lead(updated_at) over by_updated_at, timestamp '9999-12-31 00:00:00') as valid_to,
        lead(updated_at) over by_updated_at is null as is_current
    from version_changes
    where not repeats_previous_version
    window by_updated_at as (partition by customer_id order by updated_at)

)

select * from validity_windows
