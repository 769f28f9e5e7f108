"""Recognising an export: which contract table a file is, and which of its columns is which.

Column names match case-insensitively after normalising ("Customer ID", "customer-id" and "CustomerID"
all become customer_id or customerid) and dropping a "(UTC)" suffix. The synonyms cover the documented
columns of Stripe's invoice, customer and subscription exports, HubSpot's company export, Zendesk's
ticket export, Segment's and Amplitude's event exports, IBM Telco-style CRM snapshots and order-line
exports such as UCI Online Retail. An explicit mapping always overrides the guess.
"""
from __future__ import annotations

import re
from pathlib import Path

from ingest.contract import REVENUE_SHAPES, TABLE_ORDER, TABLES

__all__ = ["SYNONYMS", "MINUTE_SCALES", "normalise", "guess_mapping", "guess_table", "header_currency", "is_row_id",
           "revenue_shape", "missing_required"]

# contract column -> accepted source names (normalised), most specific first
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "customer_id": ("customer_id", "customerid", "customer", "account_id", "company_id", "client_id",
                        "record_id", "hs_object_id", "organization_id", "customer_number", "id"),
        "signup_date": ("signup_date", "signup", "signed_up_at", "signup_at", "customer_since",
                        "create_date", "created_date", "date_created", "created", "created_at",
                        "join_date", "start_date"),
        "name": ("name", "company_name", "customer_name", "account_name", "organization_name", "company"),
        "plan": ("plan", "plan_name", "tier", "subscription_plan", "pricing_plan", "product"),
        "industry": ("industry", "vertical", "sector"),
        "employees": ("employees", "number_of_employees", "employee_count", "num_employees", "headcount",
                      "company_size"),
        "country": ("country", "country_region", "billing_country", "address_country", "country_code"),
        "channel": ("channel", "acquisition_channel", "original_source", "lead_source",
                    "original_traffic_source", "utm_source", "source"),
        "seat_limit": ("seat_limit", "seats", "licensed_seats", "seat_count", "licenses"),
        "usage_limit": ("usage_limit", "quota", "plan_limit"),
    },
    "revenue": {
        # Stripe invoices: Customer, Date (UTC), Amount Paid / Total, Period Start/End (UTC), Currency.
        # Stripe subscriptions: Customer ID, Start (UTC), Ended At (UTC), Amount, Interval, Plan.
        "customer_id": ("customer_id", "customerid", "customer", "account_id", "client_id", "company_id"),
        "date": ("date", "invoice_date", "invoicedate", "order_date", "transaction_date", "charge_date",
                 "paid_at", "payment_date", "created", "created_at", "timestamp"),
        "amount": ("amount", "amount_paid", "total", "net_amount", "revenue", "order_total", "line_total",
                   "amount_due", "value", "subtotal"),
        "quantity": ("quantity", "qty", "units"),
        "unit_price": ("unit_price", "unitprice", "price", "price_per_unit"),
        "period_start": ("period_start", "service_start", "billing_period_start", "service_period_start"),
        "period_end": ("period_end", "service_end", "billing_period_end", "service_period_end"),
        "start_date": ("start_date", "start", "subscription_start", "started_at", "start_at"),
        "end_date": ("end_date", "ended_at", "end", "canceled_at", "cancelled_at", "cancel_date",
                     "churn_date", "end_at"),
        "mrr": ("mrr", "monthly_recurring_revenue", "monthlycharges", "monthly_charges", "monthly_amount",
                "monthly_fee"),
        "interval": ("interval", "billing_interval", "plan_interval", "billing_period"),
        "tenure_months": ("tenure_months", "tenure", "months_active", "lifetime_months"),
        "churned": ("churned", "churn", "is_churned", "exited", "has_churned"),
        "plan": ("plan", "plan_name", "product", "tier"),
        "currency": ("currency", "currency_code"),
    },
    "events": {
        # Segment: userId, anonymousId, event, timestamp, groupId / context_groupId.
        # Amplitude: user_id, amplitude_id, event_type, event_time, groups.
        "customer_id": ("customer_id", "account_id", "group_id", "groupid", "context_groupid",
                        "properties_account_id", "company_id", "organization_id", "customer", "account",
                        "user_id", "userid"),
        "timestamp": ("timestamp", "event_time", "occurred_at", "time", "received_at", "sent_at",
                      "client_event_time", "event_timestamp", "event_date", "created_at", "date"),
        "event": ("event", "event_type", "event_name", "feature", "action", "name"),
        "user_id": ("user_id", "userid", "amplitude_id", "anonymous_id", "anonymousid", "device_id"),
    },
    "tickets": {
        # Zendesk: Id, Requester, Organization, Created at, Ticket type, Satisfaction Score, ...
        "customer_id": ("customer_id", "account_id", "organization_id", "organization", "company_id",
                        "customer", "requester_id", "requester"),
        "created_at": ("created_at", "created", "created_date", "opened_at", "submitted_at", "date",
                       "timestamp"),
        "minutes": ("minutes", "handle_time", "handle_time_minutes", "handling_minutes",
                    "time_spent_minutes", "total_time_spent_min", "agent_minutes", "total_time_spent_sec",
                    "handle_time_seconds", "time_spent_seconds"),
        "cost": ("cost", "ticket_cost", "cost_usd"),
        "category": ("category", "ticket_type", "type", "topic", "group", "issue_type"),
        "csat": ("csat", "satisfaction_score", "satisfaction", "csat_score", "rating"),
    },
    "spend": {
        "month": ("month", "spend_month", "period", "date", "day"),
        "amount": ("amount", "spend", "cost", "amount_spent", "spend_usd", "total", "value"),
        "channel": ("channel", "acquisition_channel", "source", "utm_source", "platform"),
        "segment": ("segment", "value_tier", "tier"),
    },
    "nps": {
        "customer_id": ("customer_id", "account_id", "company_id", "customer", "user_id", "respondent_id"),
        "date": ("date", "submitted_at", "response_date", "responded_at", "survey_date", "created_at",
                 "timestamp"),
        "score": ("score", "nps", "nps_score", "likelihood_to_recommend", "rating"),
        "comment": ("comment", "feedback", "reason", "response", "text"),
        "goal": ("goal", "stated_goal", "motivation", "primary_goal", "use_case", "job_to_be_done"),
    },
}

