{{ config(
    materialized='incremental',
    unique_key=['date'],
    **incremental_by_date('date'),
) }}
-- noqa: disable=LT02
-- (the Jinja loops over the components below lay out their own indentation)
-- Customer health per account and day (daily history). Each component's raw measure
-- (int_account_health_measures) is mapped to 0-100 by the account's segment thresholds
-- (seeds/health_components.csv): 100 * clamp((measure - bad) / (good - bad), 0, 1). The
-- overall score is the weighted mean of the enabled components that have data (weights
-- renormalised over them); outcome / experience scores the same within each group. A
-- component without data is left out and listed in `coverage`. Drivers: the components that
-- cost the most points, points = weight x (100 - score) / sum of the weights used (they add
-- up to 100 - health_score). Incremental over lookback_start() like fct_account_daily.
{%- set components = health_components() %}
{%- set n = components | length %}
with

measures as (

    select * from {{ ref('int_account_health_measures') }}
    {% if is_incremental() -%}
    where date_day >= {{ lookback_start() }}
    {%- endif %}

),

cfg as (

    select * from {{ ref('int_account_health_config') }}

),

component_scores as (

    select
        measures.*,
        cfg.tier_green_min,
        cfg.tier_yellow_min,
        cfg.alert_health_declined_threshold
        {%- for c in components %},
        cfg.{{ c.name }}_enabled
        {%- endfor %}
        {%- for c in components %},
        case when cfg.{{ c.name }}_enabled then
            {{ round_half_up(health_component_score('measures.' ~ c.name ~ '_measure', 'cfg.' ~ c.name ~ '_bad', 'cfg.' ~ c.name ~ '_good'), 2) }}
        end as {{ c.name }}_score,
        case when cfg.{{ c.name }}_enabled and measures.{{ c.name }}_measure is not null
            then cfg.{{ c.name }}_weight else 0 end as {{ c.name }}_weight_used
        {%- endfor %}
    from measures
    inner join cfg on cfg.account_id = measures.account_id

),

weighted as (

    select
        component_scores.*,
        {%- for g in ['outcome', 'experience'] %}
        {%- set members = components | selectattr('group', 'equalto', g) | list %}
        {% for c in members %}{{ c.name }}_weight_used{{ ' + ' if not loop.last }}{% endfor %} as {{ g }}_weight_used,
        {% for c in members %}coalesce({{ c.name }}_score, 0) * {{ c.name }}_weight_used{{ ' + ' if not loop.last }}{% endfor %} as {{ g }}_points,
        {%- endfor %}
        {% for c in components %}{{ c.name }}_weight_used{{ ' + ' if not loop.last }}{% endfor %} as total_weight_used
    from component_scores

),

overall as (

    select
        weighted.*,
        case when outcome_weight_used > 0 then {{ round_half_up('outcome_points / outcome_weight_used', 2) }} end as outcome_score,
        case when experience_weight_used > 0 then {{ round_half_up('experience_points / experience_weight_used', 2) }} end as experience_score,
        case when total_weight_used > 0
            then {{ round_half_up('(outcome_points + experience_points) / total_weight_used', 2) }} end as health_score
        {%- for c in components %},
        case when {{ c.name }}_weight_used > 0
            then {{ round_half_up(c.name ~ '_weight_used * (100 - ' ~ c.name ~ '_score) / total_weight_used', 2) }}
            else 0 end as {{ c.name }}_points_lost
        {%- endfor %}
    from weighted

),

ranked as (

    select
        overall.*,
        case
            when health_score is null then null
            when health_score >= tier_green_min then 'green'
            when health_score >= tier_yellow_min then 'yellow'
            else 'red'
        end as health_tier
        {%- for c in components %}
        {%- set i = loop.index %},
        case when {{ c.name }}_points_lost > 0 then 1
            {%- for d in components %}
            {%- if d.name != c.name %}
            + case when {{ d.name }}_points_lost > {{ c.name }}_points_lost
                {%- if loop.index < i %} or {{ d.name }}_points_lost = {{ c.name }}_points_lost{% endif %} then 1 else 0 end
            {%- endif %}
            {%- endfor %}
        end as {{ c.name }}_driver_rank
        {%- endfor %}
    from overall

),

{% if is_incremental() -%}
{%- do require_stored_columns(['days_in_tier'], 'the days in the current tier cannot be recovered from the last days alone') %}
history as (

    select account_id, date, health_score, health_tier, days_in_tier
    from {{ this }}
    where date >= {{ health_add_days(lookback_start(), '-31') }}
      and date < {{ lookback_start() }}

),
{%- endif %}

trail as (

    select account_id, date_day as date, health_score, health_tier, cast(null as integer) as carried_days_in_tier
    from ranked
    {% if is_incremental() -%}
    union all
    select account_id, date, health_score, health_tier, days_in_tier from history
    {%- endif %}

),

