"""Feature adoption by segment and cross segmentation with small cells folded into Other."""
from __future__ import annotations

import pandas as pd

from segmentation.adoption import feature_adoption
from segmentation.cross import cross_segments

from .conftest import D


def test_feature_adoption_counts_customers_using_each_feature_in_the_last_30_days(tiny_tables):
    labels = pd.Series(["Paying", "Free", "Free"], index=["A", "B", "C"])
    got = feature_adoption(tiny_tables, labels, D)
    # last 30 days [2026-10-02, D): A used dashboard_view and api_call; B's events are in August;
    # C's only event is ON D (excluded). Segment sizes: Free 2, Paying 1.
    expected = pd.DataFrame({
        "segment": ["Free", "Free", "Paying", "Paying"],
        "event": ["api_call", "dashboard_view", "api_call", "dashboard_view"],
        "customers_using": [0, 0, 1, 1], "segment_size": [2, 2, 1, 1], "share": [0.0, 0.0, 1.0, 1.0],
        "share_all": [1 / 3, 1 / 3, 1 / 3, 1 / 3], "lift": [0.0, 0.0, 3.0, 3.0],
    })
    expected.insert(2, "feature", expected["event"])
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_feature_adoption_without_events_is_empty(tiny_tables):
    tables = {k: v for k, v in tiny_tables.items() if k != "events"}
    assert feature_adoption(tables, pd.Series(["x"], index=["A"]), D).empty


def test_cross_segments_fold_small_cells_into_other():
    labels = pd.DataFrame({
        "customer_id": list("abcdefg"),
        "value_tier": pd.Categorical(["SMB", "SMB", "SMB", "Enterprise", "Enterprise", "SMB", "Enterprise"],
                                     categories=["Enterprise", "SMB"]),
        "behavior": ["Power", "Power", "Power", "Light", "Light", "Light", "Power"],
        "mrr": [10.0, 10.0, 10.0, 500.0, 500.0, 20.0, 700.0],
    })
    got = cross_segments(labels, "value_tier", "behavior", min_size=2)
    # Enterprise x Light 2 (1000), SMB x Power 3 (30); Enterprise x Power 1 and SMB x Light 1 -> Other 2 (720)
    expected = pd.DataFrame({"value_tier": ["Enterprise", "SMB", "Other"], "behavior": ["Light", "Power", "Other"],
                             "segment": ["Enterprise × Light", "SMB × Power", "Other"],
                             "customers": [2, 3, 2], "mrr": [1000.0, 30.0, 720.0]})
    pd.testing.assert_frame_equal(got, expected)
