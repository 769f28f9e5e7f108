"""The Segments page's summary against hand-computed values: counts, shares, MRR, NPS, change."""
from __future__ import annotations

import math

import pandas as pd
import pytest

from economics.segments import SUMMARY_COLUMNS, segment_summary

# At D: a, b SMB (MRR 100, 50), c Enterprise (MRR 1000), d Not paying. Earlier: a, b, c SMB, e Enterprise.
LABELS = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "value_tier": ["SMB", "SMB", "Enterprise", "Not paying"],
                       "mrr": [100.0, 50.0, 1000.0, 0.0]})
FEATURES = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "nps_latest": [10.0, 5.0, 9.0, None]})
EARLIER = pd.DataFrame({"customer_id": ["a", "b", "c", "e"], "value_tier": ["SMB", "SMB", "SMB", "Enterprise"]})
ORDER = ["Enterprise", "Mid-market", "SMB", "Not paying"]


def test_counts_shares_nps_and_change_by_segment():
    out = segment_summary(LABELS, FEATURES, EARLIER, "value_tier", ORDER).set_index("segment")
    assert list(out.reset_index().columns) == list(SUMMARY_COLUMNS)
    assert list(out.index) == ["Enterprise", "SMB", "Not paying"]    # display order; empty segments left out
    assert out["customers"].tolist() == [1, 2, 1] and out["share"].tolist() == [0.25, 0.5, 0.25]
    assert out["mrr"].tolist() == [1000.0, 150.0, 0.0]
    assert out.at["SMB", "mrr_share"] == pytest.approx(150 / 1150)
    # NPS (Bain): SMB one promoter (10) and one detractor (5) -> 0; Enterprise one promoter -> +100.
    assert out.at["SMB", "nps"] == 0.0 and out.at["Enterprise", "nps"] == 100.0
    assert math.isnan(out.at["Not paying", "nps"])
    # Change: SMB 2 now - 3 earlier; Enterprise 1 - 1; Not paying 1 - 0.
    assert out["change"].tolist() == [0, -1, 1]
    assert out["churn_rate"].isna().all()     # no segment economics given


def test_mrr_and_rates_come_from_the_segment_economics_when_given():
    # The economics' MRR is the last complete month's (what Unit economics shows), not the labels' MRR at D.
    econ = pd.DataFrame({"segment": ["Enterprise", "SMB", "Not paying"], "mrr": [900.0, 300.0, 0.0],
                         "logo_churn": [0.01, 0.05, math.nan], "expansion_rate": [0.02, math.nan, math.nan]})
    out = segment_summary(LABELS, FEATURES, EARLIER, "value_tier", ORDER, econ).set_index("segment")
    assert out["mrr"].tolist() == [900.0, 300.0, 0.0]
    assert out.at["SMB", "mrr_share"] == pytest.approx(300 / 1200)
    assert out.at["Enterprise", "churn_rate"] == 0.01 and math.isnan(out.at["SMB", "expansion_rate"])


def test_a_segment_empty_at_d_but_present_earlier_keeps_a_row():
    earlier = pd.concat([EARLIER, pd.DataFrame({"customer_id": ["f"], "value_tier": ["Mid-market"]})])
    out = segment_summary(LABELS, FEATURES, earlier, "value_tier", ORDER).set_index("segment")
    assert list(out.index) == ["Enterprise", "Mid-market", "SMB", "Not paying"]
    mid = out.loc["Mid-market"]
    assert (mid["customers"], mid["mrr"], mid["change"]) == (0, 0.0, -1)