tier_starts as (

    -- the first day of each spell in a tier (no tier is a spell too): the trail's first row
    -- starts one, unless it is a stored day, whose days_in_tier says where its spell began
    select
        account_id, date, health_score, health_tier,
        case
            when row_number() over (partition by account_id order by date) = 1
                then {{ health_add_days('date', '1 - coalesce(carried_days_in_tier, 1)') }}
            when coalesce(health_tier, '-') <> coalesce(lag(health_tier, 1) over (partition by account_id order by date), '-')
                then date
        end as spell_start
    from trail

),

lagged as (

    -- the account's days are contiguous, so 30 rows back is 30 days back
    select
        account_id,
        date,
        lag(health_score, 7) over (partition by account_id order by date) as health_score_7d_before,
        lag(health_score, 30) over (partition by account_id order by date) as health_score_30d_before,
        lag(health_tier, 1) over (partition by account_id order by date) as health_tier_previous_day,
        lag(health_tier, 7) over (partition by account_id order by date) as health_tier_7d_before,
        lag(health_tier, 30) over (partition by account_id order by date) as health_tier_30d_before,
        max(spell_start) over (partition by account_id order by date rows between unbounded preceding and current row) as tier_since
    from tier_starts

),

described as (

    select
        ranked.*,
        lagged.health_score_7d_before,
        lagged.health_score_30d_before,
        lagged.health_tier_previous_day,
        lagged.health_tier_7d_before,
        lagged.health_tier_30d_before,
        case when ranked.health_tier is not null
            then {{ dbt.datediff('lagged.tier_since', 'ranked.date_day', 'day') }} + 1
        end as days_in_tier,
        {{ dbt.concat(["''"] + health_missing_parts(components)) }} as coverage_list
        {%- for k in range(1, 4) %},
        case
            {%- for c in components %}
            when ranked.{{ c.name }}_driver_rank = {{ k }} then '{{ c.name }}'
            {%- endfor %}
        end as driver_{{ k }},
        case
            {%- for c in components %}
            when ranked.{{ c.name }}_driver_rank = {{ k }} then ranked.{{ c.name }}_score
            {%- endfor %}
        end as driver_{{ k }}_score,
        case
            {%- for c in components %}
            when ranked.{{ c.name }}_driver_rank = {{ k }} then ranked.{{ c.name }}_points_lost
            {%- endfor %}
        end as driver_{{ k }}_points_lost
        {%- endfor %}
    from ranked
    inner join lagged on lagged.account_id = ranked.account_id and lagged.date = ranked.date_day

)

select
    {{ dbt.concat(["account_id", "'|'", dbt.safe_cast("date_day", dbt.type_string())]) }} as account_day_id,
    account_id,
    date_day as date,
    segment,
    mrr,
    is_paying,
    -- components: raw measure and 0-100 score (null = no data or not enabled)
    {%- for c in components %}
    {{ c.name }}_measure,
    {{ c.name }}_score,
    {%- endfor %}
    outcome_score,
    experience_score,
    health_score,
    health_tier,
    health_score_30d_before,
    {{ round_half_up('health_score - health_score_30d_before', 2) }} as health_score_change_30d,
    health_tier_previous_day,
    -- trend: the tier's spell, the tier a week and a month before, and a week's decline
    -- (by the health_declined rule's threshold, seeds/alert_rules.csv)
    days_in_tier, health_tier_7d_before, health_tier_30d_before, health_score_7d_before,
    {{ round_half_up('health_score - health_score_7d_before', 2) }} as health_score_change_7d,
    coalesce(health_score_7d_before - health_score >= alert_health_declined_threshold, false) as declined_7d,
    -- why: the components that cost the most points (ranked), with their scores
    driver_1, driver_1_score, driver_1_points_lost,
    driver_2, driver_2_score, driver_2_points_lost,
    driver_3, driver_3_score, driver_3_points_lost,
    -- coverage: the enabled components without data (left out, weights renormalised)
    case when {{ dbt.length('coverage_list') }} > 0
        then substring(coverage_list, 1, {{ dbt.length('coverage_list') }} - 1) else '' end as coverage,
    ({% for c in components %}case when {{ c.name }}_enabled and {{ c.name }}_measure is null then 1 else 0 end{{ ' + ' if not loop.last }}{% endfor %})
        as components_missing,
    ({% for c in components %}case when {{ c.name }}_weight_used > 0 then 1 else 0 end{{ ' + ' if not loop.last }}{% endfor %})
        as components_scored,
    -- evidence for the risk alerts (mart_cs_alerts)
    has_paying_annual,
    first_event_date,
    first_admin_active_date,
    events_trend_window,
    events_prior_trend_window,
    admins_active_alert_window,
    max_days_overdue,
    overdue_invoices,
    oldest_overdue_invoice_id,
    urgent_tickets_breached,
    urgent_breached_ticket_id
from described
