"""Scanning Parquet exports in place: the SQL ledger follows ingest/ledger.py exactly, and checks match the loader."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import ibis
import pandas as pd
import pytest

from ingest.ledger import build_ledger
from ingest.load import SAMPLE_DIR, load_folder
from ingest.scan import ScanOptions, is_parquet_folder, ledger_expr, memory_tables, scan_folder

D = dt.date
REVENUE_SCHEMA = {"customer_id": "string", "date": "date", "amount_cents": "int64", "period_start": "date",
                  "period_end": "date", "start_date": "date", "end_date": "date", "mrr_cents": "int64",
                  "plan": "string", "currency": "string"}


def _revenue(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame([{c: r.get(c) for c in REVENUE_SCHEMA} for r in rows])
    return frame


def _sql_ledger(revenue: pd.DataFrame, data_end: dt.date) -> pd.DataFrame:
    con = ibis.duckdb.connect()
    table = ibis.memtable(revenue, schema=REVENUE_SCHEMA)
    out = con.execute(ledger_expr(con, table, data_end))
    out["month"] = pd.to_datetime(out["month"]).astype("datetime64[ns]")
    out["customer_id"] = out["customer_id"].astype("str")
    return out.reset_index(drop=True)


def _pandas_ledger(revenue: pd.DataFrame, data_end: dt.date) -> pd.DataFrame:
    typed = revenue.copy()
    for c in ("date", "period_start", "period_end", "start_date", "end_date"):
        typed[c] = pd.to_datetime(typed[c]).astype("datetime64[ns]")
    for c in ("amount_cents", "mrr_cents"):
        typed[c] = typed[c].astype("Int64")
    out = build_ledger(typed, pd.Timestamp(data_end))
    out["month"] = out["month"].astype("datetime64[ns]")
    out["customer_id"] = out["customer_id"].astype("str")
    return out.reset_index(drop=True)


def test_the_sql_ledger_spreads_invoices_and_subscriptions_as_hand_computed():
    revenue = _revenue([
        # 1000 cents over Jan 15 - Apr 15 (3 months): 333, 333, leftover 334 in the last month.
        {"customer_id": "a", "date": D(2026, 1, 15), "amount_cents": 1000, "period_start": D(2026, 1, 15),
         "period_end": D(2026, 4, 15)},
        # A refund of -1000 over the same 3 months: -333, -333, -334 (truncated toward zero).
        {"customer_id": "b", "date": D(2026, 1, 15), "amount_cents": -1000, "period_start": D(2026, 1, 15),
         "period_end": D(2026, 4, 15)},
        # An order without a service period counts whole in its month.
        {"customer_id": "b", "date": D(2026, 2, 3), "amount_cents": 500},
        # An open subscription of 2000/month from Feb 10 runs to the data end (Apr 20): Feb, Mar, Apr.
        {"customer_id": "c", "date": D(2026, 2, 10), "start_date": D(2026, 2, 10), "mrr_cents": 2000},
    ])
    actual = _sql_ledger(revenue, D(2026, 4, 20))
    expected = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "b", "b", "c", "c", "c"],
        "month": pd.to_datetime(["2026-01-01", "2026-02-01", "2026-03-01"] * 3).astype("datetime64[ns]"),
        # b: Jan -333, Feb -333 + 500 = 167, Mar -334
        "revenue_cents": [333, 333, 334, -333, 167, -334, 2000, 2000, 2000],
        "mrr_cents": [333, 333, 334, 0, 167, 0, 2000, 2000, 2000],
        "refund_cents": [0, 0, 0, 333, 0, 334, 0, 0, 0],
    })
    # c's subscription: months_covered(Feb 10, Apr 20) = 2 whole + 1 partial = 3 months (Feb, Mar, Apr).
    expected.loc[6:, "month"] = pd.to_datetime(["2026-02-01", "2026-03-01", "2026-04-01"])
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)
    pd.testing.assert_frame_equal(actual, _pandas_ledger(revenue, D(2026, 4, 20)), check_dtype=False)


def test_the_sql_ledger_equals_build_ledger_on_the_sample_company_cents_exact():
    result = load_folder(None, SAMPLE_DIR)
    assert result.ok
    revenue = result.tables["revenue"].copy()
    for c in ("date", "period_start", "period_end", "start_date", "end_date"):
        revenue[c] = pd.to_datetime(revenue[c]).dt.date
    data_end = D.fromisoformat(result.meta["default_as_of"])
    actual = _sql_ledger(revenue, data_end)
    expected = result.tables["ledger"].copy()
    expected["month"] = pd.to_datetime(expected["month"]).astype("datetime64[ns]")
    expected["customer_id"] = expected["customer_id"].astype("str")
    expected = expected.sort_values(["customer_id", "month"]).reset_index(drop=True)
    assert len(actual) == len(expected) > 10_000
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def _parquet_company(folder: Path) -> Path:
    folder.mkdir()
    pd.DataFrame({"customer_id": ["a", "b"], "signup_date": pd.to_datetime(["2026-01-05", "2026-02-01"]),
                  "industry": ["Software", "Retail"], "Region": ["EU", "US"]}).to_parquet(folder / "customers.parquet")
    pd.DataFrame({"customer_id": ["a", "a", "b", "x"],
                  "date": pd.to_datetime(["2026-01-10", "2026-02-10", "2026-02-03", "2026-02-04"]),
                  "amount": [100.0, 100.0, 40.5, 9.99]}).to_parquet(folder / "revenue.parquet")
    pd.DataFrame({"customer_id": ["a", "a", "b"],
                  "timestamp": pd.to_datetime(["2026-02-27 10:00", "2026-02-28 11:00", "2026-02-01 09:00"]),
                  "event": ["login", "export", "login"]}).to_parquet(folder / "events.parquet")
    return folder


def test_scan_folder_builds_contract_tables_and_the_loaders_meta(tmp_path: Path):
    folder = _parquet_company(tmp_path / "co")
    assert is_parquet_folder(folder)
    tables, meta, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26), memory_limit="256MB", threads=1))
    assert not problems.has_errors, problems.text()
    # x is in revenue but not in customers: added with signup at its first payment, and a warning says so.
    assert "1 customer(s) not in the customers file" in problems.text()
    customers = tables["customers"].order_by("customer_id").execute()
    assert customers["customer_id"].tolist() == ["a", "b", "x"]
    assert pd.to_datetime(customers["signup_date"]).dt.strftime("%Y-%m-%d").tolist() == [
        "2026-01-05", "2026-02-01", "2026-02-04"]
    assert "region" in customers.columns                                # extra columns kept, snake_case
    assert list(tables["events"].columns) == ["customer_id", "timestamp", "event", "user_id"]
    ledger = tables["ledger"].execute()
    # a: 10000 in Jan and in Feb; b: 4050 in Feb; x: 999 in Feb
    assert ledger["revenue_cents"].tolist() == [10000, 10000, 4050, 999]
    # Orders without service periods are transactional; the data ends with the last event (Feb 28).
    assert meta["revenue_model"] == "transactional"
    assert meta["default_as_of"] == "2026-03-01"
    assert meta["last_complete_month"] == "2026-02"


def test_scan_folder_reports_a_text_date_column_and_returns_no_tables(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["a"], "date": ["10/01/2026"], "amount": [5.0]}).to_parquet(folder / "revenue.parquet")
    tables, meta, problems = scan_folder(folder)
    assert tables == {} and problems.has_errors
    assert "Column date (date) is stored as string" in problems.text()


def test_scan_folder_names_missing_required_columns(tmp_path: Path):
    folder = tmp_path / "bad"
    folder.mkdir()
    pd.DataFrame({"customer_id": ["a"], "amount": [5.0]}).to_parquet(folder / "revenue.parquet")
    pd.DataFrame({"customer_id": ["a"], "what": [1]}).to_parquet(folder / "events.parquet")
    _, _, problems = scan_folder(folder)
    assert "events.parquet, column timestamp: Required column(s) not found: timestamp" in problems.text()


def test_the_report_of_a_parquet_folder_equals_the_report_of_the_same_data_as_csv(tmp_path: Path):
    from economics.__main__ import main

    folder = _parquet_company(tmp_path / "pq")
    as_csv = tmp_path / "csv"
    as_csv.mkdir()
    for path in folder.iterdir():
        pd.read_parquet(path).to_csv(as_csv / f"{path.stem}.csv", index=False)
    outs = []
    for data in (folder, as_csv):
        out = tmp_path / f"out_{data.name}"
        code = main(["report", "--data", str(data), "--out", str(out), "--as-of", "2026-03-01",
                     "--schemes", "value_tier"], err=io.StringIO())
        assert code == 0
        outs.append(out)
    for name in ("customers", "segment_economics", "mrr_movements", "cohort_retention"):
        scanned = pd.read_csv(outs[0] / f"{name}.csv")
        loaded = pd.read_csv(outs[1] / f"{name}.csv")
        pd.testing.assert_frame_equal(scanned, loaded, check_dtype=False, obj=name)


def test_without_a_customers_file_signup_is_the_first_day_with_positive_net_revenue(tmp_path: Path):
    """y buys 50.00 on 20 Jan and cancels it that day, then buys 30.00 on 2 Feb: its signup (and cohort) is
    2 Feb in both loaders, as its first purchase day is (economics.mrr); z's only day nets below 0, so its
    first date stands in."""
    from economics.__main__ import main

    revenue = pd.DataFrame({"customer_id": ["y", "y", "y", "w", "z", "z"],
                            "date": pd.to_datetime(["2026-01-20", "2026-01-20", "2026-02-02", "2026-01-05",
                                                    "2026-01-07", "2026-01-07"]),
                            "amount": [50.0, -50.0, 30.0, 20.0, 10.0, -15.0]})
    for kind in ("parquet", "csv"):
        data = tmp_path / kind
        data.mkdir()
        if kind == "parquet":
            revenue.to_parquet(data / "revenue.parquet")
        else:
            revenue.to_csv(data / "revenue.csv", index=False)
        out = tmp_path / f"out_{kind}"
        assert main(["report", "--data", str(data), "--out", str(out), "--as-of", "2026-03-01",
                     "--schemes", "value_tier"], err=io.StringIO()) == 0
        customers = pd.read_csv(out / "customers.csv", encoding="utf-8-sig").set_index("customer_id")
        assert customers["signup_date"].str[:10].to_dict() == {"w": "2026-01-05", "y": "2026-02-02",
                                                               "z": "2026-01-07"}, kind


def test_memory_tables_keep_the_stored_types():
    frames = {"customers": pd.DataFrame({"customer_id": pd.array(["a"], dtype="string"),
                                         "signup_date": pd.array([D(2026, 1, 1)], dtype="date32[pyarrow]")})}
    tables = memory_tables(frames)
    assert str(tables["customers"].schema()["signup_date"]).startswith("date")


@pytest.mark.parametrize("key_event", ["", "export"])
def test_features_at_several_dates_equal_features_date_by_date(tmp_path: Path, key_event: str):
    from segmentation.features import FeatureParams, customer_features, customer_features_at

    tables, _, _ = scan_folder(_parquet_company(tmp_path / "co"), ScanOptions(today=D(2026, 11, 26)))
    params = FeatureParams(key_event=key_event)
    # Feb 28 splits a's two events into different buckets; Mar 1 is after every event.
    dates = [D(2026, 2, 2), D(2026, 2, 28), D(2026, 3, 1)]
    batched = dict(customer_features_at(tables, dates, params, "transactional"))
    assert list(batched) == dates
    for d in dates:
        pd.testing.assert_frame_equal(batched[d], customer_features(tables, d, params, "transactional"))
    assert batched[D(2026, 3, 1)].set_index("customer_id").loc["a", "frequency"] == 2   # 2 distinct event days


def test_scan_folder_rejects_a_csv_file_among_the_parquet_ones(tmp_path: Path):
    folder = _parquet_company(tmp_path / "co")
    (folder / "tickets.csv").write_text("customer_id,created_at\na,2026-02-01\n", encoding="utf-8")
    tables, _, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26)))
    assert tables == {}
    assert "tickets.csv: Scanning reads Parquet files only" in problems.text()


def test_scan_folder_rejects_fractional_nps_scores(tmp_path: Path):
    folder = _parquet_company(tmp_path / "co")
    pd.DataFrame({"customer_id": ["a", "b"], "date": pd.to_datetime(["2026-02-01", "2026-02-02"]),
                  "score": [7.5, 9.0]}).to_parquet(folder / "nps.parquet")
    tables, _, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26)))
    assert tables == {}
    assert "nps.parquet, column score: 1 value(s) are not whole numbers." in problems.text()


@pytest.mark.parametrize("accumulated", ["_EventIntervals.at", "_EventIntervals.expr", "_EventHistory.history"])
def test_features_at_several_dates_fall_back_to_date_by_date_when_the_history_scan_fails(tmp_path: Path,
                                                                                       monkeypatch, accumulated):
    """Out of memory in the accumulated event columns (_EventIntervals on DuckDB, _EventHistory elsewhere),
    the dates' event columns are computed date by date, with a warning, and equal."""
    import segmentation.features as features

    def fail(*args, **kwargs):
        raise MemoryError("Out of Memory Error: could not allocate block")

    owner, method = accumulated.split(".")
    monkeypatch.setattr(getattr(features, owner), method, fail)
    if owner == "_EventHistory":
        monkeypatch.setattr(features, "_event_intervals", lambda *args: None)
    tables, _, _ = scan_folder(_parquet_company(tmp_path / "co"), ScanOptions(today=D(2026, 11, 26)))
    params = features.FeatureParams()
    dates = [D(2026, 2, 28), D(2026, 3, 1)]
    with pytest.warns(RuntimeWarning, match="computing each date's history separately"):
        batched = dict(features.customer_features_at(tables, dates, params, "transactional"))
    second = features.second_connection(tables)   # the next date's queries beside, in a thread of their own
    monkeypatch.setattr(features, "PREFETCH_DATES", 1)
    try:
        with pytest.warns(RuntimeWarning, match="computing each date's history separately"):
            beside = dict(features.customer_features_at(tables, [D(2026, 2, 1), *dates], params, "transactional",
                                                        beside=second[0]))
    finally:
        second[1].disconnect()
    for d in dates:
        pd.testing.assert_frame_equal(beside[d], batched[d])
    for d in dates:
        pd.testing.assert_frame_equal(batched[d], features.customer_features(tables, d, params, "transactional"))


