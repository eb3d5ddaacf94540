-- A paying subscription state in a currency with no FX rate on the day it began is an
-- error, never a zero: the build stops here until the rate is delivered. A rate delivered
-- with conflicting values is quarantined (stg_ingestion__rejects) and counts as missing.
select
    event_id,
    subscription_id,
    state_date,
    currency,
    items_missing_fx_rate,
    'FX rate missing or quarantined (see stg_ingestion__rejects)' as problem
from {{ ref('int_subscription_states') }}
where is_missing_fx_rate
