{#- Generic tests for SCD2 tables: validity windows [valid_from, valid_to) per key. -#}

{#- A null valid_to is an open window (the current version): read as the far future. -#}
{% test scd2_no_overlapping_windows(model, key, valid_from='valid_from', valid_to='valid_to') %}
    {%- set far_future = "timestamp '9999-12-31 00:00:00'" -%}
    select
        a.{{ key }},
        a.{{ valid_from }} as a_valid_from,
        a.{{ valid_to }} as a_valid_to,
        b.{{ valid_from }} as b_valid_from,
        b.{{ valid_to }} as b_valid_to
    from {{ model }} as a
    inner join {{ model }} as b
        on a.{{ key }} = b.{{ key }}
        and a.{{ valid_from }} < coalesce(b.{{ valid_to }}, {{ far_future }})
        and b.{{ valid_from }} < coalesce(a.{{ valid_to }}, {{ far_future }})
        and a.{{ valid_from }} < b.{{ valid_from }}
    union all
    select
        {{ key }},
        {{ valid_from }},
        {{ valid_to }},
        {{ valid_from }},
        {{ valid_to }}
    from {{ model }}
    where {{ valid_from }} >= coalesce({{ valid_to }}, {{ far_future }})
{% endtest %}

{% test scd2_one_current_row(model, key, is_current='is_current') %}
    select
        {{ key }},
        count_if({{ is_current }}) as current_rows
    from {{ model }}
    group by {{ key }}
    having count_if({{ is_current }}) <> 1
{% endtest %}
