"""Upsell readiness: which paying customers to call about a bigger plan, ranked, with the reason for each.

In plain words, for a founder
-----------------------------
A good upsell call goes to a customer who (1) looks like your best customers (ICP fit) and (2) is
outgrowing what they pay for. Readiness (0-100) combines three signs of outgrowing the plan:

- heavy use: busier (events in the last 30 days) than most other customers on the same plan;
- near the limits: active users (or usage) close to the plan's seat (or usage) limit;
- untapped premium features: little use of the features a bigger plan sells (only when a
  `premium_share_30d` column is given, e.g. from `premium_usage`).

Score = ICP fit x readiness / 100, so a customer needs both. Each row says why in words.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import ibis
import numpy as np
import pandas as pd

from segmentation.features import current_customers

__all__ = ["UpsellParams", "UpsellError", "upsell_candidates", "premium_usage", "UPSELL_COLUMNS"]

UPSELL_COLUMNS: tuple[str, ...] = ("customer_id", "score", "icp_fit", "readiness", "reason", "plan", "mrr",
                                   "usage_rank", "limit_use", "premium_gap")


class UpsellError(ValueError):
    """An upsell input is missing a column."""


@dataclass(frozen=True)
class UpsellParams:
    """Weights of the readiness components (re-weighted over those a customer has data for), the ICP
    fit assumed when unknown, and the levels above which a component is named in the reason."""

    usage_weight: float = 0.4
    limit_weight: float = 0.4
    premium_weight: float = 0.2
    unknown_icp_fit: float = 50.0
    heavy_usage_at: float = 0.75
    near_limit_at: float = 0.8
    premium_gap_at: float = 0.8
    strong_icp_at: float = 75.0


def _num(frame: pd.DataFrame, col: str) -> pd.Series:
    if col not in frame.columns:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[col], errors="coerce").astype("float64")


def _usage_rank(events: pd.Series, plan: pd.Series) -> pd.Series:
    """Share of the *other* paying customers on the same plan with fewer events (ties count half);
    0.5 for a customer alone on its plan."""
    out = pd.Series(np.nan, index=events.index, dtype="float64")
    for _, idx in events.groupby(plan, dropna=False).groups.items():
        x = events.loc[idx].fillna(0.0).to_numpy()
        n = len(x)
        if n == 1:
            out.loc[idx] = 0.5
            continue
        ordered = np.sort(x)
        below = np.searchsorted(ordered, x, "left")
        ties = np.searchsorted(ordered, x, "right") - below - 1   # others with the same count
        out.loc[idx] = (below + 0.5 * ties) / (n - 1)
    return out


def upsell_candidates(features: pd.DataFrame, labels: pd.DataFrame,
                      params: UpsellParams = UpsellParams()) -> pd.DataFrame:
    """Paying customers not churned (features.current_customers) ranked by upsell score = ICP fit x
    readiness / 100.

    Parameters
    ----------
    features : customer_features (customer_id, paying, churned, mrr, events_30d, usage_pct_of_limit,
        seat_pct_of_limit, plan; optional premium_share_30d = share of last-30-day events that are premium
        features, 0-1).
    labels : a frame with customer_id and icp_fit (0-100, segmentation.schemes.icp_fit / label_all).

    Returns
    -------
    One row per paying customer, columns UPSELL_COLUMNS: customer_id, score (0-100), icp_fit (0-100,
    NaN when unknown; `unknown_icp_fit` is used in the score), readiness (0-100), reason (words),
    plan, mrr, usage_rank (0-1: share of other paying customers on the same plan with fewer events,
    ties half), limit_use (0-1: max of usage and seat use of limit, capped at 1), premium_gap (0-1:
    1 - premium share). Readiness = weighted mean of the available components x 100. Sorted by score,
    then MRR, descending.
    """
    for frame, name, cols in ((features, "features", ("customer_id", "paying", "churned")),
                              (labels, "labels", ("customer_id", "icp_fit"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise UpsellError(f"{name}: missing column(s) {', '.join(missing)}; pass customer_features and "
                              "label_all (or a frame with customer_id and icp_fit).")
    paying = current_customers(features).reset_index(drop=True)
    plan = (paying["plan"].astype("str").where(paying["plan"].notna(), "(no plan)") if "plan" in paying.columns
            else pd.Series("(all)", index=paying.index))
    usage = _usage_rank(_num(paying, "events_30d"), plan)
    if _num(paying, "events_30d").isna().all():
        usage[:] = np.nan
    limit = pd.concat([_num(paying, "usage_pct_of_limit"), _num(paying, "seat_pct_of_limit")], axis=1).max(axis=1)
    limit = (limit / 100).clip(0, 1)
    premium = 1 - _num(paying, "premium_share_30d").clip(0, 1)
    parts = [(usage, params.usage_weight), (limit, params.limit_weight), (premium, params.premium_weight)]
    num = sum(np.where(s.notna(), s.fillna(0) * w, 0.0) for s, w in parts)
    den = sum(np.where(s.notna(), w, 0.0) for s, w in parts)
    with np.errstate(invalid="ignore", divide="ignore"):
        readiness = pd.Series(np.where(den > 0, 100 * num / np.where(den > 0, den, 1), np.nan), index=paying.index)

    lab = labels[["customer_id", "icp_fit"]].assign(customer_id=labels["customer_id"].astype("str"))
    icp = paying[["customer_id"]].assign(customer_id=paying["customer_id"].astype("str")).merge(
        lab, on="customer_id", how="left")["icp_fit"]
    icp = pd.to_numeric(icp, errors="coerce").astype("float64")
    score = icp.fillna(params.unknown_icp_fit) * readiness.fillna(0) / 100

    reasons = []
    for i in range(len(paying)):
        words = []
        if pd.notna(usage.iloc[i]) and usage.iloc[i] >= params.heavy_usage_at:
            words.append(f"busier than {usage.iloc[i]:.0%} of other {plan.iloc[i]} customers")
        if pd.notna(limit.iloc[i]) and limit.iloc[i] >= params.near_limit_at:
            words.append(f"at {limit.iloc[i]:.0%} of the plan's limit")
        if pd.notna(premium.iloc[i]) and premium.iloc[i] >= params.premium_gap_at:
            words.append(f"little use of premium features ({1 - premium.iloc[i]:.0%} of events)")
        if pd.isna(icp.iloc[i]):
            words.append("ICP fit unknown")
        elif icp.iloc[i] >= params.strong_icp_at:
            words.append(f"strong ICP fit ({icp.iloc[i]:.0f})")
        reasons.append("; ".join(words) if words else "no strong sign of outgrowing the plan")
    out = pd.DataFrame({
        "customer_id": paying["customer_id"].astype("str"), "score": score, "icp_fit": icp,
        "readiness": readiness, "reason": pd.Series(reasons, index=paying.index, dtype="str"),
        "plan": plan.astype("str"), "mrr": _num(paying, "mrr"), "usage_rank": usage, "limit_use": limit,
        "premium_gap": premium,
    })
    return out.sort_values(["score", "mrr", "customer_id"], ascending=[False, False, True],
                           kind="stable").reset_index(drop=True)


def premium_usage(tables: Mapping[str, ibis.Table], as_of: dt.date, premium_events: tuple[str, ...]) -> pd.DataFrame:
    """customer_id, premium_share_30d: share of each customer's events in [D - 30 days, D) whose name is
    one of `premium_events` (customers without events in the window are absent). Merge into the
    features to feed upsell_candidates."""
    if "events" not in tables or "event" not in tables["events"].columns:
        raise UpsellError("premium_usage: needs an `events` table with an `event` column; load product events.")
    d = dt.datetime(as_of.year, as_of.month, as_of.day)
    ev = tables["events"]
    # Events in the 30 days before D: [D - 30 days, D).
    recent = ev.filter((ev.timestamp < ibis.literal(d)) & (ev.timestamp >= ibis.literal(d - dt.timedelta(days=30))))
    premium = recent.event.isin(list(premium_events))
    # Per customer: premium events / all events in the window.
    agg = recent.group_by("customer_id").aggregate(premium=recent.count(where=premium), events=recent.count())
    out = agg.execute()
    out["customer_id"] = out["customer_id"].astype("str")
    out["premium_share_30d"] = out["premium"].astype("float64") / out["events"].astype("float64")
    return out[["customer_id", "premium_share_30d"]]
