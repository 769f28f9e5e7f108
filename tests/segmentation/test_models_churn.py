"""Churn risk and likelihood to convert (labels, leakage, backtest on the sample company, too little data),
and the clusters, survival LTV and upsell ranking on the sample company."""
from __future__ import annotations

import datetime as dt
import re

import ibis
import numpy as np
import pandas as pd
import pytest

from ingest.load import load_sample
from ingest.store import Workspace
from segmentation.churn import (ModelParams, RiskModelError, at_risk_table, backtest_churn, backtest_conversion,
                                churn_dataset, conversion_dataset, fit_churn_model, fit_conversion_model,
                                label_window, mrr_at_risk, score_churn, score_conversion)
from segmentation.clusters import cluster_customers, cluster_overlay, cluster_risk
from segmentation.definition import default_definition
from segmentation.features import FeatureParams, customer_features
from segmentation.schemes import label_all
from segmentation.survival import SurvivalParams, customer_lifetimes, survival_ltv
from segmentation.upsell import upsell_candidates
from tests.segmentation.conftest import ibis_tables, tiny_frames

D = dt.date(2026, 11, 1)          # the sample company's default as-of date
T = dt.date(2026, 8, 1)           # the test period's start (D - 3 months)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    ws = Workspace(tmp_path_factory.mktemp("risk") / "workspace.duckdb")
    load_sample(ws)
    con = ws.ibis()
    return {name: con.table(name) for name in ws.tables()}


@pytest.fixture(scope="module")
def churn_backtest(sample):
    return backtest_churn(sample, D, model_params=ModelParams(placebo_runs=20))


@pytest.fixture(scope="module")
def churn_model(sample):
    return fit_churn_model(sample, D)


# ---------------------------------------------------------------------------------------------
# labels on hand-made data

def test_label_window_rounds_the_horizon_to_whole_months_from_the_first_of_the_month():
    assert label_window(dt.date(2026, 8, 17), 90) == (dt.date(2026, 8, 1), dt.date(2026, 11, 1), 3)
    assert label_window(dt.date(2026, 8, 1), 30) == (dt.date(2026, 8, 1), dt.date(2026, 9, 1), 1)
    assert label_window(dt.date(2026, 12, 1), 365) == (dt.date(2026, 12, 1), dt.date(2027, 12, 1), 12)
    with pytest.raises(RiskModelError, match="horizon_days"):
        label_window(T, 0)


def test_churn_label_marks_paying_customers_with_an_unpaid_month_in_the_horizon():
    # T = 2026-08-01, horizon 3 months: outcome months Aug, Sep, Oct 2026.
    # A pays Jan..Oct 2026 (paid in Jul -> in the population; Aug, Sep, Oct paid -> no churn).
    # B pays until Aug 2026 (paid in Jul -> in; Sep has no MRR -> churns).
    # C never pays (not in the population).
    data = churn_dataset(ibis_tables(tiny_frames()), T, 90)
    assert dict(zip(data["customer_id"], data["label"])) == {"A": False, "B": True}


def test_conversion_label_marks_never_paid_customers_who_pay_within_the_horizon():
    frames = tiny_frames()
    # C (signed up 2026-10-20, free) pays its first month in December 2026; Z signs up on D (not in).
    extra = pd.DataFrame({"customer_id": ["C"], "month": [dt.date(2026, 12, 1)], "revenue_cents": [4_900],
                          "mrr_cents": [4_900], "refund_cents": [0]})
    money = ["revenue_cents", "mrr_cents", "refund_cents"]
    extra[money] = extra[money].astype("int64")
    frames["ledger"] = pd.concat([frames["ledger"], extra], ignore_index=True)
    tables = ibis_tables(frames)
    # Horizon 1 month from D = 2026-11-01: only November -> C has not converted yet.
    one = conversion_dataset(tables, D, 30)
    assert dict(zip(one["customer_id"], one["label"])) == {"C": False}
    # Horizon 2 months: November and December -> C converts. A and B paid before D: not in the population.
    two = conversion_dataset(tables, D, 61)
    assert dict(zip(two["customer_id"], two["label"])) == {"C": True}


# ---------------------------------------------------------------------------------------------
# leakage

