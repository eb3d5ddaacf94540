"""The landing-zone contract (docs/source_contract.md) as data: one place for every object's
fields, their types, and how each lands in the raw layer.

Each object maps to one raw table: a Parquet dataset at
``<raw>/<source>/<table>/drop_date=<YYYY-MM-DD>/data.parquet``.
Every raw row carries the load metadata columns ``_drop_date``, ``_source_file``,
``_source_line`` (1-based line for JSONL, row number for Parquet) and ``_loaded_at``.

Field types:
- ``str``      string (ids are strings)
- ``int``      integer (bool is not accepted)
- ``bool``     boolean
- ``float``    number
- ``unix``     integer seconds since epoch -> naive UTC timestamp
- ``ts``       ISO-8601 string with explicit offset -> naive UTC timestamp
- ``date``     YYYY-MM-DD string -> date
- ``currency`` ISO 4217 code, stored lower case; must be in seeds/currencies.csv
Timestamps in the raw layer are naive and in UTC, so that casting to a date is the UTC day on
every engine.

Ingestion rules that use these attributes (implemented in reader.py):
- ``Field.is_id`` (``*_id`` and ``external_id``): leading/trailing whitespace is trimmed; an
  id that is empty after trimming counts as missing.
- every ``unix``/``ts``/``date`` field: earlier than the source's first complete drop minus
  ``ingestion.plausibility.max_days_before_first_drop`` -> quarantined; a ``Field.own_time``
  field (when the record itself happened, not a future-by-nature date such as
  current_period_end or due_date) later than the drop date plus
  ``ingestion.plausibility.max_days_after_drop`` -> quarantined.
- ``RawObject.time_column`` is the raw column that places a record in time.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Field:
    column: str                 # raw column name
    path: str                   # dotted path in the JSON record
    type: str                   # see module docstring
    required: bool = True       # missing/null -> quarantine
    choices: tuple[str, ...] | None = None   # allowed values (None = any)
    min_value: float | None = None           # e.g. 0 for amounts -> "negative amount"
    max_value: float | None = None           # e.g. 10 for NPS score
    own_time: bool = False      # the record's own time (when it happened / was written):
                                # never later than the drop (plausibility, see reader.py)

    @property
    def is_id(self) -> bool:
        """An identifier column (``*_id`` or ``external_id``): trimmed at ingestion."""
        return self.column.endswith("_id") or self.column == "external_id"


@dataclass(frozen=True)
class RawObject:
    source: str
    name: str                   # object name in the landing zone (file stem)
    fields: tuple[Field, ...]
    key: tuple[str, ...]        # natural key of one delivered version (for dedupe)
    account_column: str | None = None  # column holding the CRM account id (unmatched check)
    file_format: str = "jsonl"  # jsonl | parquet
    children: tuple[ChildTable, ...] = field(default_factory=tuple)
    time_column: str | None = None     # raw column that places a record in time

    @property
    def table(self) -> str:
        return self.name


@dataclass(frozen=True)
class ChildTable:
    """A nested array flattened into its own raw table (one row per element)."""
    name: str                   # raw table name
    path: str                   # dotted path to the array in the parent record
    parent_columns: tuple[str, ...]   # parent columns copied onto each child row
    fields: tuple[Field, ...]


SUBSCRIPTION_STATUS = ("trialing", "active", "past_due", "canceled", "unpaid", "incomplete",
                       "incomplete_expired", "paused")
INVOICE_STATUS = ("draft", "open", "paid", "void", "uncollectible")

OBJECTS: tuple[RawObject, ...] = (
    RawObject(
        source="billing", name="customers", time_column="updated_at", key=("customer_id", "updated_at"),
        account_column="account_id",
        fields=(
            Field("customer_id", "id", "str"),
            Field("name", "name", "str", required=False),
            Field("email", "email", "str", required=False),
            Field("currency", "currency", "currency", required=False),
            Field("created_at", "created", "unix", own_time=True),
            Field("updated_at", "updated", "unix", own_time=True),
            Field("is_deleted", "deleted", "bool", required=False),
            Field("account_id", "metadata.account_id", "str", required=False),
            Field("segment", "metadata.segment", "str", required=False),
            Field("industry", "metadata.industry", "str", required=False),
            Field("region", "metadata.region", "str", required=False),
            Field("csm_owner", "metadata.csm_owner", "str", required=False),
        ),
    ),
    RawObject(
        source="billing", name="subscription_events", time_column="created_at", key=("event_id",),
        fields=(
            Field("event_id", "id", "str"),
            Field("event_type", "type", "str"),
            Field("created_at", "created", "unix", own_time=True),
            Field("subscription_id", "data.object.id", "str"),
            Field("customer_id", "data.object.customer", "str"),
            Field("status", "data.object.status", "str", choices=SUBSCRIPTION_STATUS),
            Field("start_date", "data.object.start_date", "unix", required=False),
            Field("current_period_start", "data.object.current_period_start", "unix", required=False),
            Field("current_period_end", "data.object.current_period_end", "unix", required=False),
            Field("cancel_at_period_end", "data.object.cancel_at_period_end", "bool", required=False),
            Field("canceled_at", "data.object.canceled_at", "unix", required=False),
            Field("ended_at", "data.object.ended_at", "unix", required=False),
            Field("currency", "data.object.currency", "currency"),
        ),
        children=(
            ChildTable(
                name="subscription_event_items", path="data.object.items.data",
                parent_columns=("event_id", "subscription_id", "created_at"),
                fields=(
                    Field("item_id", "id", "str", required=False),
                    Field("quantity", "quantity", "int", min_value=0),
                    Field("price_id", "price.id", "str", required=False),
                    Field("product_id", "price.product", "str", required=False),
                    Field("unit_amount", "price.unit_amount", "int", min_value=0),
                    Field("price_currency", "price.currency", "currency"),
                    Field("interval", "price.recurring.interval", "str", choices=("month", "year")),
                    Field("interval_count", "price.recurring.interval_count", "int", min_value=1),
                ),
            ),
        ),
    ),
    RawObject(
        source="billing", name="invoices", time_column="created_at", key=("invoice_id", "updated_at"),
        fields=(
            Field("invoice_id", "id", "str"),
            Field("customer_id", "customer", "str"),
            Field("subscription_id", "subscription", "str", required=False),
            Field("status", "status", "str", choices=INVOICE_STATUS),
            Field("currency", "currency", "currency"),
            Field("amount_due", "amount_due", "int", min_value=0),
            Field("amount_paid", "amount_paid", "int", min_value=0),
            Field("created_at", "created", "unix", own_time=True),
            Field("due_at", "due_date", "unix", required=False),
            Field("paid_at", "status_transitions.paid_at", "unix", required=False, own_time=True),
            Field("updated_at", "updated", "unix", own_time=True),
        ),
    ),
    RawObject(
        source="billing", name="fx_rates", time_column="rate_date", key=("rate_date", "currency"),
        fields=(
            Field("rate_date", "date", "date", own_time=True),
            Field("currency", "currency", "currency"),
            Field("usd_per_unit", "usd_per_unit", "float", min_value=0),
        ),
    ),
    RawObject(
        source="usage", name="events", time_column="event_at", key=("message_id",), account_column="account_id",
        file_format="parquet",
        fields=(
            Field("message_id", "message_id", "str"),
            Field("account_id", "account_id", "str"),
            Field("user_id", "user_id", "str", required=False),
            Field("event", "event", "str"),
            Field("feature", "feature", "str", required=False),
            Field("event_at", "timestamp", "ts", own_time=True),
            Field("received_at", "received_at", "ts", required=False, own_time=True),
        ),
    ),
    RawObject(
        source="usage", name="users", time_column="updated_at", key=("user_id", "updated_at"), account_column="account_id",
        fields=(
            Field("user_id", "user_id", "str"),
            Field("account_id", "account_id", "str"),
            Field("email", "email", "str", required=False),
            Field("role", "role", "str", choices=("admin", "member")),
            Field("created_at", "created_at", "ts", own_time=True),
            Field("deactivated_at", "deactivated_at", "ts", required=False, own_time=True),
            Field("updated_at", "updated_at", "ts", own_time=True),
        ),
    ),
    RawObject(
        source="ticketing", name="organizations", time_column="updated_at", key=("organization_id", "updated_at"),
        account_column="external_id",
        fields=(
            Field("organization_id", "id", "str"),
            Field("name", "name", "str", required=False),
            Field("external_id", "external_id", "str", required=False),
            Field("updated_at", "updated_at", "ts", own_time=True),
        ),
    ),
    RawObject(
        source="ticketing", name="tickets", time_column="updated_at", key=("ticket_id", "updated_at"),
        fields=(
            Field("ticket_id", "id", "str"),
            Field("organization_id", "organization_id", "str", required=False),
            Field("requester_id", "requester_id", "str", required=False),
            Field("priority", "priority", "str", required=False, choices=("low", "normal", "high", "urgent")),
            Field("ticket_type", "type", "str", required=False),
            Field("status", "status", "str", choices=("new", "open", "pending", "hold", "solved", "closed")),
            Field("channel", "channel", "str", required=False),
            Field("created_at", "created_at", "ts", own_time=True),
            Field("updated_at", "updated_at", "ts", own_time=True),
            Field("first_replied_at", "first_replied_at", "ts", required=False, own_time=True),
            Field("solved_at", "solved_at", "ts", required=False, own_time=True),
            Field("reopens", "reopens", "int", required=False, min_value=0),
            Field("replies", "replies", "int", required=False, min_value=0),
            Field("satisfaction_rating", "satisfaction_rating", "str", required=False,
                  choices=("good", "bad", "offered", "unoffered")),
        ),
    ),
    RawObject(
        source="ticketing", name="nps_responses", time_column="responded_at", key=("response_id",), account_column="account_id",
        fields=(
            Field("response_id", "id", "str"),
            Field("account_id", "account_id", "str"),
            Field("user_id", "user_id", "str", required=False),
            Field("score", "score", "int", min_value=0, max_value=10),
            Field("comment", "comment", "str", required=False),
            Field("responded_at", "responded_at", "ts", own_time=True),
        ),
    ),
)

# the sources, in the order of OBJECTS: the one list every reader uses
SOURCES: tuple[str, ...] = tuple(dict.fromkeys(o.source for o in OBJECTS))
META_COLUMNS = ("_drop_date", "_source_file", "_source_line", "_loaded_at")
REJECTS_TABLE = "_rejects"   # <raw>/_rejects/<source>__<object>/drop_date=.../data.parquet



def get_object(source: str, name: str) -> RawObject:
    for o in OBJECTS:
        if o.source == source and o.name == name:
            return o
    raise KeyError(f"unknown object {source}.{name}")
