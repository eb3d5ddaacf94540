-- noqa: disable=LT02
-- (the Jinja loops over tiers, severities and stages below lay out their own indentation)
-- The book of business of each CSM (csm_owner of dim_accounts; accounts without one under
-- 'unassigned') on the as-of date: accounts, ARR and how healthy it is, the ARR at risk,
-- the renewals due in the next 90 days (mart_renewals), the open alerts (mart_cs_alerts)
-- and the accounts in each lifecycle stage. Every account of dim_accounts is in exactly one
-- book, so the books' ARR adds up to the company's ARR to the cent.
{%- set tiers = ['green', 'yellow', 'red'] %}
{%- set stages = ['trial', 'handover', 'onboarding', 'active', 'renewal', 'at_risk', 'churned'] %}
{%- set severities = ['high', 'medium', 'low'] %}
with

accounts as (

    select
        *,
        {{ csm_book('csm_owner') }} as book
    from {{ ref('dim_accounts') }}

),

as_of as (

    select as_of_date from {{ ref('int_as_of_date') }}

),

renewals_due as (

    -- due from the as-of date up to 90 days ahead (the lifecycle's renewal window). prior_arr
    -- is the account's ARR, so an account with two due dates in the window counts it once
    select
        renewals.account_id,
        count(*) as renewals_due,
        max(renewals.prior_arr) as renewals_due_arr
    from {{ ref('mart_renewals') }} as renewals
    cross join as_of
    where renewals.due_date >= as_of.as_of_date
        and renewals.due_date <= {{ health_add_days('as_of.as_of_date', '90') }}
    group by renewals.account_id

),

open_alerts as (

    select
        account_id
        {%- for severity in severities %},
        sum(case when severity = '{{ severity }}' then 1 else 0 end) as open_alerts_{{ severity }}
        {%- endfor %}
    from {{ ref('mart_cs_alerts') }}
    where status = 'open'
    group by account_id

),

account_facts as (

    select
        accounts.book,
        accounts.account_id,
        accounts.is_paying,
        accounts.current_mrr,
        accounts.current_arr,
        accounts.health_tier,
        accounts.lifecycle_stage,
        coalesce(renewals_due.renewals_due, 0) as renewals_due,
        coalesce(renewals_due.renewals_due_arr, 0) as renewals_due_arr
        {%- for severity in severities %},
        coalesce(open_alerts.open_alerts_{{ severity }}, 0) as open_alerts_{{ severity }}
        {%- endfor %}
    from accounts
    left join renewals_due on renewals_due.account_id = accounts.account_id
    left join open_alerts on open_alerts.account_id = accounts.account_id

)

select
    account_facts.book as csm_owner,
    as_of.as_of_date,
    cast(count(*) as {{ dbt.type_bigint() }}) as accounts,
    cast(sum(case when account_facts.is_paying then 1 else 0 end) as {{ dbt.type_bigint() }}) as paying_accounts,
    cast(sum(account_facts.current_mrr) as decimal(18, 2)) as mrr,
    cast(sum(account_facts.current_arr) as decimal(18, 2)) as arr,
    -- ARR by health tier on the as-of date (unscored: no tier that day); they add up to arr
    {%- for tier in tiers %}
    cast(sum(case when account_facts.health_tier = '{{ tier }}' then account_facts.current_arr else 0 end)
        as decimal(18, 2)) as arr_{{ tier }},
    {%- endfor %}
    cast(sum(case when account_facts.health_tier is null then account_facts.current_arr else 0 end)
        as decimal(18, 2)) as arr_unscored,
    -- at risk: paying and red (the churn model's high band will join this when it exists)
    cast(sum(case when account_facts.is_paying and account_facts.health_tier = 'red' then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as accounts_at_risk,
    cast(sum(case when account_facts.is_paying and account_facts.health_tier = 'red' then account_facts.current_arr else 0 end)
        as decimal(18, 2)) as arr_at_risk,
    -- renewals due in the next 90 days
    cast(sum(account_facts.renewals_due) as {{ dbt.type_bigint() }}) as renewals_due_90d,
    cast(sum(case when account_facts.renewals_due > 0 then 1 else 0 end) as {{ dbt.type_bigint() }}) as renewal_accounts_90d,
    cast(sum(account_facts.renewals_due_arr) as decimal(18, 2)) as renewals_due_90d_arr,
    -- open alerts
    {%- for severity in severities %}
    cast(sum(account_facts.open_alerts_{{ severity }}) as {{ dbt.type_bigint() }}) as open_alerts_{{ severity }},
    {%- endfor %}
    -- accounts per lifecycle stage on the as-of date
    {%- for stage in stages %}
    cast(sum(case when account_facts.lifecycle_stage = '{{ stage }}' then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as stage_{{ stage }},
    {%- endfor %}
    cast(sum(case when account_facts.lifecycle_stage is null then 1 else 0 end)
        as {{ dbt.type_bigint() }}) as stage_none
from account_facts
cross join as_of
group by account_facts.book, as_of.as_of_date
