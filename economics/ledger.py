"""Calendar months and the revenue ledger: which months are complete as of a date, and ledger checks.

The ledger itself (customer_id, month, revenue_cents, mrr_cents, refund_cents; one row per customer and
month with a non-zero net revenue) is built and stored by `ingest/` (see ingest/contract.py). This module
holds the month arithmetic every economics function shares, so that "complete month" means one thing
(DEFINITIONS.md "Months").
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Mapping

import ibis
import pandas as pd

__all__ = [
    "LEDGER_COLUMNS", "LedgerError", "month_start", "add_months", "months_between", "last_complete_month",
    "month_range", "month_span", "as_date", "check_ledger_frame", "first_ledger_month", "first_churn_month",
    "churn_window", "churn_not_measured", "recency_churn_note", "REBUILT_AS_OF", "tables_as_of", "late_revenue",
]

LEDGER_COLUMNS: tuple[str, ...] = ("customer_id", "month", "revenue_cents", "mrr_cents", "refund_cents")


class LedgerError(ValueError):
    """A ledger (or another input table) lacks a column or holds a value the economics cannot use."""


def as_date(value: date | datetime | pd.Timestamp | str) -> date:
    """A plain `datetime.date` from a date, datetime, Timestamp or ISO string."""
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    return value


def first_ledger_month(ledger) -> date | None:
    """The first month of a ledger table (an ibis table: one query), None when it is empty: where the churn
    window's month starts begin (economics.pipeline.history_months) and a backtest's history."""
    first = ledger.month.min().execute()
    return None if first is None or pd.isna(first) else as_date(first)


def first_churn_month(first_data_month: date, revenue_model: str, inactivity_days: int) -> date:
    """The first month whose churn the data shows: the churn window starts no earlier (DEFINITIONS.md
    "Churn": the trailing complete months, or all available). A subscription is at risk in a month when it
    paid in the month before: the data's second month. On order data a customer is at risk at a month's
    start when it bought in the `inactivity_days` before it, and churns once they pass without a purchase:
    the first month starting at least that many days after the data's first month. Before it, those who
    would churn (their last purchase before the data) are missing while recent buyers, who cannot churn
    yet, are counted at risk: churn would read low (Online Retail, data from December 2010: January and
    February 2011 added 2,181 customer-months and no churn)."""
    second = add_months(first_data_month, 1)
    if revenue_model != "transactional":
        return second
    ready = month_start(first_data_month) + timedelta(days=inactivity_days)
    return max(second, ready if ready.day == 1 else add_months(ready, 1))


def churn_window(as_of: date, window_months: int, first_churn: date | None) -> tuple[date, date]:
    """The churn window's first and last month (first > last: no window; DEFINITIONS.md "Churn"): the
    trailing `window_months` complete months, not before `first_churn` (first_churn_month of the data;
    None: the data has no complete month before as_of, so no window)."""
    last = last_complete_month(as_of)
    first = add_months(last, -(window_months - 1))
    return (add_months(last, 1) if first_churn is None else max(first, first_churn)), last


def churn_not_measured(revenue_model: str, inactivity_days: int) -> str:
    """Why a churn window is empty (first_churn_month), in a sentence for the pages."""
    if revenue_model == "transactional":
        return (f"Churn is not measured yet: on order data a month counts once {inactivity_days} days of data "
                f"came before it (its customers at risk bought in those days).")
    return "Not enough complete months to measure churn: it counts from the data's second month."


def recency_churn_note(scheme: str, revenue_model: str, inactivity_days: int, cap_months: int) -> str:
    """On order data, why a scheme that reads recency (segmentation.schemes.reads_recency) shows no churn in its
    active segments ("" otherwise): churn is dated `inactivity_days` after the last purchase, so at the start
    of the churn month the customer has not bought for a month or two and sits in an inactive segment
    (DEFINITIONS.md "Segments over time": the segment at the start of the month)."""
    from segmentation.schemes import reads_recency

    if revenue_model != "transactional" or not reads_recency(scheme):
        return ""
    return (f"On order data a customer churns {inactivity_days} days after its last purchase, so at the start of "
            f"its churn month it has not bought for {max(inactivity_days - 31, 0)} days or more and this scheme "
            "already counts it among its inactive segments. The segments of recent buyers read little or no churn "
            f"and a lifetime at the {cap_months}-month cap by construction: compare them by revenue and "
            "retention (Cohorts), not by LTV.")


# The tables tables_as_of rebuilds (the others it filters or leaves): worth keeping as tables of their own.
REBUILT_AS_OF: tuple[str, ...] = ("ledger", "customers")


def tables_as_of(tables: Mapping[str, Any], as_of: date, rebuilt: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The tables as known on `as_of` (DEFINITIONS.md "Time": as of D means data strictly before D).

    - revenue: the rows dated on or after D left out;
    - ledger: rebuilt from the others by the stored ledger's rules (ingest.scan.ledger_expr; open
      subscriptions run to D), with the stored ledger's column types;
    - customers: one known from revenue alone (an order export) signs up at its first purchase, else at
      its first row: one whose first purchase comes on or after D but who had a row before it (a refund)
      signs up at that row, as the export of the day before would say (ingest.scan.revenue_signups).
    Each date computed from them (the month starts of a churn window, a comparison date) reads the history
    as it was known on D, as ChartMogul recomputes history with all data known.

    They are ibis expressions over the tables given (one query runs: the longest service period); the
    other tables are as given (every consumer filters them by date). Only for an as-of date before the
    data's default (meta `default_as_of`, the day after its latest date): from then on nothing is left out
    and the stored tables are already these. Without a revenue table, the tables as given. `rebuilt`: the
    REBUILT_AS_OF tables already built for this date (kept by the caller), taken as they are: no query.
    """
    from ingest.scan import ledger_expr, revenue_signups

    if "revenue" not in tables:
        return dict(tables)
    d = ibis.literal(as_date(as_of))
    revenue = tables["revenue"].filter(tables["revenue"].date < d)
    if rebuilt is not None:
        return {**tables, "revenue": revenue, **rebuilt}
    known = {**tables, "revenue": revenue, "ledger": ledger_expr(revenue._find_backend(), revenue, as_date(as_of))}
    if "ledger" in tables:
        known["ledger"] = known["ledger"].cast(tables["ledger"].schema())
    if "customers" in tables:
        # A customer known from revenue alone signs up at its first purchase, else at its first row (a
        # refund): one whose first purchase comes on or after D but who had a row before it was known on D.
        customers, first = tables["customers"], revenue_signups(revenue).rename(known_signup="signup_date",
                                                                                known_id="customer_id")
        joined = customers.left_join(first, customers.customer_id == first.known_id)
        later = (joined.signup_date >= d) & joined.known_signup.notnull()
        signup = ibis.ifelse(later, joined.known_signup.cast(customers.schema()["signup_date"]), joined.signup_date)
        known["customers"] = joined.select(*[signup.name(c) if c == "signup_date" else joined[c]
                                             for c in customers.columns])
    return known