def _with_rows_after(tables: dict[str, ibis.Table], when: dt.date, churner: str) -> dict[str, ibis.Table]:
    """The same tables plus rows dated on or after `when`: a burst of late activity for three customers,
    and `churner` paying every month of the horizon (when, +1, +2 months)."""
    ids = ["C00001", "C00016", churner]
    months = [when, dt.date(when.year, when.month + 1, 1), dt.date(when.year, when.month + 2, 1)]
    at = pd.Timestamp(when)
    extra = {
        "events": pd.DataFrame({"customer_id": ids * 2, "timestamp": [at] * 3 + [at + pd.Timedelta(days=20)] * 3,
                                "event": ["api_call"] * 6, "user_id": ["u1"] * 6}),
        "ledger": pd.DataFrame({"customer_id": [churner] * 3, "month": months, "revenue_cents": [99_900] * 3,
                                "mrr_cents": [99_900] * 3, "refund_cents": [0] * 3}),
        "tickets": pd.DataFrame({"customer_id": ids, "created_at": [at] * 3, "minutes": [500.0] * 3,
                                 "category": ["Bug"] * 3, "csat": [1.0] * 3, "cost": [np.nan] * 3}),
        "nps": pd.DataFrame({"customer_id": ids, "date": [when] * 3, "score": [0, 0, 0], "comment": [""] * 3,
                             "goal": ["x"] * 3}),
    }
    out = dict(tables)
    for name, frame in extra.items():
        schema = tables[name].schema()
        out[name] = tables[name].union(ibis.memtable(frame[list(schema.names)]).cast(schema))
    return out


def test_features_and_scores_as_of_t_ignore_every_row_dated_on_or_after_t(sample, churn_model):
    clean_data = churn_dataset(sample, T, 90)
    churner = clean_data.loc[clean_data["label"], "customer_id"].iloc[0]
    leaky = _with_rows_after(sample, T, churner)
    leaky_data = churn_dataset(leaky, T, 90)
    features = [c for c in clean_data.columns if c != "label"]
    pd.testing.assert_frame_equal(clean_data[features], leaky_data[features])
    pd.testing.assert_frame_equal(score_churn(churn_model, clean_data), score_churn(churn_model, leaky_data))
    # the added rows are seen where they belong: the churner now pays every month of the horizon, so
    # its outcome (and only its outcome) changes
    changed = clean_data["label"].to_numpy() != leaky_data["label"].to_numpy()
    assert clean_data.loc[changed, "customer_id"].tolist() == [churner]


# ---------------------------------------------------------------------------------------------
# backtest on the sample company (churners decline before they leave)

def test_backtest_ranks_the_later_period_well_auc_at_least_0_75(churn_backtest):
    bt = churn_backtest
    assert bt.enough_data, bt.reason
    assert (bt.train_as_of, bt.test_as_of, bt.test_label_end) == (dt.date(2026, 5, 1), T, D)
    assert bt.auc >= 0.75
    # the riskiest tenth holds far more churners than average, and catches a good share of them
    assert bt.precision_top_decile >= 3 * bt.base_rate
    assert bt.recall_top_decile >= 0.3
    assert bt.churners[0] >= 30 and bt.churners[1] >= 30


def test_models_trained_on_shuffled_outcomes_rank_the_later_period_like_a_coin(churn_backtest):
    assert 0.4 <= churn_backtest.placebo_auc <= 0.6
    assert churn_backtest.placebo_auc_high < churn_backtest.auc


def test_calibration_table_has_ten_deciles_covering_every_test_customer(churn_backtest):
    cal = churn_backtest.calibration
    assert cal["decile"].tolist() == list(range(1, 11))
    assert cal["customers"].sum() == churn_backtest.test_customers
    assert cal["positives"].sum() == churn_backtest.test_positives
    # scores fall from decile 1 to 10, and the top decile churns more than the bottom half
    assert cal["mean_predicted"].is_monotonic_decreasing
    assert cal.loc[0, "observed_rate"] > cal.loc[5:, "observed_rate"].max()


def test_low_recent_activity_is_among_the_strongest_overall_drivers(churn_backtest):
    coef = churn_backtest.coefficients
    top3 = coef.head(3)
    assert {"active_days_30d", "events_30d"} & set(top3["feature"])
    active = coef.set_index("feature").loc["active_days_30d"]
    assert active["coefficient"] < 0 and active["direction"] == "lowers probability"


def test_scores_name_up_to_three_drivers_that_raise_the_risk(sample, churn_model):
    features = customer_features(sample, D, FeatureParams())
    paying = features[features["paying"]]
    scores = score_churn(churn_model, paying)
    assert scores["customer_id"].tolist() == paying["customer_id"].tolist()
    assert scores["churn_probability"].between(0, 1).all()
    n_drivers = scores["top_drivers"].map(lambda s: 0 if s == "" else s.count(";") + 1)
    assert n_drivers.max() == 3
    riskiest = scores.nlargest(20, "churn_probability")["top_drivers"]
    assert riskiest.str.contains("in last 30 days low").mean() >= 0.8
    # no log ratio in a founder's words: MRR against 3 months ago reads as the ratio ("164x vs typical 1x")
    assert not scores["top_drivers"].str.contains("log").any()


