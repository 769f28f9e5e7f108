"""The headline numbers of the Overview and the board pack, with the month before for the change."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date

import pandas as pd

from economics.assumptions import Assumptions
from economics.glossary import metric_definitions
from economics.ledger import as_date, month_span, months_between
from economics.mrr import revenue_words

__all__ = ["Kpi", "headline_kpis", "snapshot_tiles_note"]


@dataclass(frozen=True)
class Kpi:
    """kind says how to format: count, money, pct, ratio, months. lower_is_better flips the delta colour."""

    label: str
    value: float
    before: float
    kind: str
    help: str
    lower_is_better: bool = False
    missing: str = ""   # why the value is n/a, when it is ("needs spend data")


def snapshot_tiles_note(snapshot_date: str) -> str:
    """What the tiles of a CRM snapshot cannot say (headline_kpis(snapshot=True)), said beside them, with why
    the as-of date is the month after the export day: the snapshot's month is read in full."""
    taken = f" taken {date.fromisoformat(snapshot_date):%d %b %Y} (its month counts in full, so the as-of date " \
            "is the 1st of the next)" if snapshot_date else ""
    return (f"a CRM snapshot{taken} records who left in its own month only: the tiles show no change against "
            "the month before, and 12-month retention cannot be measured from it")


def headline_kpis(movements: pd.DataFrame, nrr_now: tuple[float, float], nrr_before: tuple[float, float],
                  blended_now: pd.Series, blended_before: pd.Series, window: tuple, a: Assumptions,
                  revenue_model: str = "subscription", snapshot: bool = False) -> list[Kpi]:
    """Eight tiles: paying customers, MRR, NRR, GRR, logo churn, net LTV:CAC, CAC payback, blended CAC.

    `movements` is economics.mrr.mrr_movements (its last row is the last complete month); the blended
    rows are SegmentEconomics.blended at D and one month earlier, `a` their assumptions; definitions per
    DEFINITIONS.md, in the words of economics.glossary. On order data the first tile counts active customers
    (the inactivity rule's): the customers churn is measured on, which is what mrr_movements' customers_end
    counts in that model.

    On a CRM snapshot (`snapshot`: one row per customer, its history rebuilt from tenure) every churn falls
    in the snapshot month, and customers who left before it are not in the export: no tile has a change
    against the month before, and NRR / GRR read n/a (12-month retention needs the customers of a year ago,
    churned ones included).
    """
    nan = float("nan")
    last = movements.iloc[-1] if len(movements) else None
    prev = movements.iloc[-2] if len(movements) > 1 else None
    word = revenue_words(revenue_model)[1]
    define = metric_definitions(a, revenue_model)
    month = f"{pd.Timestamp(last['month']):%B %Y}" if last is not None else "the last complete month"
    span = month_span(window, "no month yet")

    def get(row, col):
        return float(row[col]) if row is not None else nan

    # Churn is pooled over the window: the label says so, so that its change against the month before reads
    # as the pool's (one month's churn can rise while the pool's falls).
    pooled = months_between(as_date(window[0]), as_date(window[1])) + 1 if window and window[0] is not None else 0
    churn_label = f"Monthly churn ({pooled} mo)" if pooled > 1 else "Monthly churn"
    short_history = f"needs 13 months; has {len(movements)}" if len(movements) < 13 else ""
    no_cac = "needs spend data" if "needs spend data" in str(blended_now.get("note", "")) else ""
    if revenue_model == "transactional":
        customers = Kpi("Active customers", get(last, "customers_end"), get(prev, "customers_end"), "count",
                        f"Customers not churned at the end of {month}, the last complete month: their last "
                        f"purchase is less than {a.inactivity_days} days old (the inactivity rule).")
        base = "customers active at the start of each month"
    else:
        customers = Kpi("Paying customers", get(last, "customers_end"), get(prev, "customers_end"), "count",
                        f"Customers with {word} > 0 in {month}, the last complete month.")
        base = "customers paying at the start of each month"
    kpis = [
        customers,
        Kpi(word, get(last, "ending_mrr"), get(prev, "ending_mrr"), "money",
            "Net revenue of the last complete month; a customer's negative month counts as 0."),
        Kpi("NRR (12 months)", nrr_now[0], nrr_before[0], "pct", define["nrr"]),
        Kpi("GRR (12 months)", nrr_now[1], nrr_before[1], "pct", define["grr"]),
        Kpi(churn_label, float(blended_now["logo_churn"]), float(blended_before["logo_churn"]), "pct",
            f"Customers lost / {base}, pooled over {span}"
            + (": the customer-weighted average month; the change is against the same pool a month earlier."
               if pooled > 1 else "."), True),
        Kpi("Net LTV : CAC (blended)", float(blended_now["net_ltv_cac"]), float(blended_before["net_ltv_cac"]),
            "ratio", f"Net LTV / CAC, all customers. {define['net_ltv']} {define['lifetime_months']}"),
        Kpi("CAC payback", float(blended_now["payback_months"]), float(blended_before["payback_months"]),
            "months", define["payback_months"], True),
        Kpi("Blended CAC", float(blended_now["cac"]), float(blended_before["cac"]), "money",
            define["blended_cac"], True),
    ]
    if snapshot:
        kpis = [replace(k, before=nan, value=nan if k.label in ("NRR (12 months)", "GRR (12 months)") else k.value)
                for k in kpis]
        short_history = "not from a snapshot"
    why = {"NRR (12 months)": short_history, "GRR (12 months)": short_history, "Net LTV : CAC (blended)": no_cac,
           "CAC payback": no_cac, "Blended CAC": no_cac}
    return [replace(k, missing=why.get(k.label, "")) if math.isnan(k.value) else k for k in kpis]
