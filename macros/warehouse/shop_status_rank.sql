{#- The position of a shop order status in its lifecycle (created 1 .. delivered 4, canceled 5): breaks ties
    between statuses entered at the same time (an order approved the second it was placed). -#}
{% macro shop_status_rank(status) -%}
    case {{ status }}
        when 'created' then 1
        when 'approved' then 2
        when 'shipped' then 3
        when 'delivered' then 4
        when 'canceled' then 5
    end
{%- endmacro %}
