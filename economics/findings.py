"""The few findings a founder should read first, in plain words, from segment economics tables."""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from economics.assumptions import Assumptions, parse_assumptions
from economics.unit import shown_ltv_cac, shown_payback

__all__ = ["Finding", "top_findings", "draining_segments", "CROSS_SCOPE"]

# Said beside findings that read value tier x acquisition channel too (top_findings's cross scheme).
CROSS_SCOPE = ("Segments are compared within the chosen scheme and by value tier x acquisition channel, so "
               "a sales-led segment shows even when the scheme mixes it with self-serve customers.")


@dataclass(frozen=True)
class Finding:
    """severity: "bad" (money is leaking), "good" (what works), "info"."""

    segment: str
    text: str
    severity: str


def draining_segments(table: pd.DataFrame, min_customers: int) -> pd.DataFrame:
    """Margin-draining segments with enough paying customers to say so, the worst (lowest net LTV:CAC) first."""
    rows = table[(table["verdict"] == "margin-draining") & (table["paying_customers"] >= min_customers)]
    return rows.sort_values("net_ltv_cac")


def _money(value: float, symbol: str) -> str:
    return f"{'-' if value < 0 else ''}{symbol}{abs(value):,.0f}"


def _no_cac(row: pd.Series) -> str:
    if pd.isna(row["blended_cac"]):
        return "CAC needs spend data."
    return "Its CAC is not measured (no new customers with a channel in the window)."


def top_findings(tables: list[pd.DataFrame], blended: pd.Series, symbol: str = "$", min_customers: int = 30,
                 limit: int = 3, revenue_word: str = "MRR", thresholds: Assumptions | None = None) -> list[Finding]:
    """Up to `limit` findings: the worst margin-draining segment, the healthiest segment, and where churn
    concentrates. `tables` are segment economics tables (any schemes; cross schemes find sales-led
    segments); segments with fewer than `min_customers` paying customers are not quoted. Without spend
    data (or without the segment's CAC) the first two rest on contribution, as the verdict does
    (DEFINITIONS.md "Value"), say why CAC is missing, and a segment is said to pay its way only when its
    net LTV is positive. `revenue_word`: "MRR", or "revenue" for transactional revenue. Ratios and paybacks
    carry the digits their verdict rule prints with the `thresholds` in force (0.996x, never "1.00x"); a
    segment's share of revenue is set against its share of the paying customers (`blended`'s), who bring
    all of it."""
    a = thresholds or parse_assumptions({})
    frames = [t for t in tables if t is not None and len(t)]
    if not frames:
        return []
    allseg = pd.concat(frames, ignore_index=True).drop_duplicates("segment")
    usable = allseg[allseg["paying_customers"] >= min_customers]
    out: list[Finding] = []
    draining = draining_segments(usable, min_customers)
    if len(draining):
        r = draining.iloc[0]
        support = f"Support takes {r['support_share_of_revenue'] * 100:.0f}% of its revenue; "
        after = f"after gross margin, support and infra ({r['paying_customers']:,} paying customers)."
        # A negative contribution is money lost each month, not "given back".
        monthly = (f"gives back {_money(r['contribution_pcm'], symbol)}" if r["contribution_pcm"] >= 0
                   else f"loses {_money(-r['contribution_pcm'], symbol)}")
        if pd.notna(r["net_ltv_cac"]):
            text = (f"**{r['segment']}** drains margin: net LTV:CAC {shown_ltv_cac(r['net_ltv_cac'], a)}x. "
                    f"{support}winning a customer costs {_money(r['cac'], symbol)} and each {monthly} a month "
                    f"{after}")
        elif r["contribution_pcm"] < 0:
            text = f"**{r['segment']}** drains margin: each customer {monthly} a month {after} {support}{_no_cac(r)}"
        else:   # net LTV < 0: onboarding costs more than a lifetime of contribution
            text = (f"**{r['segment']}** drains margin: onboarding a customer costs "
                    f"{_money(r['onboarding_cost'], symbol)} (by the value tier each had when acquired), more "
                    f"than the {_money(r['contribution_pcm'], symbol)} a month it gives back over "
                    f"{r['lifetime_months']:.0f} months (net LTV {_money(r['net_ltv'], symbol)}; "
                    f"{r['paying_customers']:,} paying customers). {_no_cac(r)}")
        out.append(Finding(r["segment"], text, "bad"))
    healthy = usable[(usable["verdict"] == "healthy") & (usable["net_ltv_cac"].notna() | (usable["net_ltv"] > 0))]
    # those whose CAC was measured first, then by MRR
    healthy = healthy.assign(_measured=healthy["net_ltv_cac"].notna()).sort_values(["_measured", "mrr"],
                                                                                   ascending=False)
    if len(healthy):
        r = healthy.iloc[0]
        paying = float(blended.get("paying_customers", math.nan)) if blended is not None else math.nan
        of = (f"{r['paying_customers'] / paying * 100:.0f}% of paying customers" if paying > 0
              else f"{r['share'] * 100:.0f}% of customers")
        brings = f"it brings {r['mrr_share'] * 100:.0f}% of {revenue_word} from {of}"
        if pd.notna(r["net_ltv_cac"]):
            text = (f"**{r['segment']}** pays: net LTV:CAC {shown_ltv_cac(r['net_ltv_cac'], a)}x, CAC paid back in "
                    f"{shown_payback(r['payback_months'], a)} months; {brings}.")
        else:
            text = (f"**{r['segment']}** pays its way: each customer gives back "
                    f"{_money(r['contribution_pcm'], symbol)} a month after costs (net LTV "
                    f"{_money(r['net_ltv'], symbol)}); {brings}. {_no_cac(r)}")
        if r.get("ltv_capped") and r.get("churn_events") == 0:
            # no churn seen: the lifetime (and so net LTV) is the cap, an assumption rather than a measure
            text += (f" No customer of it churned in the window: its lifetime is assumed at the "
                     f"{r['lifetime_months']:.0f}-month cap.")
        out.append(Finding(r["segment"], text, "good"))
    churny = usable[usable["logo_churn"].notna()].sort_values("logo_churn", ascending=False)
    overall = float(blended.get("logo_churn", math.nan)) if blended is not None else math.nan
    if len(churny) and not math.isnan(overall):
        r = churny.iloc[0]
        out.append(Finding(r["segment"], (
            f"Monthly logo churn is {overall * 100:.1f}% overall; **{r['segment']}** churns fastest at "
            f"{r['logo_churn'] * 100:.1f}% a month (95% interval {r['logo_churn_low'] * 100:.1f}-"
            f"{r['logo_churn_high'] * 100:.1f}%)."), "info"))
    return out[:limit]
