"""Kaplan-Meier survival and the survival-based LTV, on tables computed by hand."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.survival import (SurvivalError, SurvivalParams, customer_lifetimes, expected_lifetime,
                                   kaplan_meier, survival_ltv)

# Seven customers: (months, churned?) = (1, yes) (2, no) (3, yes) (3, yes) (3, no) (5, yes) (6, no)
DURATIONS = np.array([1, 2, 3, 3, 3, 5, 6])
CHURNED = np.array([True, False, True, True, False, True, False])


def test_kaplan_meier_matches_the_hand_computed_table_with_censoring():
    table = kaplan_meier(DURATIONS, CHURNED)
    # time  at risk  churned  censored  S(t)                          Greenwood sum of d / (n (n - d))
    #  1      7        1        0       1 - 1/7          = 6/7        1/42
    #  2      6        0        1       6/7                           1/42
    #  3      5        2        1       6/7 x 3/5        = 18/35      1/42 + 2/15
    #  5      2        1        0       18/35 x 1/2      = 9/35       1/42 + 2/15 + 1/2
    #  6      1        0        1       9/35                          same
    greenwood = np.array([1 / 42, 1 / 42, 1 / 42 + 2 / 15, 1 / 42 + 2 / 15 + 1 / 2, 1 / 42 + 2 / 15 + 1 / 2])
    survival = np.array([6 / 7, 6 / 7, 18 / 35, 9 / 35, 9 / 35])
    expected = pd.DataFrame({
        "time": [1.0, 2.0, 3.0, 5.0, 6.0], "at_risk": [7, 6, 5, 2, 1], "events": [1, 0, 2, 1, 0],
        "censored": [0, 1, 1, 0, 1], "survival": survival, "std_error": survival * np.sqrt(greenwood),
    })
    pd.testing.assert_frame_equal(table[expected.columns], expected)
    assert table.loc[0, "std_error"] == pytest.approx(0.132260, abs=1e-6)   # 6/7 x sqrt(1/42)
    z = 1.959963984540054
    assert table["low"].tolist() == pytest.approx(np.clip(survival - z * table["std_error"], 0, 1).tolist())


def test_expected_lifetime_is_the_area_under_the_curve_continued_by_its_tail_churn():
    # horizon 7 months (t = 0..6), all observed: 1 + 6/7 + 6/7 + 18/35 + 18/35 + 9/35 + 9/35 = 149/35
    months, extrapolated = expected_lifetime(DURATIONS, CHURNED, horizon_months=7)
    assert months == pytest.approx(149 / 35) and not extrapolated
    # horizon 8: month 7 is past the data (last time 6); pooled tail churn = 4 churned / 21 at risk
    # (7 + 6 + 5 + 2 + 1), so S(7) = 9/35 x (1 - 4/21) = 9/35 x 17/21
    months, extrapolated = expected_lifetime(DURATIONS, CHURNED, horizon_months=8)
    assert months == pytest.approx(149 / 35 + 9 / 35 * 17 / 21) and extrapolated


def test_no_churn_at_all_gives_the_full_capped_lifetime():
    months, extrapolated = expected_lifetime(np.array([3, 4, 10]), np.array([False, False, False]), 60)
    assert months == 60.0 and extrapolated


def test_lifetimes_take_the_first_paying_spell_up_to_the_last_complete_month():
    ledger = pd.DataFrame({
        "customer_id": ["X"] * 5 + ["Y"] * 3 + ["W"] * 8 + ["U", "V", "T"],
        "month": ([dt.date(2026, m, 1) for m in range(6, 11)] + [dt.date(2026, m, 1) for m in range(3, 6)]
                  + [dt.date(2026, 1, 1), dt.date(2026, 2, 1)] + [dt.date(2026, m, 1) for m in range(5, 11)]
                  + [dt.date(2026, 10, 1), dt.date(2026, 11, 1), dt.date(2026, 9, 1)]),
        "mrr_cents": [100] * 18 + [0],
    })
    out = customer_lifetimes(ledger, dt.date(2026, 11, 1)).set_index("customer_id")
    # L = 2026-10. X pays Jun..Oct: still paying, seen paying 4 months after its first (censored at 4).
    # Y pays Mar..May: churns in June, the 3rd month after its first -> 3, churned.
    # W pays Jan, Feb, then from May again: its first spell ends with March -> 2, churned (a reactivation
    # does not undo the churn). U first pays in October = L: censored at 0. V pays only after L; T never
    # had MRR > 0: both absent.
    assert out.loc[["U", "W", "X", "Y"], "duration_months"].tolist() == [0, 2, 4, 3]
    assert out.loc[["U", "W", "X", "Y"], "churned"].tolist() == [False, True, False, True]
    assert sorted(out.index) == ["U", "W", "X", "Y"]


def test_survival_ltv_is_lifetime_times_arpa_times_margin_per_segment():
    lifetimes = pd.DataFrame({"customer_id": [f"c{i}" for i in range(9)],
                              "duration_months": list(DURATIONS) + [2, 4],
                              "churned": list(CHURNED) + [True, True]})
    segments = pd.DataFrame({"customer_id": [f"c{i}" for i in range(9)], "segment": ["SMB"] * 7 + ["Ent"] * 2})
    out = survival_ltv(lifetimes, segments, arpa={"SMB": 100.0, "Ent": 1000.0}, margin=0.8,
                       params=SurvivalParams(horizon_months=7, n_boot=50)).set_index("segment")
    assert out.index.tolist() == ["SMB", "Ent", "All customers"]
    assert out.loc["SMB", "expected_lifetime_months"] == pytest.approx(149 / 35)
    assert out.loc["SMB", "predicted_ltv"] == pytest.approx(149 / 35 * 100 * 0.8)
    # Ent: churn at 2 and 4: S = 1, 1, 1/2, 1/2, 0 ... -> 1 + 1 + 1/2 + 1/2 = 3 months
    assert out.loc["Ent", "expected_lifetime_months"] == pytest.approx(3.0)
    assert out.loc["Ent", "predicted_ltv"] == pytest.approx(3 * 1000 * 0.8)
    smb = out.loc["SMB"]
    assert smb["lifetime_low"] <= smb["expected_lifetime_months"] <= smb["lifetime_high"]
    assert math.isnan(out.loc["All customers", "predicted_ltv"])  # no ARPA given for it
    assert out.loc["All customers", "customers"] == 9 and out.loc["All customers", "churned"] == 6


def test_missing_columns_are_refused_with_the_fix():
    with pytest.raises(SurvivalError, match="segments: missing column"):
        survival_ltv(pd.DataFrame({"customer_id": [], "duration_months": [], "churned": []}),
                     pd.DataFrame({"customer_id": []}), arpa={})


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 24), st.booleans()), min_size=1, max_size=40))
def test_survival_never_rises_and_stays_between_0_and_1(rows):
    e = np.array([r[1] for r in rows])
    d = np.array([max(r[0], 1) if r[1] else r[0] for r in rows])   # a churn comes after the first paid month
    table = kaplan_meier(d, e)
    s = table["survival"].to_numpy()
    assert ((s >= 0) & (s <= 1)).all() and (np.diff(s) <= 1e-12).all()
    assert table["at_risk"].iloc[0] == len(d) and table["events"].sum() == e.sum()
    months, _ = expected_lifetime(d, e, 60)
    assert 1 <= months <= 60
