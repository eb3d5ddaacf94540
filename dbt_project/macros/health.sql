{#- Customer-health helpers. Portable SQL only (no engine-specific functions here). -#}


{#- The known health components: name, group, the direction in which the raw measure is
    better. Configuration (seeds/health_components.csv) may only name these; each needs its
    own SQL in int_account_health_measures. Mirrored in orchestration/health_config.py. -#}
{% macro health_components() -%}
    {{ return([
        {'name': 'license_utilization', 'group': 'outcome',    'better': 'higher'},
        {'name': 'engagement',          'group': 'outcome',    'better': 'higher'},
        {'name': 'breadth',             'group': 'outcome',    'better': 'higher'},
        {'name': 'usage_trend',         'group': 'outcome',    'better': 'higher'},
        {'name': 'champion',            'group': 'outcome',    'better': 'higher'},
        {'name': 'support_burden',      'group': 'experience', 'better': 'lower'},
        {'name': 'responsiveness',      'group': 'experience', 'better': 'higher'},
        {'name': 'satisfaction',        'group': 'experience', 'better': 'higher'},
        {'name': 'payment',             'group': 'experience', 'better': 'lower'},
    ]) }}
{%- endmacro %}

{% macro health_alert_rules() -%}
    {{ return(['usage_drop', 'champion_gone', 'urgent_ticket_unsolved', 'health_red',
               'renewal_not_green', 'invoice_overdue']) }}
{%- endmacro %}


{#- health_component_score(measure, bad, good): the raw measure mapped linearly to 0-100
    (0 at bad, 100 at good, clamped; works both ways, good < bad when lower is better);
    null when the measure is null (no data). -#}
{% macro health_component_score(measure, bad, good) -%}
    case when {{ measure }} is null then null
         else 100.0 * least(1.0, greatest(0.0,
              (cast({{ measure }} as double) - {{ bad }}) / ({{ good }} - {{ bad }})))
    end
{%- endmacro %}


{#- health_delta(columns, column, value, date_expr, from_sql): one select of the delta rows
    feeding the running sums of int_account_health_measures: `value` in `column` on day
    `date_expr`, 0 in the other columns. `from_sql` must start 'from <relation> as <alias>'. -#}
{% macro health_delta(columns, column, value, date_expr, from_sql) -%}
    {#- from_sql is 'from <relation> as <alias> ...': the account is <alias>.account_id -#}
    {%- set alias = from_sql.split()[3] %}
    select
        {{ alias }}.account_id,
        cast({{ date_expr }} as date) as date_day
        {%- for c in columns %},
        {{ value if c == column else '0' }} as {{ c }}
        {%- endfor %}
    {{ from_sql }}
{%- endmacro %}


{#- cs_median(expr): median, as an ordered-set aggregate (DuckDB, Spark 3.3+, Postgres). -#}
{% macro cs_median(expr) -%}
    {{ return(adapter.dispatch('cs_median', 'cs_platform')(expr)) }}
{%- endmacro %}

{% macro default__cs_median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}


{#- validate_health_config(): fail with a clear message when the health configuration seeds
    are invalid. Use as an on-run-start hook ("{{ validate_health_config() }}"); models of
    the health layer call it too. Skipped while the seeds are not loaded yet (the Python
    validator orchestration/health_config.py checks the CSV files before any build). -#}
{% macro validate_health_config() -%}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- set registry = {} -%}
        {%- for c in health_components() -%}{%- do registry.update({c.name: c}) -%}{%- endfor -%}
        {%- set comp_rel = adapter.get_relation(database=target.database, schema='config', identifier='health_components') -%}
        {%- if comp_rel is not none -%}
            {%- set rows = run_query('select segment, component, component_group, enabled, weight, better, bad_threshold, good_threshold from ' ~ comp_rel) -%}
            {%- set totals = {} -%}
            {%- for r in rows.rows -%}
                {%- set where = 'health_components (segment ' ~ r[0] ~ ', component ' ~ r[1] ~ ')' -%}
                {%- if r[1] not in registry -%}
                    {%- do problems.append(where ~ ': unknown component; known: ' ~ (registry.keys() | list | join(', '))) -%}
                {%- else -%}
                    {%- set spec = registry[r[1]] -%}
                    {%- if r[2] != spec.group -%}{%- do problems.append(where ~ ': component_group must be ' ~ spec.group) -%}{%- endif -%}
                    {%- if r[5] != spec.better -%}{%- do problems.append(where ~ ': better must be ' ~ spec.better) -%}{%- endif -%}
                    {%- if r[4] is none or r[4] < 0 -%}{%- do problems.append(where ~ ': weight must be a number >= 0') -%}{%- endif -%}
                    {%- if r[6] is none or r[7] is none -%}
                        {%- do problems.append(where ~ ': bad_threshold and good_threshold are required') -%}
                    {%- elif spec.better == 'higher' and not (r[7] > r[6]) -%}
                        {%- do problems.append(where ~ ': thresholds in the wrong order: higher is better, so good_threshold (' ~ r[7] ~ ') must be above bad_threshold (' ~ r[6] ~ ')') -%}
                    {%- elif spec.better == 'lower' and not (r[7] < r[6]) -%}
                        {%- do problems.append(where ~ ': thresholds in the wrong order: lower is better, so good_threshold (' ~ r[7] ~ ') must be below bad_threshold (' ~ r[6] ~ ')') -%}
                    {%- endif -%}
                {%- endif -%}
            {%- endfor -%}
            {%- set weights = run_query(
                "with segs as (select distinct segment from " ~ comp_rel ~ "), "
                ~ "resolved as (select s.segment, b.component, coalesce(o.enabled, b.enabled) as enabled, coalesce(o.weight, b.weight) as weight "
                ~ "from segs s cross join (select * from " ~ comp_rel ~ " where segment = 'all') b "
                ~ "left join " ~ comp_rel ~ " o on o.segment = s.segment and o.component = b.component "
                ~ "union all select s.segment, o.component, o.enabled, o.weight from segs s join " ~ comp_rel ~ " o on o.segment = s.segment "
                ~ "where not exists (select 1 from " ~ comp_rel ~ " b where b.segment = 'all' and b.component = o.component)) "
                ~ "select s.segment, coalesce(sum(case when r.enabled then r.weight end), 0) from segs s left join resolved r on r.segment = s.segment group by s.segment") -%}
            {%- for r in weights.rows -%}
                {%- if not (r[1] > 0) -%}
                    {%- do problems.append('health_components: the enabled weights of segment ' ~ r[0] ~ ' sum to ' ~ r[1] ~ '; they must sum to a positive number') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set tier_rel = adapter.get_relation(database=target.database, schema='config', identifier='health_tiers') -%}
        {%- if tier_rel is not none -%}
            {%- set tiers = run_query('select segment, tier, min_score from ' ~ tier_rel ~ ' order by segment') -%}
            {%- set bands = {} -%}
            {%- for r in tiers.rows -%}
                {%- if r[1] not in ['green', 'yellow', 'red'] -%}
                    {%- do problems.append('health_tiers (segment ' ~ r[0] ~ '): unknown tier ' ~ r[1] ~ '; tiers are green, yellow, red') -%}
                {%- endif -%}
                {%- do bands.setdefault(r[0], {}).update({r[1]: r[2]}) -%}
            {%- endfor -%}
            {%- if 'all' not in bands -%}{%- do problems.append('health_tiers: segment all (the default) is missing') -%}{%- endif -%}
            {%- for seg, b in bands.items() -%}
                {%- set g = b.get('green', bands.get('all', {}).get('green')) -%}
                {%- set y = b.get('yellow', bands.get('all', {}).get('yellow')) -%}
                {%- set rd = b.get('red', bands.get('all', {}).get('red')) -%}
                {%- if g is none or y is none or rd is none -%}
                    {%- do problems.append('health_tiers (segment ' ~ seg ~ '): green, yellow and red are all required') -%}
                {%- elif not (g > y and y > rd) or rd != 0 -%}
                    {%- do problems.append('health_tiers (segment ' ~ seg ~ '): bands in the wrong order: need green (' ~ g ~ ') > yellow (' ~ y ~ ') > red = 0 (' ~ rd ~ ')') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set rule_rel = adapter.get_relation(database=target.database, schema='config', identifier='alert_rules') -%}
        {%- if rule_rel is not none -%}
            {%- set rules = run_query('select segment, rule, severity, threshold from ' ~ rule_rel) -%}
            {%- for r in rules.rows -%}
                {%- set where = 'alert_rules (segment ' ~ r[0] ~ ', rule ' ~ r[1] ~ ')' -%}
                {%- if r[1] not in health_alert_rules() -%}
                    {%- do problems.append(where ~ ': unknown rule; known: ' ~ (health_alert_rules() | join(', '))) -%}
                {%- endif -%}
                {%- if r[2] not in ['high', 'medium', 'low'] -%}
                    {%- do problems.append(where ~ ': severity must be high, medium or low') -%}
                {%- endif -%}
                {%- if r[1] != 'health_red' and (r[3] is none or r[3] <= 0) -%}
                    {%- do problems.append(where ~ ': threshold must be a positive number') -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error('Invalid customer-health configuration (dbt_project/seeds):\n  - ' ~ (problems | join('\n  - '))) }}
        {%- endif -%}
    {%- endif -%}
    select 1
{%- endmacro %}


{#- health_add_days(date_expr, days_expr): date_expr + days_expr days, as a date (days_expr
    may be a column). -#}
{% macro health_add_days(date_expr, days_expr) -%}
    cast({{ dbt.dateadd('day', days_expr, date_expr) }} as date)
{%- endmacro %}


{#- health_missing_parts(components): for dbt.concat, one piece per component giving
    '<name>,' when the component is enabled but has no data (its measure is null). -#}
{% macro health_missing_parts(components) -%}
    {%- set parts = [] -%}
    {%- for c in components -%}
        {%- do parts.append("case when " ~ c.name ~ "_enabled and " ~ c.name ~ "_measure is null then '" ~ c.name ~ ",' else '' end") -%}
    {%- endfor -%}
    {{ return(parts) }}
{%- endmacro %}
