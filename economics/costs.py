"""Cost to serve: per-customer usage over a window (tickets, support cost, events, seats) and support burden by segment.

Rules (DEFINITIONS.md "Cost to serve"): support cost of a ticket = its own `cost` when the tickets table
has one, else minutes x cost per minute, else (no minutes) the support team's monthly cost divided over
that month's tickets. Infra cost is allocated by usage: events x cost per event + seats x cost per seat
per month.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import date

import ibis
import ibis.expr.types as ir
import pandas as pd

from economics.assumptions import Assumptions
from economics.ledger import add_months, last_complete_month
from segmentation.features import fetch

__all__ = ["USAGE_COLUMNS", "usage_window", "customer_usage", "usage_scan", "priced_usage", "usage_months",
           "observed_months", "support_burden", "unmeasured_steps", "unmeasured_costs"]

USAGE_COLUMNS: tuple[str, ...] = ("customer_id", "tickets", "support_minutes", "support_cost", "events",
                                  "seats")


# Which table measures each cost to serve (economics.unit's waterfall steps).
_MEASURED_BY = {"Support": "tickets", "Infra": "events"}


def unmeasured_steps(tables: Collection[str]) -> dict[str, str]:
    """The waterfall's cost steps that no loaded table measures, each with the table it needs."""
    return {step: table for step, table in _MEASURED_BY.items() if table not in tables}


def unmeasured_costs(tables: Collection[str]) -> str:
    """A sentence saying which costs to serve no loaded table measures ("" when all are): they count as 0
    in contribution and net LTV, which then read high by that cost."""
    missing = unmeasured_steps(tables)
    if not missing:
        return ""
    steps = " and ".join(missing).lower()
    plural = len(missing) > 1
    return (f"{steps[0].upper()}{steps[1:]} cost{'s' if plural else ''} not measured (no "
            f"{' or '.join(missing.values())} table loaded): counted as 0, so contribution and net LTV read high "
            f"by what {'they cost' if plural else 'it costs'}.")


def usage_window(as_of: date, window_months: int) -> tuple[date, date]:
    """[first day, end) of the `window_months` complete months ending with the last complete month."""
    last = last_complete_month(as_of)
    return add_months(last, -(window_months - 1)), add_months(last, 1)


def customer_usage(tables: dict[str, ir.Table], as_of: date, window_months: int,
                   assumptions: Assumptions) -> pd.DataFrame:
    """One row per customer with any usage in the window (USAGE_COLUMNS); an ibis scan per table.

    tickets (count), support_minutes (sum; NaN when no ticket has minutes), support_cost (dollars, per the
    module rules), events (count), seats (distinct event user_ids in the window; else the customers
    table's seat_limit; else 0). The window is `usage_window(as_of, window_months)`.
    """
    return priced_usage(usage_scan(tables, as_of, window_months), assumptions)


def usage_scan(tables: dict[str, ir.Table], as_of: date, window_months: int, seats: bool = True) -> pd.DataFrame:
    """`customer_usage` before the support rates: instead of support_cost, its three parts. seats=False:
    seats are not counted (NaN), for a seat cost of 0; the distinct count of users is most of the events
    scan (7 of 18 s at 1M customers).

    A ticket's support cost is its own `cost`, else minutes x cost per minute, else an equal share of
    the team's monthly cost over that month's tickets; so per customer: own_cost (sum of own costs),
    priced_minutes (minutes of tickets without an own cost) and team_share (sum of 1 / tickets of the
    month, over tickets with neither). `priced_usage` applies the rates, so changing them needs no scan.
    """
    start, end = usage_window(as_of, window_months)
    lo, hi = ibis.literal(start).cast("timestamp"), ibis.literal(end).cast("timestamp")
    parts: list[ir.Table] = []
    if "tickets" in tables:
        t = tables["tickets"]
        cols = t.columns
        t = t.filter((t.created_at >= lo) & (t.created_at < hi))
        minutes = t.minutes.cast("float64") if "minutes" in cols else ibis.null("float64")
        own = t.cost.cast("float64") if "cost" in cols else ibis.null("float64")
        t = t.mutate(m=minutes, own=own, month=t.created_at.truncate("M"))
        t = t.mutate(share=ibis.literal(1.0) / t.count().over(ibis.window(group_by="month")))
        agg = t.group_by("customer_id").aggregate(
            tickets=t.count(), support_minutes=t.m.sum(), own_cost=t.own.sum(),
            priced_minutes=t.m.sum(where=t.own.isnull()),
            team_share=t.share.sum(where=t.own.isnull() & t.m.isnull()))
        parts.append(agg)
    if "events" in tables:
        e = tables["events"]
        e = e.filter((e.timestamp >= lo) & (e.timestamp < hi))
        metrics = {"events": e.count()}
        if "user_id" in e.columns and seats:
            metrics["seats"] = e.user_id.nunique()
        parts.append(e.group_by("customer_id").aggregate(**metrics))
    if "customers" in tables and "seat_limit" in tables["customers"].columns and seats:
        c = tables["customers"]
        c = c.filter(c.seat_limit.notnull())
        parts.append(c.select("customer_id", seat_limit=c.seat_limit.cast("float64")))
    # The parts joined by the engine: every id found in any part, each part left-joined to it, sorted by id.
    out = pd.DataFrame({"customer_id": pd.Series(dtype="str")})
    if parts:
        parts = [part.mutate(customer_id=part.customer_id.cast("string")) for part in parts]
        ids = ibis.union(*[part.select("customer_id") for part in parts], distinct=True)
        joined = ids
        for part in parts:
            joined = joined.left_join(part, ids.customer_id == part.customer_id)
        joined = joined.select(ids.customer_id, *[part[c] for part in parts for c in part.columns
                                                  if c != "customer_id"])
        out = fetch(joined.order_by("customer_id"))
    for col in ("tickets", "events"):
        out[col] = out[col].fillna(0).astype("int64") if col in out else 0
    out["support_minutes"] = out["support_minutes"].astype("float64") if "support_minutes" in out else float("nan")
    for col in _COST_PARTS:
        out[col] = out[col].astype("float64").fillna(0.0) if col in out else 0.0
    if seats:
        count = out["seats"].astype("float64") if "seats" in out else pd.Series(float("nan"), index=out.index)
        if "seat_limit" in out:
            count = count.fillna(out["seat_limit"])
        out["seats"] = count.fillna(0.0)
    else:
        out["seats"] = float("nan")
    columns = [c for c in USAGE_COLUMNS if c != "support_cost"] + list(_COST_PARTS)
    return out[columns].reset_index(drop=True)


