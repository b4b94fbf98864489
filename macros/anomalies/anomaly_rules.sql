{#-
    The anomaly rule, in one place for every detector (models/marts/anomalies).

    A value is anomalous when it is above median + k * stddev of its baseline (the rule of the seed
    project); z_score = (value - mean) / stddev is stored beside it. A baseline with fewer observations than
    anomaly_min_observations, or whose stddev is zero or undefined, is not scored (never divided by zero).
-#}

{#- Baseline statistics of `value` per `group_by` over the rows of `observations` (a CTE name). -#}
{% macro anomaly_baseline_stats(observations, group_by, value) %}
    select
        {{ group_by }},
        count(*) as observation_count,
        cast(percentile_approx({{ value }}, 0.5) as double) as baseline_median,
        cast(avg({{ value }}) as double) as baseline_mean,
        cast(stddev_samp({{ value }}) as double) as baseline_stddev
    from {{ observations }}
    group by {{ group_by }}
{% endmacro %}

{#- Why a baseline is not scored, null when it is. -#}
{% macro anomaly_not_scored_reason(observation_count, stddev) %}
    case
        when coalesce({{ observation_count }}, 0) < {{ var('anomaly_min_observations') }}
            then 'too_few_observations'
        when {{ stddev }} is null or {{ stddev }} = 0 then 'zero_stddev'
    end
{% endmacro %}

{#- The threshold above which a value is flagged. -#}
{% macro anomaly_threshold(median, stddev) %}
    ({{ median }} + {{ var('anomaly_k') }} * {{ stddev }})
{% endmacro %}

{#- (value - mean) / stddev; null when stddev is zero or null. -#}
{% macro anomaly_z_score(value, mean, stddev) %}
    case when {{ stddev }} > 0 then ({{ value }} - {{ mean }}) / {{ stddev }} end
{% endmacro %}

{#-
    The ids flagged by `model_name` on earlier runs whose current review status is NEW or REVIEWED:
    baselines leave them out; RESOLVED flags (judged legitimate) count as normal observations again.
    `review_status` is the CTE of the current review statuses (int_anomalies__review_status).
-#}
{% macro anomaly_ids_under_review(model_name, review_status) %}
    {%- set flags = prior_state_of(model_name) -%}
    {%- if flags is not none %}
    select flags.anomaly_id
    from {{ flags }} as flags
    left join {{ review_status }} as reviews
        on flags.anomaly_id = reviews.anomaly_id
    where coalesce(reviews.review_status, flags.status) in ('NEW', 'REVIEWED')
    {%- else %}
    select reviews.anomaly_id
    from {{ review_status }} as reviews
    where false
    {%- endif %}
{% endmacro %}

{#- The ids an incremental anomaly mart holds already (none on its first run). -#}
{% macro anomaly_ids_flagged_before() %}
    {%- if is_incremental() %}
    select anomaly_id from {{ this }}
    {%- else %}
    select cast(null as string) as anomaly_id
    where false
    {%- endif %}
{% endmacro %}

{#-
    The merge input of an incremental anomaly mart: `new_flags` (a CTE with the mart's detection columns,
    not yet in the mart) get their review status (NEW unless a review already exists); flags already in the
    mart are re-emitted only when a review changed them, keeping everything they were detected with.
    Re-running detection never duplicates a flag and never resets a status.
-#}
{% macro anomaly_merge_rows(new_flags, review_status, detection_columns) %}
    select
        {%- for column in detection_columns %}
        new_flags.{{ column }},
        {%- endfor %}
        cast('{{ run_started_at }}' as timestamp) as detected_at,
        coalesce(reviews.review_status, 'NEW') as status,
        reviews.review_note,
        reviews.reviewed_by,
        reviews.reviewed_at,
        reviews.review_event_id,
        cast('{{ run_started_at }}' as timestamp) as _loaded_at
    from {{ new_flags }} as new_flags
    left join {{ review_status }} as reviews
        on new_flags.anomaly_id = reviews.anomaly_id
    {%- if is_incremental() %}

    union all

    select
        {%- for column in detection_columns %}
        flagged.{{ column }},
        {%- endfor %}
        flagged.detected_at,
        reviews.review_status as status,
        reviews.review_note,
        reviews.reviewed_by,
        reviews.reviewed_at,
        reviews.review_event_id,
        cast('{{ run_started_at }}' as timestamp) as _loaded_at
    from {{ this }} as flagged
    inner join {{ review_status }} as reviews
        on flagged.anomaly_id = reviews.anomaly_id
    where not (flagged.review_event_id <=> reviews.review_event_id)
    {%- endif %}
{% endmacro %}
