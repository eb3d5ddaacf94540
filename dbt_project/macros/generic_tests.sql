{#- unique_combination_of_columns: no two rows share the same values of `combination`
    (a list of column names). Portable; written here because dbt packages are not used. -#}
{% test unique_combination_of_columns(model, combination, window_column=none) %}
    {#- window_column: on the large incremental tables, check only the rows of the refresh
        window (lookback_start() onwards: the rows this run rewrote), so a daily refresh does
        not re-scan all history; a full build passes refresh_start and checks everything. #}
    select {{ combination | join(', ') }}, count(*) as n_rows
    from {{ model }}
    {% if window_column %}where {{ window_column }} >= {{ lookback_start() }}{% endif %}
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
