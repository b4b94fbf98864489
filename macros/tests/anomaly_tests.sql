{#-
    Generic test for anomaly baselines: a scored baseline has enough observations and a positive standard
    deviation (the rule never divides by zero); an unscored one says why.
-#}
{% test assert_scored_baselines_are_valid(model, observation_column, stddev_column) %}
    select *
    from {{ model }}
    where
        (
            is_scored
            and (
                {{ observation_column }} < {{ var('anomaly_min_observations') }}
                or {{ stddev_column }} is null
                or {{ stddev_column }} <= 0
            )
        )
        or (not is_scored and not_scored_reason is null)
{% endtest %}
