"""Transitions reconcile with both dates' customer counts; cut-offs stay fixed at the first date."""
from __future__ import annotations

import datetime as dt

import ibis
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.definition import default_definition
from segmentation.features import customer_features, feature_params
from segmentation.transitions import (
    CHURNED, ENTERING, NEW, REACTIVATED, customer_transitions, segment_history, transitions,
    transitions_from_features, watched_movements,
)

from .conftest import D

DEFN = default_definition()
FROM = dt.date(2026, 8, 1)


def test_transitions_on_the_tiny_company_are_as_computed_by_hand(tiny_tables):
    t = transitions(tiny_tables, "behavior", FROM, D, DEFN)
    # At 2026-08-01: A (events only on Feb 1 -> 181 days ago) Dormant, pays 500; B (no event yet) No usage
    # data, pays 100; C not signed up. At D: A ranked against the August reference, which ranks nobody ->
    # Active; B churned (no MRR in October); C New.
    expected = pd.DataFrame({"from_segment": [NEW, "Dormant", "No usage data"],
                             "to_segment": ["New", "Active", CHURNED],
                             "customers": [1, 1, 1], "mrr_from": [0.0, 500.0, 100.0], "mrr_to": [0.0, 500.0, 0.0]})
    pd.testing.assert_frame_equal(t, expected)


def test_same_features_at_both_dates_stay_on_the_diagonal(tiny_tables):
    f = customer_features(tiny_tables, D, feature_params(DEFN))
    t = transitions_from_features(f, f, "value_tier", DEFN)
    assert (t["from_segment"] == t["to_segment"]).all()
    assert t["customers"].sum() == (~f["churned"]).sum()


def test_watched_movements_keep_zero_rows():
    t = pd.DataFrame({"from_segment": ["Active", "Active", "Light"], "to_segment": ["Light", "Active", "Light"],
                      "customers": [3, 5, 2], "mrr_from": [300.0, 500.0, 20.0], "mrr_to": [250.0, 520.0, 20.0]})
    w = watched_movements(t, "behavior")
    assert w["movement"].tolist() == ["Active → Light", "Light → Dormant", "Active → Power"]
    assert w["customers"].tolist() == [3, 0, 0]
    assert w["mrr_from"].tolist() == [300.0, 0.0, 0.0]
    assert w["share_of_from"].tolist()[0] == 3 / 8          # 3 of the 8 Active customers
    assert watched_movements(t)["movement"].tolist() == ["Active → Light"]  # only pairs present


