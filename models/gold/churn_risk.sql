{#-
    The published churn model's score per customer (lakehouse/ml, scored after the pipeline), with the
    customer's current country and segment so the dashboard can slice the risk. top_driver is the feature
    that moved the customer's score most.
-#}
with

risk as (

    select * from {{ gold_history('customer_churn_risk', lake_source='ml') }}

),

current_customers as (

    select
        customer_id,
        country_id,
        segment
    from {{ gold_mart('dim_customers') }}
    where is_current

)

select
    risk.customer_id,
    current_customers.country_id,
    current_customers.segment,
    risk.cutoff_date,
    risk.churn_probability,
    risk.risk_band,
    split_part(risk.top_drivers, ',', 1) as top_driver,
    risk.top_drivers,
    risk.model_name,
    risk.model_version,
    risk.scored_at
from risk
left join current_customers
    on risk.customer_id = current_customers.customer_id
