"""The data contract: which tables a user can upload, and the typed shape each is stored in.

Everything downstream of `ingest/` uses these table and column names and nothing else.

Stored tables (DuckDB, one workspace):

customers  customer_id VARCHAR, signup_date DATE, name, plan, industry, channel, country VARCHAR,
           employees DOUBLE, seat_limit DOUBLE, usage_limit DOUBLE, plus every extra column the user
           uploaded (kept as attributes, numeric when every value parses as a number, else VARCHAR).
           Without an uploaded customers table it is derived from revenue: signup_date = first
           positive month, other columns null.
revenue    the user's revenue rows, normalised; one of three shapes is uploaded, all stored as:
           customer_id VARCHAR, date DATE (invoice/order date; a subscription's start_date),
           amount_cents BIGINT (invoice/order lines; null for subscription rows),
           period_start DATE, period_end DATE (service period of an invoice; end exclusive),
           start_date DATE, end_date DATE, mrr_cents BIGINT (subscription rows; end exclusive, null
           end = still open), plan VARCHAR, currency VARCHAR. A subscription's price per billing
           `interval` (month, quarter, year; e.g. Stripe's subscription export) is divided into mrr.
           A CRM snapshot (tenure_months, mrr, churned) is stored as a subscription row:
           start_date = snapshot_date - tenure_months, end_date = snapshot_date when churned.
ledger     customer_id VARCHAR, month DATE (first day of the month), revenue_cents BIGINT (net, may be
           negative), mrr_cents BIGINT (= max(revenue_cents, 0)), refund_cents BIGINT
           (= max(-revenue_cents, 0)). One row per customer and month with a non-zero net revenue.
events     customer_id VARCHAR, timestamp TIMESTAMP, event VARCHAR, user_id VARCHAR
tickets    customer_id VARCHAR, created_at TIMESTAMP, minutes DOUBLE, cost DOUBLE, category VARCHAR,
           csat DOUBLE
spend      month DATE (first day of the month), amount DOUBLE, channel VARCHAR, segment VARCHAR
nps        customer_id VARCHAR, date DATE, score INTEGER (0-10), comment VARCHAR, goal VARCHAR
meta       key VARCHAR, value VARCHAR: data_version, loaded_at, source ("sample" | "upload"),
           revenue_model ("subscription" | "transactional"), snapshot_date, currency, files (JSON),
           min_date, max_date.
"""
from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TableSpec", "TABLES", "TABLE_ORDER", "STORED_TABLES", "REVENUE_SHAPES", "MAX_AMOUNT"]


@dataclass(frozen=True)
class TableSpec:
    """One uploadable table: its required and optional contract columns and their kinds.

    kinds: "id", "date", "timestamp", "money", "number", "integer", "bool", "text".
    """

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    kinds: dict[str, str]
    description: str


TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        "customers",
        required=("customer_id", "signup_date"),
        optional=("name", "plan", "industry", "employees", "country", "channel", "seat_limit",
                  "usage_limit"),
        kinds={"customer_id": "id", "signup_date": "date", "name": "text", "plan": "text",
               "industry": "text", "employees": "number", "country": "text", "channel": "text",
               "seat_limit": "number", "usage_limit": "number"},
        description="CRM or firmographics: one row per customer.",
    ),
    "revenue": TableSpec(
        "revenue",
        # customer_id plus one of the shapes in REVENUE_SHAPES
        required=("customer_id",),
        optional=("date", "amount", "quantity", "unit_price", "period_start", "period_end",
                  "start_date", "end_date", "mrr", "interval", "tenure_months", "churned", "plan",
                  "currency"),
        kinds={"customer_id": "id", "date": "date", "amount": "money", "quantity": "number",
               "unit_price": "money", "period_start": "date", "period_end": "date",
               "start_date": "date", "end_date": "date", "mrr": "money",
               "interval": "text", "tenure_months": "integer", "churned": "bool", "plan": "text",
               "currency": "text"},
        description="Billing: invoices or orders, subscriptions, or a CRM snapshot. Required.",
    ),
    "events": TableSpec(
        "events",
        required=("customer_id", "timestamp"),
        optional=("event", "user_id"),
        kinds={"customer_id": "id", "timestamp": "timestamp", "event": "text", "user_id": "text"},
        description="Product usage events.",
    ),
    "tickets": TableSpec(
        "tickets",
        required=("customer_id", "created_at"),
        optional=("minutes", "cost", "category", "csat"),
        kinds={"customer_id": "id", "created_at": "timestamp", "minutes": "number",
               "cost": "money", "category": "text", "csat": "number"},
        description="Support tickets.",
    ),
    "spend": TableSpec(
        "spend",
        required=("month", "amount"),
        optional=("channel", "segment"),
        kinds={"month": "date", "amount": "money", "channel": "text", "segment": "text"},
        description="Sales and marketing spend by month (and channel).",
    ),
    "nps": TableSpec(
        "nps",
        required=("customer_id", "date", "score"),
        optional=("comment", "goal"),
        kinds={"customer_id": "id", "date": "date", "score": "integer", "comment": "text",
               "goal": "text"},
        description="NPS survey answers (0-10) with an optional stated goal.",
    ),
}

TABLE_ORDER: tuple[str, ...] = ("customers", "revenue", "events", "tickets", "spend", "nps")
STORED_TABLES: tuple[str, ...] = TABLE_ORDER + ("ledger",)
# No export's amount is a trillion or more: 'inf', '1e20' or a misread column (the loader and the scan refuse it)
MAX_AMOUNT = 1e12

# The three revenue shapes, in the order they are tried. Each is a set of columns that must all be
# present (after mapping). "amount" may also come as quantity x unit_price.
REVENUE_SHAPES: dict[str, tuple[str, ...]] = {
    "invoice": ("date", "amount"),
    "subscription": ("start_date", "mrr"),
    "snapshot": ("tenure_months", "mrr", "churned"),
}
