"""The report's frames: their columns on a tiny company, and the sample company's planted truths."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import ibis
import pandas as pd
import pytest

from economics.report import build_report
from economics.unit import ECONOMICS_COLUMNS

D = date


def tiny_tables() -> dict[str, ibis.Table]:
    ledger = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b"],
        "month": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 2, 1), D(2024, 3, 1)],
        "revenue_cents": [10000, 10000, 10000, 500000, 500000],
    })
    ledger["mrr_cents"] = ledger["revenue_cents"]
    ledger["refund_cents"] = 0
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"],
                              "signup_date": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 2, 10)],
                              "channel": ["ads", "sales", None]})
    spend = pd.DataFrame({"month": [D(2024, 2, 1)], "amount": [900.0], "channel": ["sales"],
                          "segment": [None]}).astype({"segment": "string"})
    return {"ledger": ibis.memtable(ledger), "customers": ibis.memtable(customers), "spend": ibis.memtable(spend)}


def test_the_report_has_every_file_with_its_columns():
    from segmentation.definition import default_definition

    rep = build_report(tiny_tables(), D(2024, 4, 1), default_definition(), "subscription",
                       schemes=["value_tier"])
    assert set(rep) == {"customers", "cohort_retention", "segment_economics", "mrr_movements"}
    for col in ("customer_id", "value_tier", "recency_days", "frequency", "monetary"):
        assert col in rep["customers"].columns
    assert list(rep["cohort_retention"].columns[:3]) == ["cohort", "period", "cohort_size"]
    assert rep["cohort_retention"]["cohort"].iloc[0] == "2024-01"
    econ = rep["segment_economics"]
    assert list(econ.columns) == ["scheme", *ECONOMICS_COLUMNS, "window_first", "window_last", "assumptions"]
    assert json.loads(econ["assumptions"].iloc[0])["gross_margin"] == 0.8
    assert econ["segment"].iloc[-1] == "All customers"
    # b ($5,000 MRR, ARR $60k) is won in Feb through sales; Feb's $900 sales spend is its CAC
    b_tier = rep["customers"].set_index("customer_id").loc["b", "value_tier"]
    assert econ.set_index("segment").loc[b_tier, "cac"] == 900.0
    assert rep["mrr_movements"]["month"].tolist() == ["2024-01", "2024-02", "2024-03"]


def test_features_asked_for_come_back_at_their_dates_with_their_columns():
    """The CLI's churn model trains on the features at a month start the report computes anyway: asked
    for, they come back (only the columns asked, active users counted) equal to customer_features there."""
    from segmentation.definition import default_definition
    from segmentation.features import customer_features, feature_params

    defn = default_definition()
    columns = ["customer_id", "paying", "mrr", "tenure_days", "active_users_30d"]
    asked = {D(2024, 3, 1): columns, D(2024, 2, 15): columns[:3]}   # a month start, and a day that is not
    rep = build_report(tiny_tables(), D(2024, 4, 1), defn, "subscription", schemes=["value_tier"],
                       features_for=asked)
    got = rep["features_at"]
    assert list(got.columns) == ["as_of", *columns]
    for day, cols in asked.items():
        expected = customer_features(tiny_tables(), day, feature_params(defn))[cols]
        part = got[got["as_of"] == pd.Timestamp(day)].drop(columns="as_of").dropna(axis=1, how="all")
        pd.testing.assert_frame_equal(part.reset_index(drop=True),
                                      expected.dropna(axis=1, how="all").reset_index(drop=True))
    assert "features_at" not in build_report(tiny_tables(), D(2024, 4, 1), defn, "subscription",
                                             schemes=["value_tier"])


SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.mark.slow
def test_the_sample_company_shows_its_planted_economics(tmp_path):
    from ingest.load import load_sample
    from ingest.store import Workspace
    from segmentation.definition import default_definition, dump_definition, load_definition

    ws = Workspace(tmp_path / "ws.duckdb")
    load_sample(ws)
    con = ws.ibis()
    tables = {n: con.table(n) for n in ws.tables() if n != "meta" and not n.startswith("_")}
    toml = dump_definition(default_definition())
    # A custom rule that names the planted segment: Team-plan ARR ($1k-$10k) won by outbound sales.
    toml = toml.replace('rules = [', 'rules = [\n    { name = "Sales-led SMB", expr = '
                        '"arr >= 1000 AND arr < 10000 AND channel = \'Outbound sales\'" },\n'
                        '    { name = "Teams", expr = "active_users_30d >= 3" },', 1)
    defn = load_definition(toml)
    rep = build_report(tables, D(2026, 11, 1), defn, "subscription", schemes=["value_tier", "custom"])
    econ = rep["segment_economics"].set_index(["scheme", "segment"])
    assert econ.loc[("value_tier", "Enterprise"), "verdict"] == "healthy"
    assert econ.loc[("custom", "Sales-led SMB"), "verdict"] == "margin-draining"
    # A rule reading active users: they are counted at every month start too (schemes.reads_users).
    assert econ.loc[("custom", "Teams"), "customers"] > 0
    # Later cohorts (first paid on or after 2025-11) retain better six months in than earlier ones.
    cr = rep["cohort_retention"]
    six = cr[(cr["period"] == 6) & cr["complete"]]
    late, early = six[six["cohort"] >= "2025-11"], six[six["cohort"] < "2025-11"]
    lift = late["active"].sum() / late["cohort_size"].sum() - early["active"].sum() / early["cohort_size"].sum()
    assert lift > 0.10


@pytest.mark.slow
def test_schemes_reading_no_activity_are_labelled_at_month_starts_without_the_event_scan(tmp_path, monkeypatch):
    """With only revenue-only schemes (value tier, lifecycle, attributes), the month starts' features come
    from the tables without events, tickets and NPS (a fraction of the time); D's keep every feature. Their
    economics equal those of a report whose month starts read every table (one activity scheme asked)."""
    import economics.report as report
    import segmentation.features as features
    from ingest.load import load_sample
    from ingest.store import Workspace
    from segmentation.definition import default_definition, dump_definition, load_definition

    ws = Workspace(tmp_path / "ws.duckdb")
    load_sample(ws)
    con = ws.ibis()
    tables = {n: con.table(n) for n in ws.tables() if n != "meta" and not n.startswith("_")}
    # A rule naming activity columns: labelling the lean month starts must not trip on it.
    toml = dump_definition(default_definition()).replace(
        'rules = [', 'rules = [\n    { name = "Busy", expr = "events_30d >= 20 AND tickets_90d >= 1" },', 1)
    defn = load_definition(toml)
    calls = []
    original = features.customer_features_at

    def recording(tables_, dates, *args, **kwargs):
        calls.append(("events" in tables_, list(dates)))
        return original(tables_, dates, *args, **kwargs)

    monkeypatch.setattr(features, "customer_features_at", recording)
    lean_schemes = ["value_tier", "lifecycle", "channel", "value_tier+channel"]
    lean = report.build_report(tables, D(2026, 11, 1), defn, "subscription", compare_to=D(2026, 8, 1),
                               schemes=lean_schemes)
    assert [has_events for has_events, _ in calls] == [True, False]
    # D and compare_to with every table; the churn window's other month starts (Nov 2025 - Oct 2026) without.
    assert calls[0][1] == [D(2026, 8, 1), D(2026, 11, 1)]
    assert calls[1][1] == [D(2025 + (10 + i) // 12, (10 + i) % 12 + 1, 1) for i in range(12) if i != 9]
    calls.clear()
    full = report.build_report(tables, D(2026, 11, 1), defn, "subscription", compare_to=D(2026, 8, 1),
                               schemes=lean_schemes + ["behavior"])
    assert [has_events for has_events, _ in calls] == [True]
    for name in ("segment_economics", "transitions"):
        expected = full[name][full[name]["scheme"] != "behavior"].reset_index(drop=True)
        pd.testing.assert_frame_equal(lean[name], expected, obj=name)
    pd.testing.assert_frame_equal(lean["customers"].drop(columns="custom"), full["customers"].drop(columns="custom"))


def test_the_report_computed_beside_the_features_equals_the_one_computed_in_turn(tmp_path, monkeypatch):
    """A scanned Parquet folder's tables are seen by other connections to their database: the shared
    inputs, cohorts and MRR movements are computed on one, the next dates' windowed scans on another,
    beside the features (batches of 2 dates here), and every frame equals the one computed in turn on the
    tables' own connection."""
    import economics.report as report
    import segmentation.features as features
    from ingest.scan import ScanOptions, scan_folder
    from segmentation.definition import default_definition
    from tests.ingest.test_scan import _parquet_company

    tables, meta, problems = scan_folder(_parquet_company(tmp_path / "co"), ScanOptions(today=D(2026, 11, 26)))
    assert not problems.has_errors, problems.text()
    second = features.second_connection(tables)
    assert second is not None and set(second[0]) == set(tables)
    assert second[1].con is not tables["ledger"]._find_backend().con
    second[1].disconnect()
    monkeypatch.setattr(features, "PREFETCH_DATES", 2)
    beside = report.build_report(tables, D(2026, 3, 1), default_definition(), meta["revenue_model"])
    monkeypatch.setattr(features, "second_connection", lambda tables: None)
    in_turn = report.build_report(tables, D(2026, 3, 1), default_definition(), meta["revenue_model"])
    assert set(beside) == set(in_turn)
    for name in beside:
        pd.testing.assert_frame_equal(beside[name], in_turn[name], check_exact=True)
    assert len(in_turn["segment_economics"]) > 0


def test_tables_a_second_connection_cannot_see_are_queried_in_turn():
    """In-memory frames, temporary tables and engines other than DuckDB: no second connection (the report
    computes everything on the tables' own connection, one query after another)."""
    from segmentation.features import second_connection

    assert second_connection(tiny_tables()) is None
    con = ibis.duckdb.connect()
    con.raw_sql("CREATE TEMPORARY TABLE ledger AS SELECT 'a' AS customer_id, DATE '2024-01-01' AS month")
    con.raw_sql("CREATE TABLE customers AS SELECT 'a' AS customer_id")
    assert second_connection({"ledger": con.table("ledger")}) is None
    second = second_connection({"customers": con.table("customers")})
    assert second is not None and second[0]["customers"].execute()["customer_id"].tolist() == ["a"]
    second[1].disconnect()
    customers = con.table("customers")
    con.disconnect()   # a connection closed meanwhile: none either
    assert second_connection({"customers": customers}) is None
