"""MRR movements per complete month (new, expansion, contraction, churned, reactivation) and the KPIs built on them.

Subscription model (DEFINITIONS.md "Churn", ChartMogul's MRR movements), per customer and month m, with
prev = MRR(m-1) and cur = MRR(m):

- new: prev = 0, cur > 0 and m is the customer's first paying month -> cur
- reactivation: prev = 0, cur > 0 and the customer paid before -> cur
- expansion: 0 < prev < cur -> cur - prev
- contraction: 0 < cur < prev -> prev - cur
- churned: prev > 0, cur = 0 -> prev (the customer churns in m)
- refunds: the month's refund_cents (negative net revenue), reported beside the movements, outside the
  reconciliation start + new + expansion + reactivation - contraction - churned = end.

Transactional model ("monthly revenue movements"; the series is monthly revenue, never MRR). Customers
churn by the inactivity rule: a purchase p not followed by another purchase within N days
(next - p > N, or none) is a churn dated p + N, counted only when p + N < D. A purchase more than N days
after the previous one is a reactivation; the first purchase makes a new customer. A customer is active at
the start of month m when a run of purchases started before m and its churn date (if any) is in m or later.
Revenue, with prev / cur the customer's revenue in months m-1 / m:

- new: prev = 0, cur > 0, m is the customer's first month with revenue (the month of its first purchase;
  when that order was cancelled in full, the next month with revenue) -> cur
- reactivation: prev = 0, cur > 0, a reactivating purchase in m, not new -> cur
- churned: prev > 0, cur = 0 and the last purchase of m-1 was followed by a churn (observed before D) -> prev
- otherwise a rise is expansion and a fall contraction (a customer still inside its N days who bought
  nothing this month contracts; one who buys again within N days expands).

So revenue is lost in the month after the last purchase, while the customer is counted as churned in the
month of last purchase + N days (DEFINITIONS.md dates churn there); both are retrospective and exact as of D.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from economics.ledger import LedgerError, add_months, as_date, last_complete_month, month_range
from segmentation.features import daily_net_revenue, drop_memtables, fetch

__all__ = [
    "RevenueModel", "revenue_words", "in_revenue_words", "MOVEMENT_COLUMNS", "customer_months", "mrr_movements",
    "WindowRate", "window_months",
    "logo_churn", "revenue_churn", "nrr_grr", "arpa", "quick_ratio", "kpis",
]

RevenueModel = Literal["subscription", "transactional"]

MOVEMENT_COLUMNS: tuple[str, ...] = (
    "month", "starting_mrr", "new", "expansion", "contraction", "churned", "reactivation", "refunds",
    "ending_mrr", "quick_ratio", "customers_start", "customers_end", "new_customers", "churned_customers",
    "reactivated_customers",
)

_MONEY = ("prev_cents", "cur_cents", "refund_cents", "new_cents", "expansion_cents", "contraction_cents",
          "churned_cents", "reactivation_cents")
_COUNTS = ("active_start", "new_customer", "churned_customer", "reactivated_customer")


def revenue_words(revenue_model: str) -> tuple[str, str]:
    """What the monthly series is called, in a sentence and as a name: ("MRR", "MRR"), or for transactional
    revenue ("revenue", "Monthly revenue"): DEFINITIONS.md "Revenue" never calls order revenue MRR."""
    return ("MRR", "MRR") if revenue_model == "subscription" else ("revenue", "Monthly revenue")


def in_revenue_words(text: str, revenue_model: str) -> str:
    """`text` (a model's drivers and reasons, named after the feature "MRR") with MRR called monthly revenue
    on order data."""
    return text if revenue_model == "subscription" else text.replace("MRR", "monthly revenue")


def _check_model(revenue_model: str) -> None:
    if revenue_model not in ("subscription", "transactional"):
        raise LedgerError(f"revenue_model {revenue_model!r} is not 'subscription' or 'transactional'.")


def customer_months(ledger: ir.Table, as_of: date, revenue_model: RevenueModel, *,
                    revenue: ir.Table | None = None, inactivity_days: int = 90) -> ir.Table:
    """One row per customer and complete month with a movement or an exposure (an ibis expression).

    Columns: customer_id, month (date), prev_cents, cur_cents, refund_cents, new_cents, expansion_cents,
    contraction_cents, churned_cents, reactivation_cents (int64 cents), active_start, new_customer,
    churned_customer, reactivated_customer (0/1). Rules are in the module docstring (DEFINITIONS.md).
    Only complete months (<= last_complete_month(as_of)) appear. `revenue` (the contract's revenue table
    with date and amount_cents) is required for the transactional model: it dates each purchase.
    """
    _check_model(revenue_model)
    last = last_complete_month(as_of)
    # Complete months only: the month of D (and anything later) is outside every monthly metric.
    led = ledger.filter(ledger.month <= ibis.literal(last))
    zero = ibis.literal(0, type="int64")
    # This month's value of each ledger row (cur), and its refunds.
    this_month = led.select(
        "customer_id", month=led.month, prev_cents=zero, cur_cents=led.mrr_cents.cast("int64"),
        refund_cents=led.refund_cents.cast("int64"), lapsed=zero, new_flag=zero, react_flag=zero,
        active_start=zero, churn_flag=zero)
    paying = led.filter(led.mrr_cents > 0)
    # The same value seen from the next month (prev), so a month without a row still shows its drop.
    next_month = paying.select(
        "customer_id", month=(paying.month + ibis.interval(months=1)).cast("date"),
        prev_cents=paying.mrr_cents.cast("int64"), cur_cents=zero, refund_cents=zero, lapsed=zero,
        new_flag=zero, react_flag=zero, active_start=zero, churn_flag=zero)
    next_month = next_month.filter(next_month.month <= ibis.literal(last))
    parts = [this_month, next_month]

    if revenue_model == "transactional":
        if revenue is None:
            raise LedgerError("the transactional model needs the 'revenue' table (customer_id, date, "
                              "amount_cents) to date purchases for the inactivity rule; pass revenue=.")
        parts += _transactional_parts(revenue, as_of, last, inactivity_days, zero)

    rows = ibis.union(*parts, distinct=False)
    agg = rows.group_by(["customer_id", "month"]).aggregate(
        prev_cents=rows.prev_cents.sum(), cur_cents=rows.cur_cents.sum(),
        refund_cents=rows.refund_cents.sum(), lapsed=rows.lapsed.max(), new_flag=rows.new_flag.max(),
        react_flag=rows.react_flag.max(), t_active=rows.active_start.max(), t_churn=rows.churn_flag.sum())
    first = paying.group_by("customer_id").aggregate(first_paid=paying.month.min())
    agg = agg.left_join(first, "customer_id").drop("customer_id_right")
    prev, cur = agg.prev_cents, agg.cur_cents
    starts = (prev == 0) & (cur > 0)
    # New revenue: the customer's first paying month (ChartMogul's new business: its first MRR).
    is_new = starts & (agg.month == agg.first_paid)
    if revenue_model == "subscription":
        # Reactivation: paying again after a month without MRR.
        is_react = starts & (agg.month > agg.first_paid)
        # Churn: paying last month, nothing this month.
        is_churn = (prev > 0) & (cur == 0)
        active_start = (prev > 0).cast("int64")
        churned_customer = is_churn.cast("int64")
    else:
        # A first order cancelled in full leaves its month at 0: the revenue of the first paying month after
        # it is new, not a rise of a customer already buying (the customer still counts as new when its run
        # of purchases starts, as its first purchase day has positive revenue).
        is_react = starts & (agg.react_flag == 1) & ~is_new
        # Revenue is churned when the last purchase of last month turned out to be the last of its run.
        is_churn = (prev > 0) & (cur == 0) & (agg.lapsed == 1)
        active_start = agg.t_active
        churned_customer = agg.t_churn
    rise, fall = cur > prev, cur < prev
    out = agg.select(
        "customer_id", "month", prev_cents=prev, cur_cents=cur, refund_cents=agg.refund_cents,
        new_cents=ibis.ifelse(is_new, cur, zero),
        expansion_cents=ibis.ifelse(rise & ~is_new & ~is_react, cur - prev, zero),
        contraction_cents=ibis.ifelse(fall & ~is_churn, prev - cur, zero),
        churned_cents=ibis.ifelse(is_churn, prev, zero),
        reactivation_cents=ibis.ifelse(is_react, cur, zero),
        active_start=active_start,
        new_customer=(agg.new_flag if revenue_model == "transactional" else is_new.cast("int64")),
        churned_customer=churned_customer,
        reactivated_customer=(agg.react_flag if revenue_model == "transactional"
                              else is_react.cast("int64")),
    )
    return out


def _transactional_parts(revenue: ir.Table, as_of: date, last: date, n_days: int,
                         zero: ir.Value) -> list[ir.Table]:
    """Rows carrying the inactivity-rule flags: runs of purchases, their churns, active months."""
    d = ibis.literal(as_of)
    # Purchases: days with positive net revenue, strictly before D.
    days = daily_net_revenue(revenue, as_of)
    days = days.filter(days.net > 0).select("customer_id", "day")
    w = ibis.window(group_by="customer_id", order_by="day")
    days = days.mutate(prev_day=days.day.lag().over(w), next_day=days.day.lead().over(w))
    # A run starts at the first purchase or one more than N days after the previous purchase ...
    starts_run = days.prev_day.isnull() | (days.day.delta(days.prev_day, unit="day") > n_days)
    # ... and ends with a churn at p + N when no purchase follows within N days (observed before D).
    churn_day = (days.day + ibis.interval(days=n_days)).cast("date")
    ends_run = days.next_day.isnull() | (days.next_day.delta(days.day, unit="day") > n_days)
    days = days.mutate(starts=starts_run.cast("int64"), first=days.prev_day.isnull().cast("int64"),
                       churn_day=ibis.ifelse(ends_run & (churn_day < d), churn_day, ibis.null("date")))
    w_run = ibis.window(group_by="customer_id", order_by="day", rows=(None, 0))
    days = days.mutate(run=days.starts.sum().over(w_run))
    runs = days.group_by(["customer_id", "run"]).aggregate(
        run_start=days.day.min(), last_day=days.day.max(), churn_day=days.churn_day.max(),
        first=days.first.max())
    runs = runs.mutate(start_month=runs.run_start.truncate("M").cast("date"),
                       churn_month=runs.churn_day.truncate("M").cast("date"))
    # Every complete month a run touches: from its start month to its churn month (or the last month).
    span = _month_grid(runs, last)
    alive = span.select(
        "customer_id", month=span.m, prev_cents=zero, cur_cents=zero, refund_cents=zero, lapsed=zero,
        new_flag=((span.start_month == span.m) & (span.first == 1)).cast("int64"),
        react_flag=((span.start_month == span.m) & (span.first == 0)).cast("int64"),
        # Active at the start of m: the run began before m and has not churned before m.
        active_start=((span.start_month < span.m)
                      & (span.churn_month.isnull() | (span.churn_month >= span.m))).cast("int64"),
        churn_flag=(span.churn_month.notnull() & (span.churn_month == span.m)).cast("int64"))
    ended = runs.filter(runs.churn_day.notnull())
    # The month after a run's last purchase is where its revenue is lost.
    lapse = ended.select(
        "customer_id", month=(ended.last_day.truncate("M") + ibis.interval(months=1)).cast("date"),
        prev_cents=zero, cur_cents=zero, refund_cents=zero, lapsed=ibis.literal(1, type="int64"),
        new_flag=zero, react_flag=zero, active_start=zero, churn_flag=zero)
    lapse = lapse.filter(lapse.month <= ibis.literal(last))
    return [alive, lapse]


def _month_grid(runs: ir.Table, last: date) -> ir.Table:
    """runs x the complete months each run spans (start month .. churn month or `last`)."""
    first = date(1970, 1, 1)
    grid = ibis.memtable(pd.DataFrame({"m": month_range(first, last)}), schema={"m": "date"})
    # A non-equi join on a small calendar: the run is alive somewhere in month m.
    joined = runs.join(grid, [grid.m >= runs.start_month, grid.m <= ibis.literal(last),
                              runs.churn_month.isnull() | (grid.m <= runs.churn_month)])
    return joined


def mrr_movements(ledger: ir.Table, as_of: date, revenue_model: RevenueModel, *,
                  revenue: ir.Table | None = None, inactivity_days: int = 90) -> pd.DataFrame:
    """MRR movements per complete month (ChartMogul's movements; DEFINITIONS.md "Churn", "Months").

    Columns: month (Timestamp, first day), starting_mrr, new, expansion, contraction, churned,
    reactivation, refunds, ending_mrr (dollars, float, from integer cents), quick_ratio ((new + expansion)
    / (contraction + churned); NaN = "n/a" when the denominator is 0), customers_start, customers_end,
    new_customers, churned_customers, reactivated_customers (int). One row for every month from the first
    ledger month to the last complete month, months without movement included. In the transactional model
    the same table is "monthly revenue movements" (see the module docstring for its rules).
    Reconciles: starting + new + expansion + reactivation - contraction - churned = ending, and
    customers_start + new_customers + reactivated_customers - churned_customers = customers_end.
    """
    status = customer_months(ledger, as_of, revenue_model, revenue=revenue,
                             inactivity_days=inactivity_days)
    # Aggregate every customer-month into the month's totals.
    monthly = fetch(status.group_by("month").aggregate(**{c: status[c].sum() for c in _MONEY + _COUNTS}))
    drop_memtables(status)  # the month calendar, once read
    return _movement_frame(monthly, as_of, ledger)


def _movement_frame(monthly: pd.DataFrame, as_of: date, ledger: ir.Table) -> pd.DataFrame:
    last = last_complete_month(as_of)
    first = ledger.filter(ledger.month <= ibis.literal(last)).month.min().execute()
    if first is None or pd.isna(first):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in MOVEMENT_COLUMNS}).assign(
            month=pd.Series(dtype="datetime64[us]"))
    months = pd.to_datetime(pd.Series(month_range(as_date(first), last)))
    monthly = monthly.assign(month=pd.to_datetime(monthly["month"]))
    full = pd.DataFrame({"month": months}).merge(monthly, on="month", how="left")
    for c in _MONEY + _COUNTS:
        full[c] = full[c].fillna(0).astype("int64")
    # Customers at the start in the transactional model come from runs; in both models the end follows.
    end_customers = (full["active_start"] + full["new_customer"] + full["reactivated_customer"]
                     - full["churned_customer"])
    out = pd.DataFrame({
        "month": full["month"].astype("datetime64[us]"),
        "starting_mrr": full["prev_cents"] / 100.0,
        "new": full["new_cents"] / 100.0,
        "expansion": full["expansion_cents"] / 100.0,
        "contraction": full["contraction_cents"] / 100.0,
        "churned": full["churned_cents"] / 100.0,
        "reactivation": full["reactivation_cents"] / 100.0,
        "refunds": full["refund_cents"] / 100.0,
        "ending_mrr": full["cur_cents"] / 100.0,
    })
    out["quick_ratio"] = quick_ratio(full["new_cents"], full["expansion_cents"],
                                     full["contraction_cents"], full["churned_cents"])
    out["customers_start"] = full["active_start"].astype("int64")
    out["customers_end"] = end_customers.astype("int64")
    out["new_customers"] = full["new_customer"].astype("int64")
    out["churned_customers"] = full["churned_customer"].astype("int64")
    out["reactivated_customers"] = full["reactivated_customer"].astype("int64")
    return out


def quick_ratio(new: pd.Series, expansion: pd.Series, contraction: pd.Series,
                churned: pd.Series) -> pd.Series:
    """(new + expansion) / (contraction + churned MRR), NaN ("n/a") when the denominator is 0.

    DEFINITIONS.md "Quick ratio" (note: reactivation is not in the numerator there).
    """
    num = (new + expansion).astype("float64")
    den = (contraction + churned).astype("float64")
    return (num / den.where(den != 0)).astype("float64")


@dataclass(frozen=True)
class WindowRate:
    """A pooled rate over a window of complete months: rate = events / exposure (NaN when exposure is 0)."""

    rate: float
    events: float
    exposure: float
    months: int
    first_month: pd.Timestamp | None
    last_month: pd.Timestamp | None


def window_months(movements: pd.DataFrame, window: int = 12) -> pd.DataFrame:
    """The trailing `window` complete months of a movements frame, or all of them when fewer.

    DEFINITIONS.md "Monthly logo churn over a window": default the trailing 12 complete months.
    """
    return movements.sort_values("month").tail(window)


def _rate(events: float, exposure: float, frame: pd.DataFrame) -> WindowRate:
    rate = events / exposure if exposure else math.nan
    first = frame["month"].min() if len(frame) else None
    last = frame["month"].max() if len(frame) else None
    return WindowRate(float(rate), float(events), float(exposure), len(frame), first, last)


def logo_churn(movements: pd.DataFrame, window: int = 12) -> WindowRate:
    """Monthly logo churn pooled over the window (DEFINITIONS.md "Monthly logo churn over a window").

    customers lost in the window's months / customers paying at the start of each of those months,
    summed: a pooled ratio, not a mean of monthly rates. Returns rate, events (lost), exposure and the
    window actually used (months, first_month, last_month).
    """
    w = window_months(movements, window)
    return _rate(float(w["churned_customers"].sum()), float(w["customers_start"].sum()), w)


def revenue_churn(movements: pd.DataFrame, window: int = 12) -> tuple[WindowRate, WindowRate]:
    """Gross and net monthly revenue churn pooled over the window (DEFINITIONS.md, ChartMogul).

    gross = (churned + contraction MRR) / starting MRR; net = (churned + contraction - expansion -
    reactivation) / starting MRR; both pooled over the window's months like logo churn.
    """
    w = window_months(movements, window)
    start = float(w["starting_mrr"].sum())
    lost = float((w["churned"] + w["contraction"]).sum())
    won = float((w["expansion"] + w["reactivation"]).sum())
    return _rate(lost, start, w), _rate(lost - won, start, w)


def nrr_grr(ledger: ir.Table, as_of: date) -> tuple[float, float]:
    """NRR and GRR over 12 months (DEFINITIONS.md "NRR / GRR (12 months)").

    Take the customers paying 12 complete months before the last complete month L; NRR = their MRR in L
    / their MRR in L-12; GRR the same with each customer's MRR in L capped at its MRR in L-12. Both are
    NaN ("n/a") with fewer than 13 complete months of ledger history.
    """
    last = last_complete_month(as_of)
    base = add_months(last, -12)
    pair = fetch(_nrr_pairs(ledger, base, last))
    first = ledger.filter(ledger.month <= ibis.literal(last)).month.min().execute()
    if first is None or pd.isna(first) or as_date(first) > base:
        return math.nan, math.nan
    return _nrr_from_pairs(pair)


def _nrr_pairs(ledger: ir.Table, base: date, last: date) -> ir.Table:
    """customer_id, then_cents (MRR in base, > 0), now_cents (MRR in last, 0 when absent)."""
    then = ledger.filter((ledger.month == ibis.literal(base)) & (ledger.mrr_cents > 0))
    then = then.select("customer_id", then_cents=then.mrr_cents.cast("int64"))
    now = ledger.filter(ledger.month == ibis.literal(last))
    now = now.select(cid="customer_id", now_cents=now.mrr_cents.cast("int64"))
    # Customers paying in the base month, with their MRR now (0 if they have no row now).
    j = then.left_join(now, then.customer_id == now.cid)
    return j.select("customer_id", "then_cents", now_cents=j.now_cents.fill_null(0))


def _nrr_from_pairs(pair: pd.DataFrame) -> tuple[float, float]:
    then = float(pair["then_cents"].sum())
    if then == 0:
        return math.nan, math.nan
    now = float(pair["now_cents"].sum())
    capped = float(np.minimum(pair["now_cents"], pair["then_cents"]).sum())
    return now / then, capped / then


def arpa(mrr_cents_total: float, paying_customers: int) -> float:
    """ARPA = MRR / paying customers, in dollars (ChartMogul, DEFINITIONS.md "Value"); NaN with none."""
    return (mrr_cents_total / 100.0) / paying_customers if paying_customers else math.nan


def kpis(ledger: ir.Table, as_of: date, revenue_model: RevenueModel, *, revenue: ir.Table | None = None,
         window: int = 12, inactivity_days: int = 90,
         movements: pd.DataFrame | None = None) -> dict[str, object]:
    """The headline KPIs as of D, each as DEFINITIONS.md defines it (see the functions named).

    Keys: last_complete_month (Timestamp), mrr (ending MRR of that month, dollars), paying_customers,
    arpa (`arpa`), logo_churn, gross_revenue_churn, net_revenue_churn (WindowRate, pooled over the
    trailing `window` complete months: `logo_churn`, `revenue_churn`), nrr, grr (`nrr_grr`; NaN = "n/a"),
    quick_ratio (of the last complete month; NaN = "n/a"). Pass `movements` to reuse a computed table.
    """
    mv = movements if movements is not None else mrr_movements(
        ledger, as_of, revenue_model, revenue=revenue, inactivity_days=inactivity_days)
    last = mv.iloc[-1] if len(mv) else None
    gross, net = revenue_churn(mv, window)
    nrr, grr = nrr_grr(ledger, as_of)
    mrr_now = float(last["ending_mrr"]) if last is not None else 0.0
    paying = int(last["customers_end"]) if last is not None else 0
    return {
        "last_complete_month": pd.Timestamp(last_complete_month(as_of)),
        "mrr": mrr_now, "paying_customers": paying, "arpa": arpa(mrr_now * 100.0, paying),
        "logo_churn": logo_churn(mv, window), "gross_revenue_churn": gross, "net_revenue_churn": net,
        "nrr": nrr, "grr": grr,
        "quick_ratio": float(last["quick_ratio"]) if last is not None else math.nan,
    }
