"""Cohort retention: how much of each cohort is still paying (or active), period by period, and activation cohorts.

Choices (DEFINITIONS.md "Cohorts"):

- Revenue basis: a customer's cohort is its first paid month (first month with positive net revenue),
  because "revenue cohorts start at the first paid month": a trial signed up in January that first pays in
  February is in the February cohort, so period 0 always has revenue and revenue_retention is defined.
  Customers that never paid are in no revenue cohort.
- Activity basis: the cohort is the month of signup_date (without a customers table, the loader derives
  signup_date from the first positive month); active(k) = the cohort's customers with an event in period k.
- Revenue in a period is the customers' MRR (net revenue, a negative month counting 0) summed over it.
- Quarterly cohorts: cohort = quarter of the first paid month (or signup), periods are whole quarters,
  active(k) = positive revenue (or an event) somewhere in quarter k; a quarter is complete when its last
  month is complete. Revenue retention compares revenue at a full quarter's rate: a customer's revenue in
  quarter 0 counts from its first month (a customer who starts in the quarter's last month paid one month
  of it, not a third of its rate), and the last quarter counts the months that have data. So a quarter's
  revenue x 3 / the months counted; without this, quarter 1 read 192% of quarter 0 on the sample company
  (customers joining mid-quarter) and a quarter one month old read 34%. The revenue column stays the
  revenue paid.
- Cells run to the period holding D - 1 (the last data month), which is flagged complete = False unless
  complete; cells after it are absent, zero cells before it are present. Only data strictly before D.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from economics.ledger import LedgerError, last_complete_month, month_start
from segmentation.features import drop_memtables, fetch

__all__ = ["CohortParams", "COHORT_COLUMNS", "cohort_retention", "average_curve", "activation_cohorts"]

COHORT_COLUMNS: tuple[str, ...] = ("cohort", "period", "cohort_size", "active", "retention", "revenue",
                                   "revenue_retention", "gross_revenue_retention", "complete")


@dataclass(frozen=True)
class CohortParams:
    """granularity: "month" | "quarter"; basis: "revenue" | "activity"; customers: optional customer_ids
    to keep (a segment filter; the caller chooses segment at D or at acquisition)."""

    granularity: Literal["month", "quarter"] = "month"
    basis: Literal["revenue", "activity"] = "revenue"
    customers: frozenset[str] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.granularity not in ("month", "quarter"):
            raise ValueError(f"CohortParams.granularity {self.granularity!r} is not 'month' or 'quarter'.")
        if self.basis not in ("revenue", "activity"):
            raise ValueError(f"CohortParams.basis {self.basis!r} is not 'revenue' or 'activity'.")
        if self.customers is not None and not isinstance(self.customers, frozenset):
            object.__setattr__(self, "customers", frozenset(str(c) for c in _ids(self.customers)))


def _ids(values: Iterable) -> Iterable:
    return values.tolist() if isinstance(values, pd.Series) else values


def _period_start(col: ir.Value, granularity: str) -> ir.Value:
    return col.truncate("Q" if granularity == "quarter" else "M").cast("date")


def _period_index(cell: ir.Value, cohort: ir.Value, granularity: str) -> ir.Value:
    """Whole months (or quarters) from the cohort's start to the cell's start, portable arithmetic."""
    months = (cell.year() - cohort.year()) * 12 + (cell.month() - cohort.month())
    return months // 3 if granularity == "quarter" else months


def _month_index(value: ir.Value) -> ir.Value:
    return value.year() * 12 + value.month()


def _full_period_rate(r: ir.Table, as_of: date) -> ir.Value:
    """A quarterly cell's revenue at a full quarter's rate (module docstring): cents x 3 / the months counted,
    those of the quarter up to the month holding D - 1, from the member's first month in quarter 0."""
    last = month_start(as_of - timedelta(days=1))
    span = ibis.least(3, last.year * 12 + last.month - _month_index(r.cell) + 1)
    months = span - ibis.ifelse(r.period == 0, _month_index(r.first) - _month_index(r.cohort), 0)
    return r.cents.cast("float64") * 3 / months


def _keep(table: ir.Table, ids: frozenset[str] | None) -> ir.Table:
    if ids is None:
        return table
    keep = ibis.memtable(pd.DataFrame({"keep_id": sorted(ids)}), schema={"keep_id": "string"})
    return table.semi_join(keep, table.customer_id == keep.keep_id)


