{{ config(meta={'gold': true}) }}

with

customer_versions as (

    select * from {{ ref('snap_customers') }}

),

validity_windows as (

    select
        {{ hash_key(['customer_id', 'dbt_valid_from']) }} as customer_sk,
        customer_id,
        customer_name,
        email,
        country_id,
        segment,
        registration_date,
        -- the first version covers everything before it: the customer existed before its first change
        case
            when row_number() over (partition by customer_id order by dbt_valid_from) = 1
                then timestamp '1900-01-01 00:00:00'
            else dbt_valid_from
        end as valid_from,
        coalesce(dbt_valid_to, timestamp '9999-12-31 00:00:00') as valid_to,
        dbt_valid_to is null as is_current
    from customer_versions

),

unknown_customer as (

    select
        '-1' as customer_sk,
        'unknown' as customer_id,
        'Unknown customer' as customer_name,
        cast(null as string) as email,
        cast(null as string) as country_id,
        'unknown' as segment,
        cast(null as date) as registration_date,
        timestamp '1900-01-01 00:00:00' as valid_from,
        timestamp '9999-12-31 00:00:00' as valid_to,
        true as is_current

)

select * from validity_windows
union all
select * from unknown_customer
