-- Every fact line carries the product version in effect at its invoice time and that version's price, or none
-- (null) when no version is in effect: a line priced by its charged price alone, postage, fees and the like.
with

fact_lines as (

    select * from {{ ref('fct_order_lines') }}

),

product_windows as (

    select * from {{ ref('dim_products') }}

)

select
    fact_lines.order_line_key,
    fact_lines.stock_code,
    fact_lines.invoice_ts,
    fact_lines.product_sk,
    fact_lines.list_unit_price_gbp,
    product_windows.product_sk as product_sk_in_effect,
    product_windows.unit_price as unit_price_in_effect
from fact_lines
left join product_windows
    on fact_lines.stock_code = product_windows.stock_code
        and fact_lines.invoice_ts >= product_windows.valid_from
        and fact_lines.invoice_ts < product_windows.valid_to
where
    (fact_lines.product_sk <=> product_windows.product_sk) = false
    or (fact_lines.list_unit_price_gbp <=> product_windows.unit_price) = false
