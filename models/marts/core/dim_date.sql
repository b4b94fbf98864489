{{ config(meta={'gold': true}) }}

with

days as (

    select explode(sequence(
        to_date('{{ var("dim_date_start", "2009-01-01") }}'),
        to_date('{{ var("dim_date_end", "2030-12-31") }}'),
        interval 1 day
    )) as date_day

),

final as (

    select
        cast(date_format(date_day, 'yyyyMMdd') as int) as date_key,
        date_day,
        year(date_day) as calendar_year,
        quarter(date_day) as calendar_quarter,
        month(date_day) as month_of_year,
        date_format(date_day, 'yyyy-MM') as calendar_year_month,
        date_format(date_day, 'MMMM') as month_name,
        dayofmonth(date_day) as day_of_month,
        weekday(date_day) + 1 as iso_day_of_week,
        date_format(date_day, 'EEEE') as day_name,
        weekofyear(date_day) as iso_week,
        weekday(date_day) >= 5 as is_weekend
    from days

)

select * from final
