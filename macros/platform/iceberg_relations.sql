{#-
    Fix for dbt-labs/dbt-spark#870 / dbt-labs/dbt-adapters#489 (open upstream as of dbt-spark 1.11).

    dbt-spark lists relations with `show table extended` and marks a relation Iceberg only when the text
    carries `Provider: iceberg`. For Iceberg tables in Spark's session catalog (SparkSessionCatalog over
    a Hive metastore) that text says `Provider: hive`; the table is recognisable by the `table_type=ICEBERG`
    table property. Without the fix the second `dbt snapshot` fails ("... is in another format than
    'delta' or 'iceberg' or 'hudi'"), and incremental/table materializations take their non-Iceberg paths.

    This override returns the same rows (schema, name, isTemporary, information) with the provider
    corrected, which is all that dbt-spark's `_build_spark_relation_list` reads.
-#}
{% macro spark__list_relations_without_caching(relation) %}
  {% call statement('list_relations_without_caching', fetch_result=True) -%}
    show table extended in {{ relation.schema }} like '*'
  {% endcall %}
  {% set rows = [] %}
  {% for row in load_result('list_relations_without_caching').table %}
    {% set information = row[3] %}
    {% if 'TABLE_TYPE=ICEBERG' in information|upper and 'Provider: iceberg' not in information %}
      {% set information = information | replace('Provider: hive', 'Provider: iceberg') %}
      {% if 'Provider: iceberg' not in information %}
        {% set information = information ~ '\nProvider: iceberg\n' %}
      {% endif %}
    {% endif %}
    {% do rows.append([row[0], row[1], row[2], information]) %}
  {% endfor %}
  {% do return(rows) %}
{% endmacro %}
