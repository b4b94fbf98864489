{#-
    The normal daily revenue (GBP, cancellations excluded) of every country, as this run's volume detection
    uses it: statistics over the days of the training window with sales, minus the country-days flagged
    on earlier runs and still NEW or REVIEWED (RESOLVED ones count again).
-#}
{{ config(meta={'gold': true}) }}

with

country_days as (

    select * from {{ ref('int_anomalies__country_daily_revenue') }}

),

windows as (

    select * from {{ ref('int_anomalies__windows') }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

days_under_review as (
    {{ anomaly_ids_under_review('anomalies_country_revenue', 'review_status') }}
),

training_days as (

    select
        country_days.country_id,
        country_days.revenue_gbp

    from country_days
    left anti join days_under_review
        on country_days.anomaly_id = days_under_review.anomaly_id
    where not country_days.in_detection_window

),

baseline_stats as (
    {{ anomaly_baseline_stats('training_days', 'country_id', 'revenue_gbp') }}
),

days_to_score as (

    select
        country_id,
        count(*) as detection_day_count

    from country_days
    where in_detection_window
    group by country_id

),

countries as (

    select country_id from baseline_stats
    union
    select country_id from days_to_score

),

baselines as (

    select
        countries.country_id,
        {{ anomaly_not_scored_reason('baseline_stats.observation_count', 'baseline_stats.baseline_stddev') }}
            as not_scored_reason,
        coalesce(baseline_stats.observation_count, 0) as observation_count,
        baseline_stats.baseline_median as median_revenue_gbp,
        baseline_stats.baseline_mean as mean_revenue_gbp,
        baseline_stats.baseline_stddev as stddev_revenue_gbp,
        cast({{ var('anomaly_k') }} as double) as k,
        {{ anomaly_threshold('baseline_stats.baseline_median', 'baseline_stats.baseline_stddev') }}
            as threshold_revenue_gbp,
        coalesce(days_to_score.detection_day_count, 0) as detection_day_count,
        windows.training_start,
        windows.detection_start,
        windows.detection_end

    from countries
    cross join windows
    left join baseline_stats
        on countries.country_id = baseline_stats.country_id
    left join days_to_score
        on countries.country_id = days_to_score.country_id

),

final as (

    select
        country_id,
        not_scored_reason is null as is_scored,
        not_scored_reason,
        observation_count,
        median_revenue_gbp,
        mean_revenue_gbp,
        stddev_revenue_gbp,
        k,
        case when not_scored_reason is null then threshold_revenue_gbp end as threshold_revenue_gbp,
        detection_day_count,
        training_start,
        detection_start,
        detection_end

    from baselines

)

select * from final
