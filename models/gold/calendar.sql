with

dates as (

    select * from {{ gold_mart('dim_date') }}

)

select
    date_day as calendar_date,
    date_key,
    calendar_year,
    calendar_quarter,
    month_of_year,
    calendar_year_month,
    month_name,
    day_of_month,
    iso_day_of_week,
    day_name,
    iso_week,
    is_weekend
from dates
