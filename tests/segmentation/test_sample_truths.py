"""The sample company's planted truths show up in the segments (sample_data/README.md, truths 5 and 6)."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from ingest.load import load_sample
from ingest.store import Workspace
from segmentation.adoption import feature_adoption
from segmentation.definition import default_definition
from segmentation.features import customer_features, feature_params
from segmentation.schemes import label_all
from segmentation.transitions import CHURNED, NEW, segment_history, transitions

D = dt.date(2026, 11, 1)
DEFN = default_definition()


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("sample") / "workspace.duckdb")
    load_sample(ws)
    con = ws.ibis()
    return {name: con.table(name) for name in ws.tables()}, ws.meta().get("revenue_model", "subscription")


@pytest.fixture(scope="module")
def churner_paths(sample):
    """Behaviour of churners at the start of each month around their last paid month L (k = months from L).

    Churners as the README counts them: paid for at least 5 months, last paid month before 2026-09.
    """
    tables, model = sample
    ledger = tables["ledger"].execute()
    ledger["month"] = pd.to_datetime(ledger["month"])
    paid = ledger[ledger["mrr_cents"] > 0].groupby("customer_id")["month"].agg(["max", "count"])
    churners = paid[(paid["count"] >= 5) & (paid["max"] < pd.Timestamp("2026-09-01"))]["max"].rename("last_paid")
    months = [m.date() for m in pd.date_range("2025-03-01", "2026-10-01", freq="MS")]
    history = segment_history(tables, "behavior", months, DEFN, model)
    history = history.merge(churners.reset_index(), on="customer_id")
    history["k"] = (history["month"].dt.year * 12 + history["month"].dt.month
                    - history["last_paid"].dt.year * 12 - history["last_paid"].dt.month)
    return (history[history["k"].between(-3, 2)].groupby("k")["segment"].value_counts(normalize=True)
            .unstack(fill_value=0.0))


def test_churners_go_from_active_to_light_to_dormant_before_leaving(churner_paths):
    share = churner_paths
    # three months before the last paid month most are Active or Power, few Light, almost none Dormant
    assert share.loc[-3, "Active"] + share.loc[-3, "Power"] >= 0.5
    # at the start of the last paid month most are Light
    assert share.loc[0, "Light"] >= 0.5 and share.loc[0, "Light"] >= share.loc[-3, "Light"] + 0.3
    # one month later (still paying for month L) Dormant has taken over; after that all are Dormant
    assert share.loc[1, "Dormant"] >= 0.4 and share.loc[1, "Dormant"] >= share.loc[-1, "Dormant"] + 0.3
    assert share.loc[2, "Dormant"] >= 0.9


def test_light_customers_churn_far_more_often_than_active_ones(sample):
    tables, model = sample
    t = transitions(tables, "behavior", dt.date(2026, 8, 1), D, DEFN, model)
    size = t[t["from_segment"] != NEW].groupby("from_segment")["customers"].sum()
    lost = t[t["to_segment"] == CHURNED].groupby("from_segment")["customers"].sum()
    rate = (lost / size).fillna(0.0)
    assert rate["Light"] >= 3 * (lost.get("Active", 0) + lost.get("Power", 0)) / (size["Active"] + size["Power"])
    assert t.loc[(t["from_segment"] == "Light") & (t["to_segment"] == "Dormant"), "customers"].sum() > 0


def test_high_value_customers_use_different_features(sample):
    tables, model = sample
    labels = label_all(customer_features(tables, D, feature_params(DEFN), model), DEFN)
    adoption = feature_adoption(tables, labels.set_index("customer_id")["value_tier"], D)
    share = adoption.pivot(index="event", columns="segment", values="share")
    high, low = ["Enterprise", "Mid-market"], ["SMB", "Self-serve"]
    for feature in ("api_call", "sso_login", "workflow_automation"):
        assert share.loc[feature, high].min() >= 4 * share.loc[feature, low].max(), feature
    # the everyday feature is used across tiers: the difference is in what else they use
    assert share.loc["dashboard_view", high + low].min() >= 0.8


@pytest.mark.parametrize("as_of", [D, dt.date(2025, 6, 15)])
def test_distinct_counts_by_bitmap_equal_the_portable_count(sample, monkeypatch, as_of):
    """The DuckDB bitmap counts of active days (all history and the last 30 days, features._distinct_days)
    and of event names (features._distinct_names) equal COUNT(DISTINCT ...)."""
    import segmentation.features as features

    tables, model = sample
    fast = customer_features(tables, as_of, feature_params(DEFN), model)
    monkeypatch.setattr(features, "BITMAPS", False)
    portable = customer_features(tables, as_of, feature_params(DEFN), model)
    assert min(fast["frequency"].sum(), fast["active_days_30d"].sum(), fast["features_used_30d"].sum()) > 0
    pd.testing.assert_frame_equal(fast, portable)


@pytest.mark.parametrize("key_event, lookback_days, bitmaps, model", [
    ("", None, True, None), ("report_export", None, True, None), ("report_export", None, False, None),
    ("", 180, True, None),
    ("", None, True, "transactional"), ("", 180, True, "transactional")])
def test_features_at_dates_in_batches_equal_features_date_by_date(sample, monkeypatch, key_event, lookback_days,
                                                                    bitmaps, model):
    """customer_features_at answers several dates with one query per windowed scan (batches of at most
    BATCH_ROWS customer rows) and accumulates the event history and the ledger: each date's frame equals
    customer_features at that date. Feb 1 -> Mar 1 is 28 days, so the 30-day windows of Mar 1 and Mar 2
    overlap Feb's; here batches of 2, 2 and 1 dates. The transactional model reads the ledger's trailing
    12 months (its monthly revenue) at each date and three months earlier."""
    import segmentation.features as features
    from dataclasses import replace

    tables, sample_model = sample
    model = model or sample_model
    params = replace(feature_params(DEFN), key_event=key_event, lookback_days=lookback_days)
    monkeypatch.setattr(features, "BITMAPS", bitmaps)
    customers = tables["customers"].count().execute()
    monkeypatch.setattr(features, "BATCH_ROWS", 2 * customers)
    dates = [dt.date(2025, 6, 15), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 3, 2), D]
    # On DuckDB with the RFM window all history, the events' columns come from the intervals between the
    # windows' edges (features._EventIntervals); elsewhere from the windowed scans and _EventHistory.
    intervals, at = [], features._EventIntervals.at
    monkeypatch.setattr(features._EventIntervals, "at", lambda self, d: intervals.append(d) or at(self, d))
    batched = list(features.customer_features_at(tables, dates, params, model))
    assert [d for d, _ in batched] == dates
    assert intervals == (dates if bitmaps and lookback_days is None else [])
    for d, frame in batched:
        pd.testing.assert_frame_equal(frame, customer_features(tables, d, params, model), obj=str(d))
    assert batched[-1][1]["active_days_30d"].sum() > 0 and batched[-1][1]["tickets_90d"].sum() > 0
    # Active users counted at two of the dates only: the others' frames lack those columns alone.
    counted = {dates[1], D}
    lean = dict(features.customer_features_at(tables, dates, params, model, users=counted))
    for d, frame in batched:
        expected = frame if d in counted else frame.drop(columns=list(features.USER_COLUMNS))
        pd.testing.assert_frame_equal(lean[d], expected, obj=str(d))
    assert batched[-1][1]["active_users_30d"].sum() > 0
    # The next batch's windowed scans on a second connection, beside the frames of the one before.
    second = features.second_connection(tables)
    assert second is not None
    try:
        monkeypatch.setattr(features, "PREFETCH_DATES", 2)
        beside = list(features.customer_features_at(tables, dates, params, model, beside=second[0]))
    finally:
        second[1].disconnect()
    assert [d for d, _ in beside] == dates
    for (d, frame), (_, expected) in zip(beside, batched):
        pd.testing.assert_frame_equal(frame, expected, obj=str(d))


@pytest.mark.parametrize("as_of", [D, dt.date(2026, 3, 1), dt.date(2025, 6, 15)])
def test_revenue_only_schemes_label_alike_without_the_activity_tables(sample, as_of):
    """Value tier, lifecycle, size band and attributes (alone or joined) read no activity: features from the
    tables without events, tickets and NPS give them the same labels (the app labels history dates so)."""
    from segmentation.features import without_activity
    from segmentation.schemes import REVENUE_ONLY_SCHEMES, available_schemes, reads_activity
    from segmentation.transitions import scheme_labels

    tables, model = sample
    full = customer_features(tables, as_of, feature_params(DEFN), model)
    lean = customer_features(without_activity(tables), as_of, feature_params(DEFN), model)
    assert lean["events_30d"].isna().all() and not full["events_30d"].isna().all()
    schemes = [s for s in available_schemes(list(tables["customers"].columns), DEFN) if s in REVENUE_ONLY_SCHEMES]
    assert {"value_tier", "lifecycle", "channel"} <= set(schemes)
    for scheme in schemes + ["value_tier+channel"]:
        assert not reads_activity(scheme)
        pd.testing.assert_series_equal(scheme_labels(lean, scheme, DEFN), scheme_labels(full, scheme, DEFN))
    assert reads_activity("behavior") and reads_activity("value_tier+behavior") and reads_activity("custom")


def test_in_memory_tables_are_released_from_the_workspace_connection(sample):
    """Features, segment economics, cohorts and MRR movements leave no ibis memtable registered in DuckDB
    (ibis 12 would leave each one there for the life of the app)."""
    import ibis

    from economics.cohorts import CohortParams, cohort_retention
    from economics.mrr import mrr_movements
    from economics.pipeline import economics_for
    from segmentation.features import customer_features_at

    tables, model = sample
    engines = [tables["customers"]._find_backend(), ibis.get_backend()]

    def memtables() -> int:
        return sum(e.con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name LIKE 'ibis_%memtable%'")
                   .fetchall()[0][0] for e in engines)

    before = memtables()
    customer_features(tables, D, feature_params(DEFN), model)
    list(customer_features_at(tables, [dt.date(2026, 9, 1), D], feature_params(DEFN), model))
    economics_for(tables, D, "value_tier", DEFN, model)
    some = frozenset(tables["customers"].select("customer_id").limit(50).execute()["customer_id"].astype(str))
    cohort_retention(tables["ledger"], tables["customers"], D, CohortParams(customers=some))
    mrr_movements(tables["ledger"], D, model)
    assert memtables() == before