def test_the_mrr_change_input_reads_as_the_ratio_it_stands_for():
    from segmentation.churn import _fmt

    # a log ratio of 5.1 inside the model (Online Retail's new customers) is 164 times the MRR of 3 months ago
    assert (_fmt(5.1, "mrr_change_3m"), _fmt(0.0, "mrr_change_3m"), _fmt(-0.69, "mrr_change_3m")) == \
        ("164x", "1x", "0.5x")
    assert _fmt(5.1) == "5.1" and _fmt(float("nan"), "mrr_change_3m") == "missing"


def test_at_risk_list_and_mrr_at_risk_by_segment_match_hand_sums():
    scores = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "churn_probability": [0.9, 0.2, 0.6, 0.5],
                           "top_drivers": ["x", "", "y", "z"]})
    features = pd.DataFrame({"customer_id": ["a", "b", "c", "d", "e"], "mrr": [100.0, 50.0, 300.0, 10.0, 7.0]})
    table = at_risk_table(scores, features, threshold=0.5)
    # Ordered by MRR expected to churn (probability x MRR): c 180, a 90, d 5.
    expected = pd.DataFrame({"customer_id": ["c", "a", "d"], "probability": [0.6, 0.9, 0.5],
                             "top_drivers": ["y", "x", "z"], "mrr": [300.0, 100.0, 10.0],
                             "expected_loss": [180.0, 90.0, 5.0]})
    pd.testing.assert_frame_equal(table, expected, check_dtype=False)

    labels = features.assign(value_tier=pd.Categorical(["SMB", "SMB", "Mid", "Mid", "SMB"],
                                                       categories=["Mid", "SMB"]))
    out = mrr_at_risk(scores, labels, threshold=0.5)
    expected = pd.DataFrame({
        "segment": ["Mid", "SMB", "All"],
        "customers": [2, 2, 4],                       # e has no score: not counted
        "at_risk_customers": [2, 1, 3],               # c, d | a
        "mrr": [310.0, 150.0, 460.0],
        "mrr_at_risk": [310.0, 100.0, 410.0],
        "share_at_risk": [1.0, 100 / 150, 410 / 460],
        "expected_mrr_loss": [0.6 * 300 + 0.5 * 10, 0.9 * 100 + 0.2 * 50, 185.0 + 100.0],  # 185 | 100 | 285
    })
    pd.testing.assert_frame_equal(out, expected, check_dtype=False)


# ---------------------------------------------------------------------------------------------
# too little data

def test_too_few_churners_gives_no_model_and_says_why(sample):
    strict = ModelParams(min_positives=500)
    bt = backtest_churn(sample, D, model_params=strict)
    assert not bt.enough_data and "only" in bt.reason and "churners" in bt.reason
    assert np.isnan(bt.auc)
    model = fit_churn_model(sample, D, model_params=strict)
    assert not model.enough_data and model.reason.endswith("a model needs at least 500 churners")   # not customers
    assert re.search(r"^only \d+ churners in \S+ to \S+ among \d,\d{3} customers", model.reason), model.reason
    assert model.coefficients().empty
    with pytest.raises(RiskModelError, match="no churn model"):
        score_churn(model, customer_features(sample, D, FeatureParams()))


def test_a_short_history_gives_no_model_and_says_why(sample):
    # the sample starts 2024-11: a backtest at 2025-05-01 would train on features as of 2024-11-01
    bt = backtest_churn(sample, dt.date(2025, 5, 1))
    assert not bt.enough_data and bt.reason.startswith("history too short")
    assert not fit_conversion_model(sample, dt.date(2025, 2, 1)).enough_data


def test_tiny_data_gives_no_model_rather_than_a_meaningless_one():
    tables = ibis_tables(tiny_frames())
    assert not backtest_churn(tables, D).enough_data
    assert not fit_churn_model(tables, D).enough_data


# ---------------------------------------------------------------------------------------------
# likelihood to convert (free and trial customers)

def test_conversion_backtest_on_the_sample_ranks_the_later_period_well(sample):
    bt = backtest_conversion(sample, D)
    assert bt.enough_data, bt.reason
    assert bt.churners[0] >= 30 and bt.churners[1] >= 30
    assert bt.auc >= 0.8
    assert bt.precision_top_decile >= 3 * bt.base_rate


