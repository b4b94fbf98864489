{#- The endpoint group of a request path (the unit of the site-health marts). Order matters: first match wins. -#}
{% macro access_log_endpoint_group(path, method) -%}
    case
        when {{ method }} is null then 'bad_request'
        when {{ path }} = '/health' then 'health_check'
        when {{ path }} rlike '(^/(wp-|wordpress|phpmyadmin|cgi-bin|xmlrpc|server-status|config\\.json$))|(/\\.(env|git|aws|ht))'
            then 'probe'
        when {{ path }} like '/static/%' or {{ path }} in ('/favicon.ico', '/robots.txt') then 'static'
        when {{ path }} like '/api/cart%' then 'api_cart'
        when {{ path }} like '/api/orders%' then 'api_orders'
        when {{ path }} like '/api/%' then 'api_other'
        when {{ path }} like '/product/%' then 'product_page'
        when {{ path }} like '/checkout%' then 'checkout'
        when {{ path }} = '/' then 'home'
        else 'other_page'
    end
{%- endmacro %}
