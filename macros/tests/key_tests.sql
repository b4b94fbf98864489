{#-
    Generic test: no two rows share the values of ``combination_of_columns`` (a composite key), like
    dbt_utils' test of the same name (no package hub here). Fails with one row per duplicated key.
-#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
select
    {{ combination_of_columns | join(', ') }},
    count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endtest %}