def test_conversion_scores_cover_the_customers_who_never_paid(sample):
    model = fit_conversion_model(sample, D)
    assert model.enough_data, model.reason
    features = customer_features(sample, D, FeatureParams())
    free = features[features["first_paid_month"].isna()]
    scores = score_conversion(model, free)
    assert len(scores) == len(free) and scores["conversion_probability"].between(0, 1).all()
    # recent signups (still in or just out of the trial) are likelier to convert than long-time free users
    merged = scores.merge(free[["customer_id", "tenure_days"]], on="customer_id")
    recent = merged[merged["tenure_days"] < 30]["conversion_probability"].mean()
    old = merged[merged["tenure_days"] > 180]["conversion_probability"].mean()
    assert recent > 5 * old


# ---------------------------------------------------------------------------------------------
# the other models on the sample company

def test_clusters_of_paying_customers_put_the_churn_risk_in_the_low_activity_cluster(sample, churn_model):
    features = customer_features(sample, D, FeatureParams())
    paying = features[features["paying"]].reset_index(drop=True)
    clusters = cluster_customers(paying, k=4, seed=0)
    assert clusters.profile["customers"].sum() == len(paying) and clusters.profile["cluster_name"].is_unique
    risk = cluster_risk(clusters, score_churn(churn_model, paying))
    riskiest = int(risk.loc[risk["mean_churn_probability"].idxmax(), "cluster"])
    profile = clusters.profile.set_index("cluster")
    # churners fade before they leave: the riskiest cluster is the least active one
    assert profile.loc[riskiest, "active_days_30d"] == profile["active_days_30d"].min()
    overlay = cluster_overlay(clusters, paying, "plan", at_risk=[riskiest])
    assert overlay["customers"].sum() == len(paying)


def test_survival_lifetimes_on_the_sample_are_capped_and_longest_for_enterprise(sample):
    ledger = sample["ledger"].execute()
    lifetimes = customer_lifetimes(ledger, D)
    assert len(lifetimes) == 2088                      # every customer who ever paid (sample README)
    # segment = value tier at acquisition: ARR of the first paid month (sample README bands)
    first = ledger[ledger["mrr_cents"] > 0].sort_values("month").groupby("customer_id")["mrr_cents"].first()
    tier = pd.cut(first * 12 / 100, [0, 1_000, 10_000, 50_000, np.inf], right=False,
                  labels=["Self-serve", "SMB", "Mid-market", "Enterprise"]).astype("str")
    segments = tier.rename("segment").rename_axis("customer_id").reset_index()
    out = survival_ltv(lifetimes, segments, arpa={"Enterprise": 6319.0}, margin=0.8,
                       params=SurvivalParams(n_boot=50)).set_index("segment")
    assert out["expected_lifetime_months"].between(1, 60).all()
    assert (out["lifetime_low"] <= out["expected_lifetime_months"]).all()
    assert (out["expected_lifetime_months"] <= out["lifetime_high"]).all()
    assert out["expected_lifetime_months"].idxmax() == "Enterprise"
    assert out.loc["Enterprise", "predicted_ltv"] == pytest.approx(
        out.loc["Enterprise", "expected_lifetime_months"] * 6319.0 * 0.8)


def test_upsell_ranks_every_paying_customer_of_the_sample_with_a_reason(sample):
    features = customer_features(sample, D, FeatureParams())
    labels = label_all(features, default_definition())
    out = upsell_candidates(features, labels)
    assert len(out) == int(features["paying"].sum())
    assert out["score"].between(0, 100).all() and out["score"].is_monotonic_decreasing
    assert (out["reason"].str.len() > 0).all()
    assert out.head(50)["readiness"].mean() > out["readiness"].mean()


def test_a_model_trained_on_features_the_caller_already_has_is_the_same_model(sample, churn_model):
    """The report hands the features at the training date over (only MODEL_COLUMNS) instead of the model
    computing them again: the same model, the same scores."""
    from segmentation.churn import MODEL_COLUMNS, training_date

    assert training_date(D, 90) == T
    at_t = customer_features(sample, T, FeatureParams())
    given = fit_churn_model(sample, D, features=at_t[list(MODEL_COLUMNS)])
    assert (given.columns, given.customers, given.positives) == (churn_model.columns, churn_model.customers,
                                                               churn_model.positives)
    np.testing.assert_array_equal(given.classifier.coef_, churn_model.classifier.coef_)
    paying = customer_features(sample, D, FeatureParams())
    paying = paying[paying["paying"]]
    pd.testing.assert_frame_equal(score_churn(given, paying), score_churn(churn_model, paying))
    with pytest.raises(RiskModelError, match="paying"):
        fit_churn_model(sample, D, features=at_t.drop(columns="paying"))
