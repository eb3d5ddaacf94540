-- noqa: disable=LT02
-- (the Jinja loops over the components and rules below lay out their own indentation)
-- The health configuration resolved per account (its current segment): for every known
-- component whether it counts, its weight, window and thresholds; the tier bands; and every
-- alert rule's switch, severity and threshold. A row of the account's segment overrides the
-- `all` row (seeds/health_components.csv, health_tiers.csv, alert_rules.csv).
{%- do validate_health_config() %}
{%- set components = health_components() %}
{%- set rules = health_alert_rules() %}
with

customers as (

    select * from {{ ref('stg_billing__customers') }}
    where account_id is not null

),

latest_customer as (

    {{ deduplicate('customers', 'account_id', 'updated_at desc, customer_id desc') }}

),

accounts as (

    select account_id, coalesce(segment, 'unknown') as segment from latest_customer

),

component_config as (

    select * from {{ ref('health_components') }}

),

known_components as (

    {%- for c in components %}
    select '{{ c.name }}' as component{{ ' union all' if not loop.last }}
    {%- endfor %}

),

resolved_components as (

    select
        accounts.account_id,
        known_components.component,
        coalesce(seg.enabled, base.enabled, false) as enabled,
        coalesce(seg.weight, base.weight, 0) as weight,
        coalesce(seg.window_days, base.window_days) as window_days,
        coalesce(seg.bad_threshold, base.bad_threshold) as bad_threshold,
        coalesce(seg.good_threshold, base.good_threshold) as good_threshold
    from accounts
    cross join known_components
    left join component_config as base
        on base.segment = 'all' and base.component = known_components.component
    left join component_config as seg
        on seg.segment = accounts.segment and seg.component = known_components.component

),

components_wide as (

    select
        account_id
        {%- for c in components %},
        max(case when component = '{{ c.name }}' then enabled end) as {{ c.name }}_enabled,
        max(case when component = '{{ c.name }}' and enabled then weight else 0 end) as {{ c.name }}_weight,
        max(case when component = '{{ c.name }}' then coalesce(window_days, 30) end) as {{ c.name }}_window_days,
        max(case when component = '{{ c.name }}' then bad_threshold end) as {{ c.name }}_bad,
        max(case when component = '{{ c.name }}' then good_threshold end) as {{ c.name }}_good
        {%- endfor %}
    from resolved_components
    group by account_id

),

tiers as (

    select * from {{ ref('health_tiers') }}

),

tiers_wide as (

    select
        accounts.account_id
        {%- for t in ['green', 'yellow', 'red'] %},
        coalesce(
            max(case when tiers.segment = accounts.segment and tiers.tier = '{{ t }}' then tiers.min_score end),
            max(case when tiers.segment = 'all' and tiers.tier = '{{ t }}' then tiers.min_score end)
        ) as tier_{{ t }}_min
        {%- endfor %}
    from accounts
    cross join tiers
    group by accounts.account_id

),

rules as (

    select * from {{ ref('alert_rules') }}

),

rules_wide as (

    select
        accounts.account_id
        {%- for r in rules %},
        coalesce(
            max(case when rules.segment = accounts.segment and rules.rule = '{{ r }}' then case when rules.enabled then 1 else 0 end end),
            max(case when rules.segment = 'all' and rules.rule = '{{ r }}' then case when rules.enabled then 1 else 0 end end),
            0) = 1 as alert_{{ r }}_enabled,
        coalesce(
            max(case when rules.segment = accounts.segment and rules.rule = '{{ r }}' then rules.severity end),
            max(case when rules.segment = 'all' and rules.rule = '{{ r }}' then rules.severity end)
        ) as alert_{{ r }}_severity,
        coalesce(
            max(case when rules.segment = accounts.segment and rules.rule = '{{ r }}' then rules.threshold end),
            max(case when rules.segment = 'all' and rules.rule = '{{ r }}' then rules.threshold end)
        ) as alert_{{ r }}_threshold
        {%- endfor %}
    from accounts
    cross join rules
    group by accounts.account_id

)

select
    accounts.account_id,
    accounts.segment,
    {%- for c in components %}
    {%- for f in ['enabled', 'weight', 'window_days', 'bad', 'good'] %}
    components_wide.{{ c.name }}_{{ f }},
    {%- endfor %}
    {%- endfor %}
    {%- for t in ['green', 'yellow', 'red'] %}
    tiers_wide.tier_{{ t }}_min,
    {%- endfor %}
    {%- for r in rules %}
    rules_wide.alert_{{ r }}_enabled,
    rules_wide.alert_{{ r }}_severity,
    rules_wide.alert_{{ r }}_threshold,
    {%- endfor %}
    greatest(
        {%- for c in components %}
        components_wide.{{ c.name }}_window_days,
        {%- endfor %}
        coalesce(rules_wide.alert_champion_gone_threshold, 0)
    ) as max_window_days,
    -- the longest window counted over user- or feature-level activity (the big inputs)
    greatest(
        components_wide.license_utilization_window_days,
        components_wide.engagement_window_days,
        components_wide.breadth_window_days,
        components_wide.champion_window_days,
        coalesce(cast(rules_wide.alert_champion_gone_threshold as integer), 0)
    ) as max_user_window_days
from accounts
inner join components_wide on components_wide.account_id = accounts.account_id
inner join tiers_wide on tiers_wide.account_id = accounts.account_id
inner join rules_wide on rules_wide.account_id = accounts.account_id