def cohort_retention(ledger: ir.Table, customers: ir.Table | None, as_of: date, params: CohortParams,
                     events: ir.Table | None = None) -> pd.DataFrame:
    """One row per (cohort, period) (DEFINITIONS.md "Cohorts"; choices in the module docstring).

    Columns: cohort (Timestamp, month or quarter start), period (int), cohort_size, active (int),
    retention (active / cohort_size), revenue (dollars), revenue_retention (revenue / period-0 revenue),
    gross_revenue_retention (each customer's revenue capped at its period-0 revenue), complete (bool;
    False for the period holding a partial last month). Cells after the last data period are absent.
    """
    d = ibis.literal(as_of)
    gran = params.granularity
    # Monthly revenue strictly before D (a ledger month starting before D may still be partial).
    led = ledger.filter(ledger.month < d)
    if params.basis == "revenue":
        paid = led.filter(led.mrr_cents > 0)
        members = paid.group_by("customer_id").aggregate(first=paid.month.min())
        if customers is not None:
            ok = customers.filter(customers.signup_date < d).select(cid="customer_id")
            members = members.semi_join(ok, members.customer_id == ok.cid)
    else:
        if events is None:
            raise LedgerError("the activity basis needs the 'events' table (customer_id, timestamp); "
                              "pass events= or use basis='revenue'.")
        if customers is None:
            raise LedgerError("the activity basis needs the 'customers' table (customer_id, signup_date).")
        signed = customers.filter(customers.signup_date.notnull() & (customers.signup_date < d))
        members = signed.select("customer_id", first=signed.signup_date.cast("date"))
    members = _keep(members, params.customers)
    # Each customer's cohort: the month (or quarter) of its first paid month / signup.
    members = members.select("customer_id", "first", cohort=_period_start(members.first, gran))

    # Revenue per customer and period. The ledger has one row per customer and month (ingest.ledger), so
    # monthly cells are its rows; quarterly ones are summed.
    rev = led.select("customer_id", cell=_period_start(led.month, gran), cents=led.mrr_cents.cast("int64"))
    if gran == "quarter":
        rev = rev.group_by(["customer_id", "cell"]).aggregate(cents=rev.cents.sum())

    mj = members.select(mid="customer_id", cohort="cohort", first="first")
    # Revenue cells of cohort members, from their cohort period on, with each member's period-0 revenue.
    r = rev.join(mj, rev.customer_id == mj.mid)
    r = r.filter(r.cell >= r.cohort)
    r = r.mutate(period=_period_index(r.cell, r.cohort, gran))
    r = r.mutate(rate=_full_period_rate(r, as_of) if gran == "quarter" else r.cents)
    r0 = r.filter(r.period == 0).select(zid="customer_id", base=r.rate)
    r = r.left_join(r0, r.customer_id == r0.zid)
    r = r.mutate(capped=ibis.least(r.rate, r.base.fill_null(0)))
    cell_sums: dict[str, ir.Value] = dict(revenue_cents=r.cents.sum(), rate_cents=r.rate.sum(),
                                          capped_cents=r.capped.sum())
    if params.basis == "revenue":
        # Active: members with positive revenue in the period (one row per member and period: a count).
        cell_sums["active"] = r.count(where=r.cents > 0)
    rev_cells = fetch(r.group_by(["cohort", "period"]).aggregate(**cell_sums))
    if params.basis == "revenue":
        act_cells, rev_cells = rev_cells[["cohort", "period", "active"]], rev_cells.drop(columns="active")
    else:
        # Active: members with an event in the period (distinct member-periods: a count).
        ev = events.filter(events.timestamp < d.cast("timestamp"))
        act = ev.select("customer_id", cell=_period_start(ev.timestamp.cast("date"), gran)).distinct()
        a = act.join(mj, act.customer_id == mj.mid)
        a = a.filter(a.cell >= a.cohort)
        a = a.mutate(period=_period_index(a.cell, a.cohort, gran))
        act_cells = fetch(a.group_by(["cohort", "period"]).aggregate(active=a.count()))
    sizes = members.group_by("cohort").aggregate(cohort_size=members.customer_id.count())

    grid = _grid(fetch(sizes), act_cells, rev_cells, as_of, gran)
    drop_memtables(sizes)  # the segment filter's ids, once read
    return grid


