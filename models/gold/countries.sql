with

countries as (

    select * from {{ gold_mart('dim_countries') }}

)

select
    country_id as country_code,
    country_name as country,
    continent,
    region_code as sales_region,
    currency_code
from countries
