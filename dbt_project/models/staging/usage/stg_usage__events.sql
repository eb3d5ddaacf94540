{{ config(materialized='view') }}
-- One row per product event (message_id): a message delivered more than once keeps its
-- first delivery (earliest drop, then earliest received_at). event_date is the UTC day the
-- event happened, which late events make earlier than their drop. The logic lives in
-- macros/usage_events.sql, shared with the incremental usage models (which read only the
-- drops of their window).
{{ usage_events() }}
