{#-
    The published ALS model's top 10 products per customer (lakehouse/ml), with the product's current name
    and category.
-#}
with

recommendations as (

    select * from {{ gold_history('product_recommendations', lake_source='ml') }}

),

current_products as (

    select
        stock_code,
        product_name,
        category
    from {{ gold_mart('dim_products') }}
    where is_current

)

select
    recommendations.customer_id,
    recommendations.rank,
    recommendations.stock_code,
    current_products.product_name,
    current_products.category,
    recommendations.score,
    recommendations.model_version,
    recommendations.scored_at
from recommendations
left join current_products
    on recommendations.stock_code = current_products.stock_code
