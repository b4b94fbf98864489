{{ config(meta={'gold': true}) }}

with

product_windows as (

    select * from {{ ref('int_products__windows') }}

)

select * from product_windows