def test_float_customer_ids_with_blanks_read_as_the_loader_reads_them_and_blank_rows_are_said(tmp_path: Path):
    # pandas writes an id column with a blank as floats (UCI Online Retail's CustomerID): 17850.0 is '17850'
    folder = tmp_path / "orders"
    folder.mkdir()
    pd.DataFrame({"CustomerID": [17850.0, 13047.0, None], "InvoiceDate": pd.to_datetime(["2026-01-05"] * 3),
                  "amount": [10.0, 20.0, 5.0]}).to_parquet(folder / "revenue.parquet")
    tables, _, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26)))
    assert not problems.has_errors, problems.text()
    assert sorted(tables["customers"].execute()["customer_id"]) == ["13047", "17850"]
    assert "1 row(s) without a customer id, a date or an amount were skipped." in problems.text()
    scanned = tables["revenue"].execute().sort_values("customer_id")
    loaded = load_folder(None, folder).tables["revenue"].sort_values("customer_id")
    assert scanned["customer_id"].tolist() == loaded["customer_id"].tolist() == ["13047", "17850"]


def test_scanning_counts_an_invoice_exported_twice_once_and_refuses_absurd_amounts_as_the_loader_does(tmp_path: Path):
    folder = tmp_path / "invoices"
    folder.mkdir()
    rows = pd.DataFrame({"id": ["in_1", "in_2", "in_1"], "customer_id": ["a", "b", "a"],
                         "date": pd.to_datetime(["2026-01-05", "2026-01-06", "2026-01-05"]),
                         "amount": [10.0, 20.0, 10.0]})
    rows.to_parquet(folder / "revenue.parquet")
    tables, _, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26)))
    assert int(tables["revenue"].execute()["amount_cents"].sum()) == 3000
    assert int(load_folder(None, folder).tables["revenue"]["amount_cents"].sum()) == 3000
    assert "1 row(s) repeat an earlier row exactly, with the same id" in problems.text()
    assert "without a customer id" not in problems.text()   # the repeat is not a blank row
    rows.assign(amount=[10.0, 1e15, 10.0], id=["in_1", "in_2", "in_3"]).to_parquet(folder / "revenue.parquet")
    tables, _, problems = scan_folder(folder, ScanOptions(today=D(2026, 11, 26)))
    assert tables == {} and "1 amount(s) are a trillion or more" in problems.text()