def _grid(sizes: pd.DataFrame, act: pd.DataFrame, rev: pd.DataFrame, as_of: date, gran: str) -> pd.DataFrame:
    empty = pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
        COHORT_COLUMNS, ["datetime64[us]", "int64", "int64", "int64", "float64", "float64", "float64",
                         "float64", "bool"])})
    if sizes.empty:
        return empty
    step = 3 if gran == "quarter" else 1
    last_data = month_start(as_of - timedelta(days=1))  # the month holding D - 1 (maybe partial)
    last_complete = pd.Timestamp(last_complete_month(as_of))
    sizes = sizes.assign(cohort=pd.to_datetime(sizes["cohort"]).astype("datetime64[us]"))
    last_period_start = pd.Timestamp(last_data).to_period("Q" if gran == "quarter" else "M").to_timestamp()
    rows = []
    for cohort, size in zip(sizes["cohort"], sizes["cohort_size"]):
        n = ((last_period_start.year - cohort.year) * 12 + last_period_start.month - cohort.month) // step
        for k in range(n + 1):
            rows.append((cohort, k, int(size)))
    grid = pd.DataFrame(rows, columns=["cohort", "period", "cohort_size"])
    for f in (act, rev):
        f["cohort"] = pd.to_datetime(f["cohort"]).astype("datetime64[us]")
        f["period"] = f["period"].astype("int64")
    grid = grid.merge(act, on=["cohort", "period"], how="left").merge(rev, on=["cohort", "period"], how="left")
    sums = ["active", "revenue_cents", "rate_cents", "capped_cents"]
    grid[sums] = grid[sums].fillna(0)
    base = grid.groupby("cohort")["rate_cents"].transform(lambda s: s.iloc[0])  # period 0 comes first
    base = base.where(base != 0)
    # The period's last month: complete only if it is no later than the last complete month.
    period_end = grid.apply(lambda r: r["cohort"] + pd.DateOffset(months=step * r["period"] + step - 1), axis=1) \
        if len(grid) else pd.Series(dtype="datetime64[us]")
    out = pd.DataFrame({
        "cohort": grid["cohort"].astype("datetime64[us]"),
        "period": grid["period"].astype("int64"),
        "cohort_size": grid["cohort_size"].astype("int64"),
        "active": grid["active"].astype("int64"),
        "retention": grid["active"] / grid["cohort_size"],
        "revenue": grid["revenue_cents"].astype("float64") / 100.0,
        "revenue_retention": (grid["rate_cents"] / base).astype("float64"),
        "gross_revenue_retention": (grid["capped_cents"] / base).astype("float64"),
        "complete": (pd.to_datetime(period_end) <= last_complete).astype(bool),
    })
    return out.sort_values(["cohort", "period"]).reset_index(drop=True)


def average_curve(table: pd.DataFrame, complete_only: bool = True) -> pd.DataFrame:
    """The cohort-size-weighted average curve (DEFINITIONS.md: average curves are weighted by cohort size).

    Columns: period, cohorts, customers (summed cohort sizes), retention (sum active / sum size),
    revenue_retention and gross_revenue_retention (means weighted by cohort size over cohorts where
    they are defined). Partial cells are left out unless complete_only is False.
    """
    t = table[table["complete"]] if complete_only else table
    rows = []
    for period, g in t.groupby("period", sort=True):
        rr = g.dropna(subset=["revenue_retention"])
        grr = g.dropna(subset=["gross_revenue_retention"])
        rows.append({
            "period": int(period), "cohorts": len(g), "customers": int(g["cohort_size"].sum()),
            "retention": g["active"].sum() / g["cohort_size"].sum(),
            "revenue_retention": (np.average(rr["revenue_retention"], weights=rr["cohort_size"])
                                  if len(rr) else np.nan),
            "gross_revenue_retention": (np.average(grr["gross_revenue_retention"], weights=grr["cohort_size"])
                                        if len(grr) else np.nan),
        })
    return pd.DataFrame(rows, columns=["period", "cohorts", "customers", "retention", "revenue_retention",
                                       "gross_revenue_retention"])


def activation_cohorts(customers: ir.Table, events: ir.Table, event: str, within_days: int,
                       as_of: date) -> pd.DataFrame:
    """Share of each signup cohort that did `event` within `within_days` days of signup (before D).

    Columns: cohort (Timestamp, signup month), cohort_size, activated, share, complete (every member had
    the full window before D, i.e. signup + within_days <= D; otherwise the share can still rise).
    An event counts when signup_date <= its day < signup_date + within_days and it is before D.
    """
    d = ibis.literal(as_of)
    signed = customers.filter(customers.signup_date.notnull() & (customers.signup_date < d))
    signed = signed.select("customer_id", signup=signed.signup_date.cast("date"))
    ev = events.filter((events.event == event) & (events.timestamp < d.cast("timestamp")))
    ev = ev.select(eid="customer_id", day=ev.timestamp.cast("date"))
    j = signed.join(ev, signed.customer_id == ev.eid)
    # Activated: the event on a day from signup to signup + N days (exclusive).
    j = j.filter((j.day >= j.signup) & (j.day < (j.signup + ibis.interval(days=within_days)).cast("date")))
    done = j.select(aid="customer_id").distinct()
    s = signed.left_join(done, signed.customer_id == done.aid)
    s = s.mutate(cohort=s.signup.truncate("M").cast("date"), activated=s.aid.notnull().cast("int64"),
                 # complete: the whole N-day window of this customer lies before D
                 open_window=((s.signup + ibis.interval(days=within_days)).cast("date") > d).cast("int64"))
    agg = fetch(s.group_by("cohort").aggregate(cohort_size=s.customer_id.count(), activated=s.activated.sum(),
                                               open_windows=s.open_window.sum()))
    agg = agg.sort_values("cohort").reset_index(drop=True)
    return pd.DataFrame({
        "cohort": pd.to_datetime(agg["cohort"]).astype("datetime64[us]"),
        "cohort_size": agg["cohort_size"].astype("int64"),
        "activated": agg["activated"].astype("int64"),
        "share": agg["activated"] / agg["cohort_size"],
        "complete": (agg["open_windows"] == 0).astype(bool),
    })
