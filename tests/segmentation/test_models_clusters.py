"""Behavioural clusters: hand-checkable blobs, names, profiles, the silhouette suggestion and the overlay."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from segmentation.clusters import ClusterError, cluster_customers, cluster_overlay, cluster_risk, suggest_k


def two_blobs() -> pd.DataFrame:
    """Six customers alike in everything but events_30d: three with 100 events, three with 1.

    On the log scale log1p(100) = 4.6151 and log1p(1) = 0.6931: mean 2.6541, standard deviation
    (population) 1.9610, so the busy customers sit at z = +1 and the others at z = -1.
    """
    return pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f"],
        "events_30d": [100.0, 1.0, 100.0, 1.0, 100.0, 1.0],
        "active_days_30d": [5.0] * 6, "features_used_30d": [3.0] * 6, "usage_trend": [0.0] * 6,
        "recency_days": [2.0] * 6, "tickets_90d": [1.0] * 6, "mrr": [300.0] * 6,
        "industry": ["Retail", "Media", "Retail", "Retail", None, "Media"],
    })


def test_two_obvious_blobs_become_two_clusters_named_by_the_feature_that_separates_them():
    result = cluster_customers(two_blobs(), k=2, seed=0)
    by_customer = dict(zip(result.assignments["customer_id"], result.assignments["cluster_name"]))
    assert by_customer == {"a": "High usage", "c": "High usage", "e": "High usage",
                           "b": "Low usage", "d": "Low usage", "f": "Low usage"}
    profile = result.profile.set_index("cluster_name")
    assert profile.loc["High usage", "customers"] == 3 and profile.loc["Low usage", "customers"] == 3
    assert profile.loc["High usage", "events_30d"] == 100.0 and profile.loc["Low usage", "events_30d"] == 1.0
    assert profile.loc["High usage", "events_30d_z"] == pytest.approx(1.0)
    assert profile.loc["Low usage", "events_30d_z"] == pytest.approx(-1.0)
    assert profile.loc["High usage", "tickets_90d_z"] == 0.0   # no difference in tickets
    assert profile["share"].tolist() == [0.5, 0.5]


def test_a_cluster_is_named_by_its_two_most_distinct_features_with_direction():
    frame = two_blobs()
    # the busy customers also file many tickets, less uniformly than they use the product:
    # log1p tickets: busy 3.045, 2.398, 3.434 (mean 2.959), quiet 0.693, 0.693, 1.099 (mean 0.828);
    # overall mean 1.894, population sd 1.116 -> cluster z = +-1.065 / 1.116 = +-0.955 (usage: +-1)
    frame["tickets_90d"] = [20.0, 1.0, 10.0, 1.0, 30.0, 2.0]
    result = cluster_customers(frame, k=2, seed=0)
    assert sorted(result.profile["cluster_name"]) == ["High usage, many tickets", "Low usage, few tickets"]
    assert sorted(result.profile["tickets_90d_z"]) == pytest.approx([-0.955, 0.955], abs=1e-3)


def test_missing_values_are_filled_sensibly_and_absent_tables_left_out():
    frame = two_blobs()
    frame["tickets_90d"] = np.nan              # no tickets table loaded: column left out
    frame.loc[1, "recency_days"] = np.nan      # never active: as inactive as the most inactive
    frame.loc[3, "usage_trend"] = np.nan       # no events in either window: no trend
    result = cluster_customers(frame, k=2, seed=0)
    assert "tickets_90d" not in result.features and "recency_days" in result.features
    assert result.assignments["cluster"].notna().all()


def test_same_seed_gives_the_same_clusters_and_bad_k_is_refused():
    frame = two_blobs()
    frame["tickets_90d"] = [20.0, 1.0, 10.0, 1.0, 30.0, 2.0]
    first = cluster_customers(frame, k=3, seed=4)
    again = cluster_customers(frame, k=3, seed=4)
    pd.testing.assert_frame_equal(first.assignments, again.assignments)
    with pytest.raises(ClusterError, match="at least 2"):
        cluster_customers(frame, k=1)
    with pytest.raises(ClusterError, match="only 6 customers"):
        cluster_customers(frame, k=7)
    with pytest.raises(ClusterError, match="only 2 distinct customer profiles"):
        cluster_customers(two_blobs(), k=3)


def test_silhouette_suggests_three_for_three_separate_groups():
    rng = np.random.default_rng(0)
    centres = [(1.0, 1.0), (200.0, 1.0), (200.0, 40.0)]       # (events_30d, tickets_90d)
    rows = []
    for g, (ev, tk) in enumerate(centres):
        for i in range(20):
            rows.append({"customer_id": f"{g}-{i}", "events_30d": ev * math.exp(rng.normal(0, 0.05)),
                         "tickets_90d": tk * math.exp(rng.normal(0, 0.05))})
    frame = pd.DataFrame(rows)
    table = suggest_k(frame, k_range=range(2, 6), sample=40, seed=0)
    assert table["k"].tolist() == [2, 3, 4, 5]
    assert table.loc[table["suggested"], "k"].tolist() == [3]
    assert table["silhouette"].between(-1, 1).all()


def test_overlay_shows_which_industries_concentrate_in_at_risk_clusters():
    frame = two_blobs()
    result = cluster_customers(frame, k=2, seed=0)
    low = int(result.profile.loc[result.profile["cluster_name"] == "Low usage", "cluster"].iloc[0])
    out = cluster_overlay(result, frame, "industry", at_risk=[low])
    # Low usage = b (Media), d (Retail), f (Media); half of all customers are at risk.
    expected = pd.DataFrame({"value": ["Media", "Retail", "Unknown"], "customers": [2, 3, 1],
                             "at_risk_customers": [2, 1, 0], "share_at_risk": [1.0, 1 / 3, 0.0],
                             "lift": [2.0, 2 / 3, 0.0]})
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)
    with pytest.raises(ClusterError, match="do not exist"):
        cluster_overlay(result, frame, "industry", at_risk=[5])


def test_cluster_risk_averages_churn_probability_of_scored_customers():
    frame = two_blobs()
    result = cluster_customers(frame, k=2, seed=0)
    scores = pd.DataFrame({"customer_id": ["a", "b", "d"], "churn_probability": [0.1, 0.6, 0.8]})
    risk = cluster_risk(result, scores).set_index("cluster_name")
    assert risk.loc["Low usage", "mean_churn_probability"] == pytest.approx(0.7)   # (0.6 + 0.8) / 2
    assert risk.loc["High usage", "scored_customers"] == 1


@settings(max_examples=10, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 500), st.integers(0, 30), st.floats(0, 5000)), min_size=4, max_size=30,
                unique=True),
       st.integers(2, 4))
def test_every_customer_gets_exactly_one_cluster_and_profiles_add_up(rows, k):
    frame = pd.DataFrame(rows, columns=["events_30d", "tickets_90d", "mrr"])
    frame["customer_id"] = [f"c{i}" for i in range(len(frame))]
    result = cluster_customers(frame, k=k, seed=0)
    assert len(result.assignments) == len(frame)
    assert result.assignments["cluster"].between(0, k - 1).all()
    assert result.profile["customers"].sum() == len(frame)
    assert result.profile["cluster_name"].is_unique
