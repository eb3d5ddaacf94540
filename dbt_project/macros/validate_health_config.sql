{#- validate_health_config(): fail with a clear message when the customer-health
    configuration seeds loaded into the warehouse are invalid. Called by
    int_account_health_config (so every health model is built from a validated
    configuration); skipped for a seed that is not loaded.

    The same checks, in the same order and with the same messages, as
    orchestration/health_config.py, the complete validator the pipeline runs on the CSV files
    before every build (it also names the CSV line and checks the files' columns, which dbt
    cannot get wrong once a seed is loaded). The two read the same registry
    (dbt_project.yml vars health_components / health_alert_rules); change a rule in both. -#}
{% macro validate_health_config() -%}
    {%- if execute -%}
        {%- set problems = [] -%}
        {%- do health_config_check_components(problems) -%}
        {%- do health_config_check_tiers(problems) -%}
        {%- do health_config_check_alerts(problems) -%}
        {%- do health_config_check_sla(problems) -%}
        {%- set features = health_config_rows('core_features', 'feature') -%}
        {%- if features is not none and not (features | selectattr(0) | list) -%}
            {%- do problems.append('core_features.csv: no core feature listed') -%}
        {%- endif -%}
        {%- if problems -%}
            {{ exceptions.raise_compiler_error('Invalid customer-health configuration in the loaded seeds (schema config):\n  - ' ~ (problems | join('\n  - '))) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The rows of a configuration seed (a list of tuples of `columns`), none when not loaded. -#}
{% macro health_config_rows(seed, columns) -%}
    {%- set rel = adapter.get_relation(database=target.database, schema='config', identifier=seed) -%}
    {%- if rel is none -%}{{ return(none) }}{%- endif -%}
    {{ return(run_query('select ' ~ columns ~ ' from ' ~ rel).rows) }}
{%- endmacro %}

{% macro health_config_number(x) -%}{{ return('%g' | format(x)) }}{%- endmacro %}


{% macro health_config_check_components(problems) -%}
    {%- set rows = health_config_rows('health_components', 'segment, component, component_group, enabled, weight, window_days, better, bad_threshold, good_threshold') -%}
    {%- if rows is none -%}{{ return(none) }}{%- endif -%}
    {%- set registry = {} -%}
    {%- for c in health_components() -%}{%- do registry.update({c.name: c}) -%}{%- endfor -%}
    {%- set seen = [] -%}
    {%- set resolved = {} -%}
    {%- for r in rows -%}
        {%- set seg, comp = r[0], r[1] -%}
        {%- set where = 'health_components.csv (segment ' ~ (seg or '?') ~ ', component ' ~ (comp or '?') ~ ')' -%}
        {%- if not seg -%}{%- do problems.append(where ~ ': segment is empty (use `all` for the default)') -%}{%- endif -%}
        {%- if (seg, comp) in seen -%}{%- do problems.append(where ~ ': duplicate row') -%}{%- endif -%}
        {%- do seen.append((seg, comp)) -%}
        {%- if comp not in registry -%}
            {%- do problems.append(where ~ ': unknown component; known: ' ~ (registry.keys() | list | join(', '))) -%}
        {%- else -%}
            {%- set spec = registry[comp] -%}
            {%- if r[2] != spec.group -%}{%- do problems.append(where ~ ': component_group must be ' ~ spec.group ~ ", not '" ~ r[2] ~ "'") -%}{%- endif -%}
            {%- if r[6] != spec.better -%}{%- do problems.append(where ~ ': better must be ' ~ spec.better ~ ", not '" ~ r[6] ~ "'") -%}{%- endif -%}
            {%- if r[3] is none -%}{%- do problems.append(where ~ ": enabled must be true or false, not ''") -%}{%- endif -%}
            {%- if r[4] is none or r[4] < 0 -%}{%- do problems.append(where ~ ": weight must be a number >= 0, not '" ~ (r[4] if r[4] is not none else '') ~ "'") -%}{%- endif -%}
            {%- if r[5] is not none -%}
                {%- if r[5] < 1 or r[5] > 365 -%}{%- do problems.append(where ~ ": window_days must be a whole number of days in 1..365, not '" ~ r[5] ~ "'") -%}{%- endif -%}
            {%- elif comp != 'payment' -%}
                {%- do problems.append(where ~ ': window_days is required') -%}
            {%- endif -%}
            {%- set bad, good = r[7], r[8] -%}
            {%- if bad is none or good is none -%}
                {%- do problems.append(where ~ ': bad_threshold and good_threshold must be numbers') -%}
            {%- elif spec.better == 'higher' and not (good > bad) -%}
                {%- do problems.append(where ~ ': thresholds in the wrong order: higher is better, so good_threshold (' ~ health_config_number(good) ~ ') must be above bad_threshold (' ~ health_config_number(bad) ~ ')') -%}
            {%- elif spec.better == 'lower' and not (good < bad) -%}
                {%- do problems.append(where ~ ': thresholds in the wrong order: lower is better, so good_threshold (' ~ health_config_number(good) ~ ') must be below bad_threshold (' ~ health_config_number(bad) ~ ')') -%}
            {%- endif -%}
            {%- if r[3] is not none and r[4] is not none -%}
                {%- do resolved.setdefault(seg, {}).update({comp: (r[3], r[4])}) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'all' not in resolved -%}{%- do problems.append('health_components.csv: no `all` (default) rows') -%}{%- endif -%}
    {%- for seg in resolved -%}
        {%- set merged = {} -%}
        {%- do merged.update(resolved.get('all', {})) -%}
        {%- do merged.update(resolved[seg]) -%}
        {%- set total = merged.values() | selectattr(0) | map(attribute=1) | sum -%}
        {%- if not (total > 0) -%}
            {%- do problems.append('health_components.csv: the enabled weights of segment ' ~ seg ~ ' sum to ' ~ health_config_number(total) ~ '; they must sum to a positive number') -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{% macro health_config_check_tiers(problems) -%}
    {%- set rows = health_config_rows('health_tiers', 'segment, tier, min_score') -%}
    {%- if rows is none -%}{{ return(none) }}{%- endif -%}
    {%- set bands = {} -%}
    {%- for r in rows -%}
        {%- set where = 'health_tiers.csv (segment ' ~ (r[0] or '?') ~ ', tier ' ~ (r[1] or '?') ~ ')' -%}
        {%- if r[1] not in ['green', 'yellow', 'red'] -%}
            {%- do problems.append(where ~ ': unknown tier; tiers are green, yellow, red') -%}
        {%- elif r[2] is none or r[2] < 0 or r[2] > 100 -%}
            {%- do problems.append(where ~ ': min_score must be a number in 0..100') -%}
        {%- else -%}
            {%- if r[1] in bands.get(r[0], {}) -%}{%- do problems.append(where ~ ': duplicate row') -%}{%- endif -%}
            {%- do bands.setdefault(r[0], {}).update({r[1]: r[2]}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if 'all' not in bands -%}{%- do problems.append('health_tiers.csv: no `all` (default) rows') -%}{%- endif -%}
    {%- for seg, b in bands.items() -%}
        {%- set m = {} -%}
        {%- do m.update(bands.get('all', {})) -%}
        {%- do m.update(b) -%}
        {%- if 'green' not in m or 'yellow' not in m or 'red' not in m -%}
            {%- do problems.append('health_tiers.csv (segment ' ~ seg ~ '): green, yellow and red are all required') -%}
        {%- elif not (m.green > m.yellow and m.yellow > m.red and m.red == 0) -%}
            {%- do problems.append('health_tiers.csv (segment ' ~ seg ~ '): bands in the wrong order: need green (' ~ health_config_number(m.green) ~ ') > yellow (' ~ health_config_number(m.yellow) ~ ') > red = 0 (' ~ health_config_number(m.red) ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{% macro health_config_check_alerts(problems) -%}
    {%- set rows = health_config_rows('alert_rules', 'segment, rule, enabled, severity, threshold') -%}
    {%- if rows is none -%}{{ return(none) }}{%- endif -%}
    {%- set seen = [] -%}
    {%- for r in rows -%}
        {%- set where = 'alert_rules.csv (segment ' ~ (r[0] or '?') ~ ', rule ' ~ (r[1] or '?') ~ ')' -%}
        {%- if (r[0], r[1]) in seen -%}{%- do problems.append(where ~ ': duplicate row') -%}{%- endif -%}
        {%- do seen.append((r[0], r[1])) -%}
        {%- if r[1] not in health_alert_rules() -%}
            {%- do problems.append(where ~ ': unknown rule; known: ' ~ (health_alert_rules() | join(', '))) -%}
        {%- endif -%}
        {%- if r[3] not in ['high', 'medium', 'low'] -%}
            {%- do problems.append(where ~ ': severity must be one of high, medium, low') -%}
        {%- endif -%}
        {%- if r[2] is none -%}{%- do problems.append(where ~ ': enabled must be true or false') -%}{%- endif -%}
        {%- if r[1] != 'health_red' and (r[4] is none or r[4] <= 0) -%}
            {%- do problems.append(where ~ ": threshold must be a positive number, not '" ~ (r[4] if r[4] is not none else '') ~ "'") -%}
        {%- endif -%}
        {%- if r[1] == 'usage_drop' and r[4] is not none and not (r[4] > 0 and r[4] < 1) -%}
            {%- do problems.append(where ~ ': threshold is a fraction of usage lost, in (0, 1)') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not (rows | selectattr(0, 'equalto', 'all') | list) -%}
        {%- do problems.append('alert_rules.csv: no `all` (default) rows') -%}
    {%- endif -%}
{%- endmacro %}


{% macro health_config_check_sla(problems) -%}
    {%- set rows = health_config_rows('sla_targets', 'priority, first_reply_hours') -%}
    {%- if rows is none -%}{{ return(none) }}{%- endif -%}
    {%- for r in rows -%}
        {%- if r[0] not in ['urgent', 'high', 'normal', 'low'] -%}
            {%- do problems.append("sla_targets.csv: unknown priority '" ~ r[0] ~ "'") -%}
        {%- endif -%}
        {%- if r[1] is none or r[1] <= 0 -%}
            {%- do problems.append('sla_targets.csv: first_reply_hours must be a positive number') -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}
