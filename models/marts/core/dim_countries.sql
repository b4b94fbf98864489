{{ config(meta={'gold': true}) }}

with

countries as (

    select * from {{ ref('stg_raw__countries') }}

),

final as (

    select
        country_id,
        country_name,
        continent,
        region_code,
        coalesce(currency_code, 'GBP') as currency_code,
        _ingested_at as updated_at
    from countries

)

select * from final
