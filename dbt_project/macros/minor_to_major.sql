{#- minor_to_major(amount_minor, exponent)
    An integer amount in the currency's minor unit -> major units as numeric(28,6),
    e.g. 1999 cents -> 19.99 (exponent from seeds/currencies.csv). -#}
{% macro minor_to_major(amount_minor, exponent) -%}
    {{ return(adapter.dispatch('minor_to_major', 'cs_platform')(amount_minor, exponent)) }}
{%- endmacro %}

{#- DuckDB. -#}
{% macro default__minor_to_major(amount_minor, exponent) -%}
    cast({{ amount_minor }} / power(10, {{ exponent }}) as {{ dbt.type_numeric() }})
{%- endmacro %}

{#- Minor -> major units in exact decimal arithmetic (power() is a double on Spark). -#}
{% macro spark__minor_to_major(amount_minor, exponent) -%}
    cast(cast({{ amount_minor }} as decimal(38, 6)) / cast(power(10, {{ exponent }}) as decimal(38, 0))
         as {{ dbt.type_numeric() }})
{%- endmacro %}
