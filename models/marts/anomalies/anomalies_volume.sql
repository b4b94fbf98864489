{#-
    Volume anomalies: one row per landed batch whose row count is far off the usual count of its source at
    the same hour of day. The usual count is the median rows of the previous volume_baseline_batches batches
    of the same source, hour of day and hour basis (batches flagged on earlier runs and still NEW or
    REVIEWED left out, RESOLVED ones count again). A batch is judged once that median rests on at least
    volume_min_observations batches and is at least volume_min_median_rows rows; it is a drop below
    median * volume_drop_ratio, a spike above median * volume_spike_ratio.

    The batch manifest is small (one row per landed file): every run judges all of it in one window
    query. Incremental merge on anomaly_id, as the other anomaly marts: a flag is written once with what
    it was judged on, and its review status is never reset.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='anomaly_id',
        on_schema_change='fail',
        full_refresh=false,
        meta={'gold': true},
    )
}}

{%- set detection_columns = [
    'anomaly_id', 'batch_id', 'source', 'file', 'hour_of_day', 'hour_basis', 'batch_at', 'started_at',
    'finished_at', 'rows', 'median_rows', 'observation_count', 'volume_change', 'rows_ratio',
    'deviation_factor', 'threshold_rows', 'drop_ratio', 'spike_ratio',
] %}

{#- `<yyyy-MM-dd>T<HH>` in the file's name (not in its folders): the hour the generator's batches cover. -#}
{%- set covered_hour_pattern = '([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2})[^/]*$' %}

with

batch_manifest as (

    select * from {{ source('raw', '_batches') }}

),

review_status as (

    select * from {{ ref('int_anomalies__review_status') }}

),

landed_batches as (

    select
        {{ hash_key(["'volume'", 'batch_id', 'checksum']) }} as anomaly_id,
        batch_id,
        source,
        file,
        rows,
        started_at,
        finished_at,
        try_to_timestamp(
            concat(
                regexp_extract(file, '{{ covered_hour_pattern }}', 1),
                ' ',
                regexp_extract(file, '{{ covered_hour_pattern }}', 2)
            ),
            'yyyy-MM-dd HH'
        ) as covered_hour

    from batch_manifest
    where status = 'succeeded' and rows is not null

),

batches_timed as (

    select
        anomaly_id,
        batch_id,
        source,
        file,
        rows,
        started_at,
        finished_at,
        coalesce(hour(covered_hour), hour(started_at)) as hour_of_day,
        case when covered_hour is not null then 'file_name' else 'started_at' end as hour_basis,
        coalesce(covered_hour, started_at) as batch_at

    from landed_batches

),

batches_under_review as (
    {{ anomaly_ids_under_review('anomalies_volume', 'review_status') }}
),

observations as (

    select batches_timed.*
    from batches_timed
    left anti join batches_under_review
        on batches_timed.anomaly_id = batches_under_review.anomaly_id

),

batches_with_baseline as (

    select
        observations.*,
        cast(percentile(observations.rows, 0.5) over previous_batches as double) as median_rows,
        count(*) over previous_batches as observation_count

    from observations
    window previous_batches as (
        partition by observations.source, observations.hour_basis, observations.hour_of_day
        order by observations.batch_at, observations.started_at, observations.batch_id
        rows between {{ var('volume_baseline_batches') }} preceding and 1 preceding
    )

),

batches_scored as (

    select
        anomaly_id,
        batch_id,
        source,
        file,
        hour_of_day,
        hour_basis,
        batch_at,
        started_at,
        finished_at,
        rows,
        median_rows,
        observation_count,
        case
            when rows < median_rows * {{ var('volume_drop_ratio') }} then 'drop'
            when rows > median_rows * {{ var('volume_spike_ratio') }} then 'spike'
        end as volume_change,
        rows / median_rows as rows_ratio,
        cast({{ var('volume_drop_ratio') }} as double) as drop_ratio,
        cast({{ var('volume_spike_ratio') }} as double) as spike_ratio

    from batches_with_baseline
    where
        observation_count >= {{ var('volume_min_observations') }}
        and median_rows >= {{ var('volume_min_median_rows') }}

),

already_flagged as (
    {{ anomaly_ids_flagged_before() }}
),

new_flags as (

    select
        batches_scored.anomaly_id,
        batches_scored.batch_id,
        batches_scored.source,
        batches_scored.file,
        batches_scored.hour_of_day,
        batches_scored.hour_basis,
        batches_scored.batch_at,
        batches_scored.started_at,
        batches_scored.finished_at,
        batches_scored.rows,
        batches_scored.median_rows,
        batches_scored.observation_count,
        batches_scored.volume_change,
        batches_scored.rows_ratio,
        case
            when batches_scored.volume_change = 'drop'
                then batches_scored.median_rows / greatest(batches_scored.rows, 1)
            else batches_scored.rows / batches_scored.median_rows
        end as deviation_factor,
        batches_scored.median_rows * case
            when batches_scored.volume_change = 'drop' then batches_scored.drop_ratio
            else batches_scored.spike_ratio
        end as threshold_rows,
        batches_scored.drop_ratio,
        batches_scored.spike_ratio

    from batches_scored
    left anti join already_flagged
        on batches_scored.anomaly_id = already_flagged.anomaly_id
    where batches_scored.volume_change is not null

),

merged as (
    {{ anomaly_merge_rows('new_flags', 'review_status', detection_columns) }}
)

select * from merged
