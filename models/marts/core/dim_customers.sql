{{ config(meta={'gold': true}) }}

with

customer_windows as (

    select * from {{ ref('int_customers__windows') }}

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

select * from customer_windows
union all
select * from unknown_customer
