{#-
    Every training run of the churn and recommendation models (lakehouse/ml), published or refused by its
    gate: the model's quality metric on the time-based holdout next to its baseline's (churn: ROC AUC against
    the recency-only rule; recommendations: precision@10 against the most popular products).
-#}
with

runs as (

    select * from {{ gold_history('training_runs', lake_source='ml') }}

),

measured as (

    select
        *,
        case when model = 'churn' then 'auc' else 'precision_at_10' end as quality_metric
    from runs

)

select
    run_id,
    model,
    model_version,
    started_at,
    finished_at,
    data_from,
    data_to,
    train_rows,
    quality_metric,
    (metrics::jsonb ->> quality_metric)::double precision as quality,
    (baseline_metrics::jsonb ->> quality_metric)::double precision as baseline_quality,
    gate_passed,
    gate_reason,
    published,
    params,
    metrics,
    baseline_metrics
from measured
