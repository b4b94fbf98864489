{#-
    The relation a model left in the warehouse on the previous run, or none before its first run.

    For feedback loops that a ref() would turn into a cycle: the anomaly baselines read the flags of the
    previous detection run (to leave out lines still under review), and the detection reads the baselines.
    The edge is not in dbt's DAG on purpose; it is the state of the last run, like {{ this }} in an
    incremental model. Returns none at parse time.
-#}
{% macro prior_state_of(model_name) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.' ~ project_name ~ '.' ~ model_name) -%}
    {%- if node is none -%}
        {{ exceptions.raise_compiler_error("prior_state_of: no model named " ~ model_name) }}
    {%- endif -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}
