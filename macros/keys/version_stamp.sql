{#-
    The text a version key is hashed from when a version starts at a timestamp: the date alone when the
    version starts at midnight (the keys of versions landed before times of day were accepted stay the
    same), else the timestamp to the second.
-#}
{% macro version_stamp(ts) -%}
    case
        when {{ ts }} = cast(cast({{ ts }} as date) as timestamp) then cast(cast({{ ts }} as date) as string)
        else date_format({{ ts }}, 'yyyy-MM-dd HH:mm:ss')
    end
{%- endmacro %}

{#-
    A version's start from a raw string: `yyyy-MM-dd HH:mm:ss`, ISO 8601 with a zone, epoch milliseconds,
    or a date alone meaning midnight UTC.
-#}
{% macro parse_version_start(column) -%}
    coalesce(
        {{ parse_unambiguous_timestamp(column) }},
        cast(cast(try_to_timestamp({{ column }}, 'yyyy-MM-dd') as date) as timestamp)
    )
{%- endmacro %}