# source columns holding seconds rather than minutes (Zendesk's time tracking app)
MINUTE_SCALES: dict[str, float] = {"total_time_spent_sec": 1 / 60, "handle_time_seconds": 1 / 60,
                                   "time_spent_seconds": 1 / 60}

# words in a file name that say which table it is
_NAME_HINTS: dict[str, tuple[str, ...]] = {
    "customers": ("customer", "compan", "account", "crm", "firmographic", "hubspot"),
    "revenue": ("revenue", "invoice", "order", "billing", "subscription", "payment", "charge",
                "transaction", "retail", "sales", "churn", "mrr"),
    "events": ("event", "usage", "track", "amplitude", "segment", "analytics", "activity"),
    "tickets": ("ticket", "support", "zendesk", "helpdesk", "intercom"),
    "spend": ("spend", "marketing", "ads", "cac", "acquisition_cost", "budget"),
    "nps": ("nps", "survey", "feedback"),
}


def normalise(column: str) -> str:
    """'Period Start (UTC)' -> 'period_start'; 'CustomerID' -> 'customerid'; 'Country/Region' -> 'country_region'."""
    text = re.sub(r"[^0-9a-z]+", "_", str(column).strip().lower()).strip("_")
    return re.sub(r"_utc$", "", text)


def column_name(column: str) -> str:
    """The name an extra column is stored under (a customer attribute): 'SeniorCitizen' -> 'senior_citizen',
    'PaymentMethod' -> 'payment_method', 'Country/Region' -> 'country_region'. A definition's names of them
    go through it too, so "Contract" and "contract" name one column."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", str(column).strip())
    return normalise(spaced) or "column"


_CURRENCY_CODES = ("usd", "eur", "gbp", "chf", "cad", "aud", "nzd", "jpy", "cny", "inr", "sek", "nok", "dkk", "pln",
                   "czk", "huf", "brl", "mxn", "sgd", "hkd", "zar", "krw", "ils", "try", "aed")
_CURRENCY_SUFFIX = re.compile(r"_(?:in_)?(?:" + "|".join(_CURRENCY_CODES) + r")$")


# an extra column naming each revenue row (Stripe's "id", "Invoice No", "order_id"): repeats of a row holding
# the same one are one invoice exported twice
_ROW_ID = re.compile(r"^(id|(invoice|order|transaction|charge|payment|receipt)_?(id|no|nr|number))$")


def is_row_id(column: str) -> bool:
    """Whether a revenue file's extra column names its rows ("id", "Invoice No", "order_id"; not "payment")."""
    return bool(_ROW_ID.match(normalise(column)))


