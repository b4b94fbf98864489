{#-
    A deterministic surrogate key: sha2-256 of the columns, nulls spelled out so that
    ('a', null) and (null, 'a') never collide. Keep the column order stable: it is part of the key.
-#}
{% macro hash_key(columns) -%}
    sha2(concat_ws('||'
    {%- for column in columns %}, coalesce(cast({{ column }} as string), '<null>')
    {%- endfor %}), 256)
{%- endmacro %}
