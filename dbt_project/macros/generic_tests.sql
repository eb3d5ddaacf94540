{#- unique_combination_of_columns: no two rows share the same values of `combination`
    (a list of column names). Portable; written here because dbt packages are not used. -#}
{% test unique_combination_of_columns(model, combination) %}
    select {{ combination | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}


{#- non_negative: no row has a negative value in the column. -#}
{% test non_negative(model, column_name) %}
    select {{ column_name }} from {{ model }} where {{ column_name }} < 0
{% endtest %}


{#- between: every non-null value lies in [min_value, max_value] (either bound optional). -#}
{% test between(model, column_name, min_value=none, max_value=none) %}
    select {{ column_name }} from {{ model }}
    where {{ column_name }} is not null
      and ({% if min_value is not none %}{{ column_name }} < {{ min_value }}{% else %}false{% endif %}
           or {% if max_value is not none %}{{ column_name }} > {{ max_value }}{% else %}false{% endif %})
{% endtest %}