def header_currency(column: str) -> str | None:
    """The currency code a column's name ends with ("Amount (USD)" -> "USD"), else None."""
    found = _CURRENCY_SUFFIX.search(normalise(column))
    return found.group(0).rsplit("_", 1)[-1].upper() if found else None


def guess_mapping(table: str, columns: list[str]) -> dict[str, str]:
    """Contract column -> source column, for every contract column a synonym finds. One source per column."""
    by_norm: dict[str, str] = {}
    for col in columns:
        by_norm.setdefault(normalise(col), col)
    for col in columns:   # then without a currency code after the name: "Amount (USD)", "MRR [EUR]"
        by_norm.setdefault(_CURRENCY_SUFFIX.sub("", normalise(col)), col)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for target, names in SYNONYMS[table].items():
        for n in names:
            source = by_norm.get(n)
            if source is not None and source not in used:
                mapping[target] = source
                used.add(source)
                break
    if table == "revenue" and "interval" in mapping and "start_date" in mapping and "mrr" not in mapping \
            and "amount" in mapping:
        # a subscription export priced per billing interval (Stripe): amount per interval -> mrr
        mapping["mrr"] = mapping.pop("amount")
        mapping.pop("date", None)
    return mapping


def revenue_shape(mapping: dict[str, str]) -> str | None:
    """Which revenue shape a mapping gives: snapshot, subscription or invoice (tried in that order)."""
    present = set(mapping)
    if "quantity" in present and "unit_price" in present:
        present.add("amount")
    for shape in ("snapshot", "subscription", "invoice"):
        if set(REVENUE_SHAPES[shape]) <= present:
            return shape
    return None


def missing_required(table: str, mapping: dict[str, str]) -> list[str]:
    """Contract columns the table needs that the mapping lacks (for revenue: customer_id and a shape)."""
    missing = [c for c in TABLES[table].required if c not in mapping]
    if table == "revenue" and revenue_shape(mapping) is None:
        missing.append("date + amount (or quantity + unit_price), or start_date + mrr, "
                       "or tenure_months + mrr + churned")
    return missing


def _score(table: str, mapping: dict[str, str]) -> int:
    return 10 * sum(1 for c in mapping if c in TABLES[table].required or
                    (table == "revenue" and c in {"date", "amount", "start_date", "mrr", "tenure_months",
                                                 "churned"})) + len(mapping)


def guess_table(file_name: str, columns: list[str]) -> str | None:
    """The contract table this file most likely is, or None when no table's required columns are found.

    A table whose required columns are all found wins when the file's name hints at it (invoices.csv,
    zendesk_tickets.csv); otherwise the table with the most recognised columns wins.
    """
    stem = Path(file_name.lower()).name
    complete = {t: guess_mapping(t, columns) for t in TABLE_ORDER}
    complete = {t: m for t, m in complete.items() if not missing_required(t, m)}
    if not complete:
        return None
    hinted = [t for t in TABLE_ORDER if t in complete and any(h in stem for h in _NAME_HINTS[t])]
    if len(hinted) == 1:
        return hinted[0]
    candidates = hinted or list(complete)
    return max(candidates, key=lambda t: (_score(t, complete[t]), -TABLE_ORDER.index(t)))
