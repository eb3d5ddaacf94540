{#- unique_combination_of_columns: no two rows share the same values of `combination`
    (a list of column names). Portable; written here because dbt packages are not used. -#}
{% test unique_combination_of_columns(model, combination) %}
    select {{ combination | join(', ') }}, count(*) as n_rows
    from {{ model }}
    group by {{ combination | join(', ') }}
    having count(*) > 1
{% endtest %}
