{#- health_component_score(measure, bad, good): the raw measure mapped linearly to 0-100
    (0 at bad, 100 at good, clamped; works both ways, good < bad when lower is better);
    null when the measure is null (no data). -#}
{% macro health_component_score(measure, bad, good) -%}
    case when {{ measure }} is null then null
         else 100.0 * least(1.0, greatest(0.0,
              (cast({{ measure }} as double) - {{ bad }}) / ({{ good }} - {{ bad }})))
    end
{%- endmacro %}