@st.composite
def companies(draw) -> dict[str, pd.DataFrame]:
    """A few customers with random signup, paid-month spans and event days (values from a drawn seed)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 25))
    months = pd.date_range("2025-01-01", "2026-10-01", freq="MS")
    signup = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 640, n), unit="D")
    customers = pd.DataFrame({"customer_id": [f"C{i}" for i in range(n)], "signup_date": signup.date})
    rows, events = [], []
    for i in range(n):
        first = rng.integers(0, len(months))
        last = rng.integers(first, len(months) + 1)
        for m in months[first:last]:
            if m >= signup[i].replace(day=1):
                rows.append((f"C{i}", m.date(), int(rng.integers(1, 5)) * 10_000))
        for day in pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 670, rng.integers(0, 30)), unit="D"):
            events.append((f"C{i}", day + pd.Timedelta(hours=10), "dashboard_view", "u"))
    ledger = pd.DataFrame(rows, columns=["customer_id", "month", "revenue_cents"])
    ledger["revenue_cents"] = ledger["revenue_cents"].astype("int64")
    ledger["mrr_cents"], ledger["refund_cents"] = ledger["revenue_cents"], ledger["revenue_cents"] * 0
    ev = pd.DataFrame(events, columns=["customer_id", "timestamp", "event", "user_id"])
    ev["timestamp"] = pd.to_datetime(ev["timestamp"])
    return {"customers": customers, "ledger": ledger, "events": ev}


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(companies(), st.sampled_from(["behavior", "value_tier", "health_band", "rfm_segment", "lifecycle"]))
def test_transition_totals_reconcile_with_both_dates_counts(frames, scheme):
    con = ibis.duckdb.connect()
    tables = {k: con.create_table(k, ibis.memtable(v)) for k, v in frames.items() if len(v)}
    if "ledger" not in tables or "events" not in tables:
        return
    d1, d2 = dt.date(2025, 12, 1), dt.date(2026, 9, 15)
    t = transitions(tables, scheme, d1, d2, DEFN)
    f1 = customer_features(tables, d1, feature_params(DEFN))
    f2 = customer_features(tables, d2, feature_params(DEFN))
    # counted at a date = signed up before it and not churned at it
    assert t.loc[~t["from_segment"].isin(ENTERING), "customers"].sum() == (~f1["churned"]).sum()
    assert t.loc[t["to_segment"] != CHURNED, "customers"].sum() == (~f2["churned"]).sum()
    np.testing.assert_allclose(t.loc[~t["from_segment"].isin(ENTERING), "mrr_from"].sum(),
                               f1.loc[~f1["churned"], "mrr"].sum())
    # those entering: signed up in between ("(new)"), or there on d1 but churned ("(reactivated)")
    entering = customer_transitions(f1, f2, scheme, DEFN)
    entering = entering[entering["from_segment"].isin(ENTERING)].set_index("customer_id")["from_segment"]
    there = set(f1["customer_id"].astype(str))
    assert all((s == REACTIVATED) == (c in there) for c, s in entering.items())
    np.testing.assert_allclose(t.loc[t["to_segment"] != CHURNED, "mrr_to"].sum(), f2.loc[~f2["churned"], "mrr"].sum())


def test_segment_history_labels_each_customer_at_each_month_start(tiny_tables):
    h = segment_history(tiny_tables, "value_tier", [dt.date(2026, 9, 1), dt.date(2026, 10, 1)], DEFN)
    # September start: A and B paid in August (A 500 -> ARR 6,000 SMB; B 100 -> 1,200 SMB).
    # October start: September is A's only (B stopped after August) -> B Not paying. C signs up Oct 20.
    expected = pd.DataFrame({"customer_id": ["A", "B", "A", "B"],
                             "month": pd.to_datetime(["2026-09-01", "2026-09-01", "2026-10-01", "2026-10-01"]),
                             "segment": ["SMB", "SMB", "SMB", "Not paying"]})
    pd.testing.assert_frame_equal(h, expected, check_dtype=False)


def test_combined_labels_equal_the_joined_texts_built_from_codes():
    from segmentation.transitions import CROSS_SEPARATOR, combined_labels

    tier = pd.Series(pd.Categorical(["SMB", "Enterprise", "SMB", None], categories=["Enterprise", "SMB", "Unused"]))
    channel = pd.Series(["Outbound sales", "Organic", "Organic", "Organic"], dtype="str")
    got = combined_labels(tier, channel)
    joined = tier.astype("str") + CROSS_SEPARATOR + channel
    assert got.astype("str").tolist()[:3] == joined.tolist()[:3] == [
        "SMB · Outbound sales", "Enterprise · Organic", "SMB · Organic"]
    assert pd.isna(got.iloc[3]) and pd.isna(joined.iloc[3])  # a missing part: no combined label
    assert isinstance(got.dtype, pd.CategoricalDtype) and len(got.cat.categories) == 3  # only pairs that occur
    # Labels holding the separator cannot be told apart as pairs: the texts are joined instead.
    odd = combined_labels(pd.Series(["A · B", "A"]), pd.Series(["C", "B · C"]))
    assert odd.tolist() == ["A · B · C", "A · B · C"]


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 300), st.integers(1, 300), st.data())
def test_combined_labels_are_the_joined_texts_with_categories_in_pair_order(n_first, n_second, data):
    """Few rows over many categories take the sorting path, the rest a count per possible pair: both give
    each row its joined text, and categories in the order of the pairs (first's then second's order)."""
    from segmentation.transitions import CROSS_SEPARATOR, combined_labels

    rows = data.draw(st.integers(0, 60))
    def labels(n):
        cats = [f"c{i}" for i in range(n)]
        codes = data.draw(st.lists(st.integers(-1, n - 1), min_size=rows, max_size=rows))
        return pd.Series(pd.Categorical.from_codes(codes, categories=cats)), cats
    (first, f_cats), (second, s_cats) = labels(n_first), labels(n_second)
    got = combined_labels(first, second)
    want = first.astype("object") + CROSS_SEPARATOR + second.astype("object")
    assert got.astype("object").where(got.notna(), None).tolist() == want.where(want.notna(), None).tolist()
    order = {f"{a}{CROSS_SEPARATOR}{b}": i for i, (a, b) in enumerate((a, b) for a in f_cats for b in s_cats)}
    cats = [str(c) for c in got.cat.categories]
    assert cats == sorted(set(want.dropna()), key=order.get)


def test_a_customer_churned_on_the_first_date_and_paying_on_the_second_is_reactivated_not_new():
    """Online Retail's "(new)" held 1,576 customers of whom 968 bought for the first time: the others had
    churned (90 days without a purchase) and came back."""
    def frame(ids, mrr, churned):
        return pd.DataFrame({"customer_id": ids, "mrr": mrr, "arr": [12 * m for m in mrr], "churned": churned})

    before = frame(["back", "stays"], [0.0, 500.0], [True, False])          # "back" had churned
    after = frame(["back", "stays", "fresh"], [90.0, 500.0, 40.0], [False, False, False])
    moved = customer_transitions(before, after, "value_tier", DEFN).set_index("customer_id")
    assert moved.loc["back", "from_segment"] == REACTIVATED and moved.loc["fresh", "from_segment"] == NEW
    assert moved.loc["stays", "from_segment"] == moved.loc["stays", "to_segment"] == "SMB"   # ARR 6,000
    flows = transitions_from_features(before, after, "value_tier", DEFN)
    assert list(flows["from_segment"][:2]) == [NEW, REACTIVATED]    # both enter first, new on top
