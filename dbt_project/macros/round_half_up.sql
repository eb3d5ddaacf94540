{#- round_half_up(expr, digits): a floating-point expr rounded to `digits` decimals (halves
    away from zero), as a double, with the same result on every engine. A plain round() of a
    double is engine-dependent at halves: 65.975 is the binary 65.97499999...; DuckDB rounds
    the binary value (65.97), Spark its shortest decimal form (65.98). Going through
    decimal(38, 9) first makes both round 65.975 (-> 65.98). Use for published scores. -#}
{% macro round_half_up(expr, digits) -%}
    cast(round(cast({{ expr }} as decimal(38, 9)), {{ digits }}) as double)
{%- endmacro %}
