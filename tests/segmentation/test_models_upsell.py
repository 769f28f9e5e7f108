"""Upsell readiness: ranking and reasons on a tiny hand-made frame."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from segmentation.upsell import UpsellError, premium_usage, upsell_candidates
from tests.segmentation.conftest import ibis_tables, tiny_frames


def tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Five Team customers and one Starter, one free.

    events_30d among the four Team customers with events: p 300, q 100, r 100, s 10, t 0 (five on Team).
    usage_rank = (others with fewer + half the ties) / 4:
      p: 4/4 = 1.0; q: (2 + 0.5) / 4 = 0.625; r: 0.625; s: 1/4 = 0.25; t: 0/4 = 0.
    limit_use = max(usage %, seat %) / 100 capped at 1: p 0.9, q 0.5, r 1.0 (120% capped), s 0.2, t NaN.
    u is alone on Starter: usage_rank 0.5; no limits -> readiness from usage only.
    """
    features = pd.DataFrame({
        "customer_id": ["p", "q", "r", "s", "t", "u", "v"],
        "paying": [True, True, True, True, True, True, False],
        "churned": [False] * 7,
        "plan": ["Team", "Team", "Team", "Team", "Team", "Starter", "Free"],
        "mrr": [299.0, 299.0, 324.0, 299.0, 299.0, 49.0, 0.0],
        "events_30d": [300.0, 100.0, 100.0, 10.0, 0.0, 50.0, 500.0],
        "usage_pct_of_limit": [np.nan] * 7,
        "seat_pct_of_limit": [90.0, 50.0, 120.0, 20.0, np.nan, np.nan, 100.0],
    })
    labels = pd.DataFrame({"customer_id": ["p", "q", "r", "s", "t", "u", "v"],
                           "icp_fit": [50.0, 100.0, 100.0, 100.0, 100.0, np.nan, 100.0]})
    return features, labels


def test_candidates_are_ranked_by_icp_fit_times_readiness_with_reasons():
    out = upsell_candidates(*tiny()).set_index("customer_id")
    # readiness = 100 x (0.4 usage + 0.4 limit) / 0.8 when both are known, else the known one alone:
    #   p: (0.4 x 1.0 + 0.4 x 0.9) / 0.8 = 95     score 50% x 95 = 47.5
    #   q: (0.4 x 0.625 + 0.4 x 0.5) / 0.8 = 56.25   score 56.25
    #   r: (0.4 x 0.625 + 0.4 x 1.0) / 0.8 = 81.25   score 81.25
    #   s: (0.4 x 0.25 + 0.4 x 0.2) / 0.8 = 22.5     score 22.5
    #   t: usage only: 0.0 -> 0                      score 0
    #   u: usage only: 0.5 -> 50, ICP unknown -> 50  score 25
    assert out.index.tolist() == ["r", "q", "p", "u", "s", "t"]       # v is not paying
    assert out["readiness"].tolist() == pytest.approx([81.25, 56.25, 95.0, 50.0, 22.5, 0.0])
    assert out["score"].tolist() == pytest.approx([81.25, 56.25, 47.5, 25.0, 22.5, 0.0])
    assert out.loc["r", "limit_use"] == 1.0 and np.isnan(out.loc["u", "icp_fit"])
    assert out.loc["r", "reason"] == "at 100% of the plan's limit; strong ICP fit (100)"
    assert out.loc["p", "reason"] == "busier than 100% of other Team customers; at 90% of the plan's limit"
    assert out.loc["u", "reason"] == "ICP fit unknown"
    assert out.loc["t", "reason"] == "strong ICP fit (100)"


def test_a_customer_the_inactivity_rule_churned_is_no_upsell_candidate_though_it_paid_this_year():
    features, labels = tiny()
    features.loc[features["customer_id"] == "r", "churned"] = True   # order data: 12-month revenue, no recent order
    out = upsell_candidates(features, labels)
    assert sorted(out["customer_id"]) == ["p", "q", "s", "t", "u"]   # r, the best candidate otherwise, is out


def test_low_use_of_premium_features_raises_readiness_when_known():
    features, labels = tiny()
    features["premium_share_30d"] = [0.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]
    out = upsell_candidates(features, labels).set_index("customer_id")
    # p: (0.4 x 1.0 + 0.4 x 0.9 + 0.2 x 1.0) / 1.0 = 96; q: (0.25 + 0.2 + 0.1) = 55
    assert out.loc["p", "readiness"] == pytest.approx(96.0)
    assert out.loc["q", "readiness"] == pytest.approx(55.0)
    assert "little use of premium features (0% of events)" in out.loc["p", "reason"]


def test_missing_icp_fit_column_is_refused_with_the_fix():
    features, labels = tiny()
    with pytest.raises(UpsellError, match="labels: missing column"):
        upsell_candidates(features, labels.drop(columns="icp_fit"))


def test_premium_usage_is_the_share_of_last_30_day_events_that_are_premium():
    tables = ibis_tables(tiny_frames())
    out = premium_usage(tables, dt.date(2026, 11, 1), ("api_call",)).set_index("customer_id")
    # A's events in [2026-10-02, 2026-11-01): dashboard_view, api_call (10-31), api_call (10-02) -> 2 / 3.
    # B's last events are in August; C's only event is on D: both absent.
    assert out.index.tolist() == ["A"]
    assert out.loc["A", "premium_share_30d"] == pytest.approx(2 / 3)
