{#- Customer versions (SCD2); names and e-mails are keyed hashes in gold (the raw values stay in the lake). -#}
with

customers as (

    select * from {{ gold_mart('dim_customers') }}

)

select
    customer_sk as customer_version_key,
    customer_id as customer_key,
    customer_name as customer_name_hash,
    email as email_hash,
    country_id as country_code,
    segment as customer_segment,
    registration_date,
    valid_from,
    valid_to,
    is_current
from customers
