{#- Generic tests for the gold BI layer (PostgreSQL). -#}

{#- A PII column in gold holds the export's keyed hash (32 hex digits), never a readable value. -#}
{% test hashed_pii(model, column_name) %}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} is not null and {{ column_name }} !~ '^[0-9a-f]{32}$'
{% endtest %}

{#- Funnel steps are cumulative: each step has at most as many sessions as the one before. -#}
{% test funnel_steps_never_grow(model) %}
    select *
    from {{ model }}
    where
        viewed_sessions > sessions
        or cart_sessions > viewed_sessions
        or checkout_sessions > cart_sessions
        or purchase_sessions > checkout_sessions
{% endtest %}