_COST_PARTS = ("own_cost", "priced_minutes", "team_share")


def priced_usage(scan: pd.DataFrame, assumptions: Assumptions) -> pd.DataFrame:
    """USAGE_COLUMNS from a `usage_scan`, support cost priced with the assumptions' rates."""
    out = scan.copy()
    out["support_cost"] = (out["own_cost"] + out["priced_minutes"] * assumptions.support_cost_per_minute
                           + out["team_share"] * assumptions.support_team_monthly_cost)
    return out[list(USAGE_COLUMNS)]


def usage_months(customer_ids: pd.Series, acquisition: pd.DataFrame | None, as_of: date,
                 window_months: int) -> pd.Series:
    """Customer-months each customer was observed in the usage window: from its first paid month (or the
    window start) to the last complete month, between 1 and window_months. Indexed like customer_ids."""
    if acquisition is None or "first_paid_month" not in acquisition:
        return pd.Series(float(window_months), index=customer_ids.index)
    first = customer_ids.map(acquisition.set_index("customer_id")["first_paid_month"])
    return observed_months(first, as_of, window_months)


def observed_months(first_paid_month: pd.Series, as_of: date, window_months: int) -> pd.Series:
    """`usage_months` from each customer's first paid month (missing: never paid, the whole window)."""
    last = pd.Timestamp(last_complete_month(as_of))
    first = pd.to_datetime(first_paid_month)
    # Whole months from the first paid month to the last complete month, both counted.
    tenure = (last.year - first.dt.year) * 12 + (last.month - first.dt.month) + 1
    tenure = tenure.astype("float64").fillna(float(window_months))
    return tenure.clip(lower=1, upper=window_months).astype("float64")


def support_burden(usage: pd.DataFrame, segment_at_d: pd.DataFrame, window_months: int,
                   acquisition: pd.DataFrame | None = None, as_of: date | None = None) -> pd.DataFrame:
    """Support load by segment (at D) over the usage window.

    Columns: segment, customers, tickets, support_minutes, support_cost (dollars), ticket_share,
    cost_share (of all segments), tickets_pcm, cost_pcm (per customer-month; customer-months from
    `usage_months` when acquisition and as_of are given, else customers x window_months).
    """
    cust = segment_at_d[["customer_id", "segment"]].copy()
    use = usage.set_index("customer_id")
    for col in ("tickets", "support_minutes", "support_cost"):
        cust[col] = cust["customer_id"].map(use[col]).astype("float64") if col in use else 0.0
    cust[["tickets", "support_cost"]] = cust[["tickets", "support_cost"]].fillna(0.0)
    cust["months"] = (usage_months(cust["customer_id"], acquisition, as_of, window_months)
                      if as_of is not None else float(window_months))
    g = cust.groupby("segment", sort=False).agg(
        customers=("customer_id", "count"), tickets=("tickets", "sum"),
        support_minutes=("support_minutes", lambda s: s.sum(min_count=1)),
        support_cost=("support_cost", "sum"), months=("months", "sum")).reset_index()
    total_t, total_c = g["tickets"].sum(), g["support_cost"].sum()
    g["ticket_share"] = g["tickets"] / total_t if total_t else float("nan")
    g["cost_share"] = g["support_cost"] / total_c if total_c else float("nan")
    g["tickets_pcm"] = g["tickets"] / g["months"]
    g["cost_pcm"] = g["support_cost"] / g["months"]
    g["tickets"] = g["tickets"].astype("int64")
    return g[["segment", "customers", "tickets", "support_minutes", "support_cost", "ticket_share",
              "cost_share", "tickets_pcm", "cost_pcm"]]
