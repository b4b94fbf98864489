{#-
    The lake mart `name` as the gold BI layer reads it: the export's copy in PostgreSQL
    (source gold_marts), or, when the docs are built with `--vars '{lineage: true}'` (`make docs`),
    the lake model itself, so that one lineage graph runs from the raw sources through the lake
    and the gold views to the dashboards' exposures.
-#}
{% macro gold_mart(name) -%}
    {%- if var('lineage', false) -%}
        {{ ref(name) }}
    {%- else -%}
        {{ source('gold_marts', name) }}
    {%- endif -%}
{%- endmacro %}

{#-
    A table the flows write into the lake (the run history, models/ops/_ops__sources.yml; the machine
    learning outputs, source ml) as the gold BI layer reads it: the export's copy in PostgreSQL, or, for
    the lineage graph of `make docs`, the lake table itself.
-#}
{% macro gold_history(name, lake_source='ops') -%}
    {%- if var('lineage', false) -%}
        {{ source(lake_source, name) }}
    {%- else -%}
        {{ source('gold_marts', name) }}
    {%- endif -%}
{%- endmacro %}