def late_revenue(revenue, as_of: date) -> tuple[int, int]:
    """Revenue rows dated on or after `as_of` (left out of the tables as of it, `tables_as_of`), and how
    many of them are for service before it (a refund, or an invoice billed in arrears: as of D it was not
    known yet, so the month it pays for reads lower than it will)."""
    d = ibis.literal(as_date(as_of))
    later = revenue.filter(revenue.date >= d)
    started = ibis.coalesce(later.period_start, later.start_date, later.date)
    counts = later.aggregate(rows=later.count(), earlier=(started < d).cast("int64").sum()).execute()
    return int(counts["rows"].iloc[0]), int(counts["earlier"].fillna(0).iloc[0])


def month_start(value: date | datetime | pd.Timestamp | str) -> date:
    """The first day of the calendar month containing `value`."""
    d = as_date(value)
    return d.replace(day=1)


def add_months(month: date, k: int) -> date:
    """The first day of the month `k` calendar months after the month of `month` (k may be negative)."""
    m = month_start(month)
    index = m.year * 12 + (m.month - 1) + k
    return date(index // 12, index % 12 + 1, 1)


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from the month of `earlier` to the month of `later` (period k of cohorts)."""
    a, b = month_start(earlier), month_start(later)
    return (b.year - a.year) * 12 + (b.month - a.month)


def last_complete_month(as_of: date) -> date:
    """First day of the last complete month as of D (DEFINITIONS.md "Months").

    Data is used strictly before D. The month containing D - 1 is complete only when D is the first day
    of a month; in both cases the last complete month is therefore the month before the month of D.
    """
    d = as_date(as_of)
    last_day = d - timedelta(days=1)  # the last day with data
    last = month_start(last_day)
    return last if d.day == 1 else add_months(last, -1)


def month_range(first: date, last: date) -> list[date]:
    """Every month start from the month of `first` to the month of `last`, both included."""
    n = months_between(first, last)
    return [add_months(first, k) for k in range(n + 1)] if n >= 0 else []


def month_span(window: tuple | None, none: str = "no complete month") -> str:
    """A (first, last) month window in words: "Jan 2026 – Dec 2026", "Nov 2026" when it is one month,
    `none` when there is no window."""
    if not window or window[0] is None:
        return none
    first, last = pd.Timestamp(window[0]), pd.Timestamp(window[1])
    return f"{last:%b %Y}" if first == last else f"{first:%b %Y} – {last:%b %Y}"


def check_ledger_frame(ledger: pd.DataFrame, table: str = "ledger") -> None:
    """Raise LedgerError naming the missing columns when a pandas ledger lacks a contract column."""
    missing = [c for c in LEDGER_COLUMNS if c not in ledger.columns]
    if missing:
        raise LedgerError(
            f"table '{table}' lacks column(s) {missing}; the ledger needs {list(LEDGER_COLUMNS)} "
            "as ingest/contract.py defines them (load the data through ingest/).")
