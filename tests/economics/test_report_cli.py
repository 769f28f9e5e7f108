"""The headless report command, run in-process through `main(argv)`: files written, exit codes, messages."""
from __future__ import annotations

import io
import json
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

from economics.__main__ import EXIT_INVALID, EXIT_OK, main
from ingest.load import SAMPLE_DIR

COHORT_COLUMNS = ["cohort", "period", "cohort_size", "active", "retention", "revenue", "revenue_retention",
                  "complete"]
TRANSITION_COLUMNS = ["scheme", "from_segment", "to_segment", "customers", "mrr_from", "mrr_to"]
LABEL_COLUMNS = ["value_tier", "behavior", "lifecycle", "health_score", "health_band", "r_score", "f_score",
                 "m_score", "rfm_code", "rfm_segment", "icp_fit", "goal"]


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(line.strip() for line in text.strip().splitlines()) + "\n",
                               encoding="utf-8")


def _run(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    code = main(["report", *argv], err=err)
    return code, err.getvalue()


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": "str"})


@pytest.fixture
def orders(tmp_path: Path) -> Path:
    """An e-commerce order export: three customers, orders in 2026 (no other table)."""
    data = tmp_path / "orders"
    _write(data, "revenue.csv", """
        customer_id,date,amount
        A,2026-01-10,100.00
        A,2026-03-05,50.00
        B,2026-02-20,80.00
        C,2026-04-02,30.00
    """)
    return data


def test_a_revenue_only_order_export_writes_every_file_with_the_issue_columns(orders: Path, tmp_path: Path):
    out = tmp_path / "report"
    code, err = _run("--data", str(orders), "--out", str(out), "--as-of", "2026-05-01",
                     "--compare-to", "2026-04-01", "--schemes", "value_tier,rfm_segment")
    assert code == EXIT_OK, err
    assert sorted(p.name for p in out.iterdir()) == ["cohort_retention.csv", "customers.csv", "mrr_movements.csv",
                                                     "report.json", "segment_economics.csv", "transitions.csv"]
    customers = _read(out / "customers.csv").set_index("customer_id")
    assert list(customers.index) == ["A", "B", "C"]
    for col in ["recency_days", "frequency", "monetary", *LABEL_COLUMNS]:
        assert col in customers.columns, col
    # An order export is transactional: monetary = net order revenue before D (lookback "all"):
    # A 100 + 50 = 150, B 80, C 30; recency = D - last order: A 2026-05-01 - 2026-03-05 = 57 days.
    assert customers["monetary"].to_dict() == {"A": 150.0, "B": 80.0, "C": 30.0}
    assert customers.loc["A", "recency_days"] == 57
    cohorts = _read(out / "cohort_retention.csv")
    assert list(cohorts.columns[:len(COHORT_COLUMNS) - 1]) == COHORT_COLUMNS[:-1]
    assert "complete" in cohorts.columns
    assert cohorts["cohort"].str.fullmatch(r"\d{4}-\d{2}").all()          # cohort as YYYY-MM
    assert set(cohorts["cohort"]) == {"2026-01", "2026-02", "2026-04"}
    economics = _read(out / "segment_economics.csv")
    assert list(economics.columns[:2]) == ["scheme", "segment"]
    assert set(economics["scheme"]) == {"value_tier", "rfm_segment"}
    assert "assumptions" in economics.columns and "verdict" in economics.columns
    movements = _read(out / "mrr_movements.csv")
    assert movements.columns[0] == "month"
    transitions = _read(out / "transitions.csv")
    assert list(transitions.columns) == TRANSITION_COLUMNS
    assert set(transitions["scheme"]) == {"value_tier", "rfm_segment"}


def test_text_cells_that_look_like_formulas_are_written_as_text(tmp_path: Path):
    data = tmp_path / "data"
    _write(data, "revenue.csv", """
        customer_id,date,amount,plan
        =HYPERLINK(1),2026-01-10,100.00,Pro
    """)
    out = tmp_path / "report"
    code, err = _run("--data", str(data), "--out", str(out), "--schemes", "value_tier")
    assert code == EXIT_OK, err
    assert _read(out / "customers.csv")["customer_id"].tolist() == ["'=HYPERLINK(1)"]


def test_a_folder_with_a_bad_file_exits_2_with_the_problems_and_writes_nothing(tmp_path: Path):
    data = tmp_path / "data"
    _write(data, "revenue.csv", """
        customer_id,date,amount
        A,2026-01-10,100.00
        B,not a date,80.00
    """)
    out = tmp_path / "report"
    code, err = _run("--data", str(data), "--out", str(out))
    assert code == EXIT_INVALID
    assert "ERROR: revenue.csv" in err and "not dates" in err and "'not a date'" in err
    assert "nothing was written" in err
    assert not out.exists()


def test_a_folder_without_revenue_exits_2(tmp_path: Path):
    data = tmp_path / "data"
    _write(data, "customers.csv", """
        customer_id,signup_date
        A,2026-01-10
    """)
    code, err = _run("--data", str(data), "--out", str(tmp_path / "report"))
    assert code == EXIT_INVALID
    assert "No revenue file" in err


def test_a_config_with_an_unknown_key_exits_2_naming_the_key(orders: Path, tmp_path: Path):
    config = tmp_path / "segments.toml"
    config.write_text("[behavior]\npower_top_pct = 20\npowr_cutoff = 3\n", encoding="utf-8")
    out = tmp_path / "report"
    code, err = _run("--data", str(orders), "--out", str(out), "--config", str(config))
    assert code == EXIT_INVALID
    assert "powr_cutoff" in err and str(config) in err
    assert not out.exists()


def test_an_unknown_scheme_exits_2_and_lists_the_available_ones(orders: Path, tmp_path: Path):
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "report"), "--schemes", "value_tier,vibes")
    assert code == EXIT_INVALID
    assert "'vibes'" in err and "value_tier" in err


def test_compare_to_must_be_before_the_as_of_date(orders: Path, tmp_path: Path):
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "report"), "--as-of", "2026-05-01",
                     "--compare-to", "2026-05-01")
    assert code == EXIT_INVALID
    assert "--compare-to 2026-05-01 must be before the as-of date 2026-05-01" in err


def test_a_date_that_is_not_iso_is_a_usage_error(orders: Path, tmp_path: Path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--data", str(orders), "--out", str(tmp_path / "r"), "--as-of", "01/05/2026"])
    assert exit_info.value.code == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


def test_help_names_every_option_and_output_file(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    for word in ("--data", "--out", "--config", "--as-of", "--compare-to", "--snapshot-date", "--schemes",
                 "customers.csv", "cohort_retention.csv", "segment_economics.csv", "mrr_movements.csv",
                 "transitions.csv", "at_risk.csv", "--board-pack", "report.json"):
        assert word in text, word


@pytest.mark.slow
def test_the_full_sample_company_writes_every_file(tmp_path: Path):
    out = tmp_path / "report"
    code, err = _run("--data", str(SAMPLE_DIR), "--out", str(out), "--compare-to", "2026-08-01")
    assert code == EXIT_OK, err
    customers = _read(out / "customers.csv")
    assert len(customers) == 3000
    for col in ["customer_id", "recency_days", "frequency", "monetary", "size_band", "custom", *LABEL_COLUMNS]:
        assert col in customers.columns, col
    economics = _read(out / "segment_economics.csv")
    assert {"value_tier", "behavior", "health_band", "rfm_segment", "industry", "channel"} <= set(economics["scheme"])
    assert list(_read(out / "transitions.csv").columns) == TRANSITION_COLUMNS
    assert (out / "mrr_movements.csv").exists() and (out / "cohort_retention.csv").exists()
    at_risk = _read(out / "at_risk.csv")
    assert list(at_risk.columns) == ["customer_id", "probability", "top_drivers", "mrr", "expected_loss"]
    assert at_risk["expected_loss"].is_monotonic_decreasing
    assert len(at_risk) > 0 and (at_risk["probability"] >= 0.3).all() and (at_risk["mrr"] > 0).all()


def test_an_export_taken_inside_a_month_keeps_its_paying_customers_in_their_tiers(tmp_path: Path):
    """The sample company's billing exported on 17 October 2026 (invoices dated up to the 16th; customers
    renew on their own day of the month). The as-of date is the 17th; October is not complete, so the
    customers' tiers read September, the month the segment economics measure: every customer paying then
    is in a paying tier, none in Not paying (479 were, with a fifth of MRR, when October was read as
    "now": their October invoice was simply not dated yet)."""
    data = tmp_path / "export"
    data.mkdir()
    revenue = pd.read_csv(SAMPLE_DIR / "revenue.csv")
    revenue[revenue["date"] < "2026-10-17"].to_csv(data / "revenue.csv", index=False)
    for name in ("customers.csv", "spend.csv"):
        shutil.copy(SAMPLE_DIR / name, data / name)
    code, err = _run("--data", str(data), "--out", str(tmp_path / "r"), "--schemes", "value_tier")
    assert code == EXIT_OK, err
    assert "(as of 2026-10-17, subscription revenue" in err and "October 2026, is incomplete" in err
    table = _read(tmp_path / "r" / "segment_economics.csv").set_index("segment")
    assert table.loc["Not paying", "paying_customers"] == 0 and table.loc["Not paying", "mrr"] == 0
    paying = table.drop(index=["Not paying", "All customers"])
    assert paying["paying_customers"].sum() == table.loc["All customers", "paying_customers"] == 1447
    assert (paying["paying_customers"] == paying["customers"]).all()
    customers = _read(tmp_path / "r" / "customers.csv")
    assert customers["paying"].sum() == 1447


@pytest.mark.slow
def test_as_of_an_earlier_date_the_report_equals_one_from_the_export_taken_the_day_before(tmp_path: Path):
    """DEFINITIONS.md "Time": as of D, data strictly before D. The sample company as of 15 November 2025
    reads what its exports taken on the 14th read: revenue dated from the 15th on (10,209 rows) is left
    out, not only the months after D. Before, the ledger held every row: November 2025's cohort counted 74
    first payers and the November 2024 cohort 20 payers in its (partial) month 12, where an independent
    recomputation from the raw rows finds 39 and 8 (invoices dated after the 15th made the difference)."""
    data = tmp_path / "export"
    data.mkdir()
    # Every export as taken on the 14th: each row dated before the 15th.
    for name, column in (("customers.csv", "signup_date"), ("revenue.csv", "date"), ("events.csv.gz", "timestamp"),
                         ("tickets.csv", "created_at"), ("nps.csv", "date"), ("spend.csv", "month")):
        table = pd.read_csv(SAMPLE_DIR / name)
        table[table[column] < "2025-11-15"].to_csv(data / name, index=False)
    outs = {}
    for name, folder in (("full", SAMPLE_DIR), ("export", data)):
        outs[name] = tmp_path / name
        code, err = _run("--data", str(folder), "--out", str(outs[name]), "--as-of", "2025-11-15",
                         "--compare-to", "2025-08-01", "--schemes", "value_tier,behavior")
        assert code == EXIT_OK, err
        if name == "full":
            assert "10,209 revenue row(s) dated on or after it are left out" in err
    for file in ("customers", "cohort_retention", "segment_economics", "mrr_movements", "transitions", "at_risk"):
        pd.testing.assert_frame_equal(_read(outs["full"] / f"{file}.csv"), _read(outs["export"] / f"{file}.csv"))
    cohorts = _read(outs["full"] / "cohort_retention.csv").set_index(["cohort", "period"])
    assert cohorts.loc[("2025-11", 0), "cohort_size"] == 39
    assert cohorts.loc[("2024-11", 12), "active"] == 8 and not cohorts.loc[("2024-11", 12), "complete"]


def test_as_of_an_earlier_date_an_order_export_knows_the_customers_of_the_rows_before_it(tmp_path: Path):
    """An order export's customers come from its rows: signup at the first purchase, else at the first row.
    X was refunded on 1 February and first bought on 20 March: as of 15 March it is a customer (never
    paid), as the export of the 14th says; it was missing when its signup came from the whole file."""
    full = tmp_path / "full"
    _write(full, "revenue.csv", """
        customer_id,date,amount
        A,2026-01-10,100.00
        A,2026-03-05,50.00
        B,2026-02-20,80.00
        X,2026-02-01,-20.00
        X,2026-03-20,60.00
        C,2026-04-02,30.00
    """)
    before = tmp_path / "before"
    _write(before, "revenue.csv", "\n".join((full / "revenue.csv").read_text().splitlines()[:5]))
    outs = {}
    for name, folder in (("full", full), ("before", before)):
        outs[name] = tmp_path / f"out_{name}"
        code, err = _run("--data", str(folder), "--out", str(outs[name]), "--as-of", "2026-03-15",
                         "--schemes", "value_tier")
        assert code == EXIT_OK, err
        if name == "full":   # it names its own incomplete month, not the data's (the file ends on 2 April)
            assert "April 2026" not in err
            assert "The last month, March 2026, is incomplete: the data ends on 14 Mar 2026." in err
    for file in ("customers", "cohort_retention", "segment_economics", "mrr_movements"):
        pd.testing.assert_frame_equal(_read(outs["full"] / f"{file}.csv"), _read(outs["before"] / f"{file}.csv"))
    customers = _read(outs["full"] / "customers.csv").set_index("customer_id")
    assert sorted(customers.index) == ["A", "B", "X"]
    assert customers.loc["X", "signup_date"].startswith("2026-02-01") and not customers.loc["X", "paying"]


@pytest.mark.parametrize("as_of", ["2026-01-10", "2099-01-01"])
def test_an_as_of_date_before_the_data_or_in_the_future_exits_2(orders: Path, tmp_path: Path, as_of: str):
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "report"), "--as-of", as_of)
    assert code == EXIT_INVALID
    assert f"--as-of {as_of} is outside the data, which runs from 2026-01-10 to 2026-04-02" in err
    assert "at most tomorrow (default 2026-04-03" in err
    assert not (tmp_path / "report").exists()


def test_an_order_export_without_churn_history_says_why_there_is_no_at_risk_list(orders: Path, tmp_path: Path):
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "r"))
    assert code == EXIT_OK
    assert "at_risk.csv" in err and not (tmp_path / "r" / "at_risk.csv").exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="the board pack needs Chromium: apt-get install chromium")
def test_board_pack_flag_writes_the_html_and_the_pdf(tmp_path: Path):
    out = tmp_path / "report"
    code, err = _run("--data", str(SAMPLE_DIR), "--out", str(out), "--schemes", "value_tier", "--board-pack",
                     "--title", "Acme & Co")
    assert code == EXIT_OK, err
    assert (out / "board_pack.pdf").read_bytes().startswith(b"%PDF")
    assert "<h1>Acme &amp; Co: board pack</h1>" in (out / "board_pack.html").read_text(encoding="utf-8")


def test_a_title_without_the_board_pack_exits_2_and_writes_nothing(orders: Path, tmp_path: Path):
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "r"), "--title", "Acme")
    assert code == EXIT_INVALID
    assert "--title names the board pack: add --board-pack" in err and not (tmp_path / "r").exists()


def test_a_failure_after_customers_csv_was_started_leaves_the_out_folder_as_it_was(orders: Path, tmp_path: Path,
                                                                                  monkeypatch):
    import economics.report as report

    def failing(*args, **kwargs):
        raise ValueError("segment economics failed")

    monkeypatch.setattr(report, "segment_economics", failing)
    out = tmp_path / "report"
    out.mkdir()
    (out / "customers.csv").write_text("the previous run's file")
    code, err = _run("--data", str(orders), "--out", str(out))
    assert code == EXIT_INVALID
    assert "error: segment economics failed; nothing was written." in err
    assert [p.name for p in out.iterdir()] == ["customers.csv"]
    assert (out / "customers.csv").read_text() == "the previous run's file"
    new = tmp_path / "new"
    code, _ = _run("--data", str(orders), "--out", str(new))
    assert code == EXIT_INVALID and not new.exists()   # a folder the run created is removed again


def test_the_report_files_equal_the_frames_build_report_returns(orders: Path, tmp_path: Path):
    from economics.report import build_report
    from ingest.export import csv_bytes
    from ingest.load import LoadOptions, load_folder
    from economics.pipeline import default_definition_for
    from ingest.scan import memory_tables

    out = tmp_path / "report"
    code, err = _run("--data", str(orders), "--out", str(out))
    assert code == EXIT_OK, err
    result = load_folder(None, orders, LoadOptions())
    frames = build_report(memory_tables(result.tables), date.fromisoformat(result.meta["default_as_of"]),
                          default_definition_for(result.meta), result.meta["revenue_model"])
    for name, frame in frames.items():
        assert (out / f"{name}.csv").read_bytes() == csv_bytes(frame), name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def test_report_json_says_what_the_run_was_and_a_later_run_removes_only_the_files_it_no_longer_writes(
        orders: Path, tmp_path: Path):
    out = tmp_path / "report"
    code, err = _run("--data", str(orders), "--out", str(out), "--as-of", "2026-05-01",
                     "--compare-to", "2026-04-01", "--schemes", "value_tier,rfm_segment")
    assert code == EXIT_OK, err
    about = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {k: about[k] for k in ["data", "as_of", "last_complete_month", "compare_to", "revenue_model",
                                  "definition", "config", "schemes"]} == {
        "data": str(orders.resolve()), "as_of": "2026-05-01", "last_complete_month": "2026-04",
        "compare_to": "2026-04-01", "revenue_model": "transactional", "definition": "Default", "config": None,
        "schemes": ["value_tier", "rfm_segment"]}
    assert datetime.fromisoformat(about["generated_at"]).tzinfo is not None
    # What each column of segment_economics.csv means, in the order data's words.
    assert list(about["definitions"]) == list(_read(out / "segment_economics.csv").columns)
    assert "no purchase for 90 days" in about["definitions"]["logo_churn"]
    # And of mrr_movements.csv: a refund column that reads 0 says which refunds it holds.
    assert list(about["mrr_movements_definitions"]) == list(_read(out / "mrr_movements.csv").columns)
    assert about["mrr_movements_definitions"]["refunds"].startswith("Refunds beyond a customer's revenue")
    assert "MRR" not in json.dumps(about["mrr_movements_definitions"])   # order data: monthly revenue
    # What the costs rest on, as the pages and the board pack say it (also on stderr): the defaults, and
    # no events or tickets to measure infra and support.
    defaults, unmeasured = about["notes"][-2:]
    assert defaults.startswith("Costs are the product's defaults for a B2B SaaS company")
    assert "gross margin 80%; no onboarding cost." in defaults   # order data: nobody is onboarded
    assert "per ticket-minute" not in defaults   # no tickets: no support cost to default
    assert unmeasured.startswith("Support and infra costs not measured") and f"note: {defaults}" in err
    files = {f["name"]: f["rows"] for f in about["files"]}
    assert set(files) == {"customers.csv", "cohort_retention.csv", "segment_economics.csv", "mrr_movements.csv",
                          "transitions.csv"}
    assert all(len(_read(out / name)) == rows for name, rows in files.items())
    (out / "my_notes.csv").write_text("the user's own file")
    config = tmp_path / "costs.toml"
    config.write_text("[economics]\ngross_margin = 0.4\n", encoding="utf-8")   # a cost of its own
    code, err = _run("--data", str(orders), "--out", str(out), "--as-of", "2026-05-01",   # no --compare-to
                     "--config", str(config))
    assert code == EXIT_OK, err
    assert "Costs are the product's defaults" not in err
    assert "removed transitions.csv: written by the previous run" in err
    assert sorted(p.name for p in out.iterdir()) == ["cohort_retention.csv", "customers.csv", "mrr_movements.csv",
                                                     "my_notes.csv", "report.json", "segment_economics.csv"]
    about = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert about["compare_to"] is None and not any(n.startswith("Costs are") for n in about["notes"])


def test_board_pack_without_chromium_exits_2_before_computing_and_writes_nothing(orders: Path, tmp_path: Path,
                                                                                 monkeypatch):
    import boardpack

    monkeypatch.setattr(boardpack, "chromium_path", lambda: None)
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "r"), "--board-pack")
    assert code == EXIT_INVALID
    assert "--board-pack prints the PDF with Chromium, which was not found" in err
    assert not (tmp_path / "r").exists()


def test_a_board_pack_chromium_fails_to_print_leaves_the_out_folder_as_it_was(orders: Path, tmp_path: Path,
                                                                               monkeypatch):
    import boardpack

    def crash(page):
        raise subprocess.CalledProcessError(1, ["chromium"])

    monkeypatch.setattr(boardpack, "chromium_path", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(boardpack, "to_pdf", crash)
    out = tmp_path / "report"
    code, err = _run("--data", str(orders), "--out", str(out))
    assert code == EXIT_OK, err
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = _run("--data", str(orders), "--out", str(out), "--as-of", "2026-04-01", "--board-pack")
    assert code == EXIT_INVALID
    assert "error: Chromium could not print board_pack.pdf" in err and "nothing was written" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_board_pack_names_the_scheme_as_the_pages_do(orders: Path, tmp_path: Path, monkeypatch):
    import boardpack

    seen = {}

    def collect(*args, **kwargs):
        seen.update(kwargs)
        raise ValueError("stop here")

    monkeypatch.setattr(boardpack, "chromium_path", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(boardpack, "collect", collect)
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "r"), "--board-pack")
    assert code == EXIT_INVALID and "stop here" in err
    assert seen["scheme_label"] == "Value tier (annual revenue)"   # order data: not "value_tier", not ARR


def test_the_board_pack_repeats_what_the_load_warned_about_as_the_apps_does(orders: Path, tmp_path: Path,
                                                                          monkeypatch):
    """The app's board pack lists the load's warnings (they bear on every number); the command's read a meta
    without them. A row without a customer id is skipped, and the pack says so."""
    import boardpack
    from ingest.problems import noted_at_load

    (orders / "revenue.csv").write_text((orders / "revenue.csv").read_text() + ",2026-02-01,25.00\n")
    seen = {}

    def collect(tables, as_of, compare_to, scheme, defn, definition_name, meta, **kwargs):
        seen["noted"] = noted_at_load(meta, as_of)
        raise ValueError("stop here")

    monkeypatch.setattr(boardpack, "chromium_path", lambda: "/usr/bin/chromium")
    monkeypatch.setattr(boardpack, "collect", collect)
    code, err = _run("--data", str(orders), "--out", str(tmp_path / "r"), "--board-pack")
    assert code == EXIT_INVALID and "stop here" in err
    messages = [message for _, message in seen["noted"]]
    assert any(m.startswith("1 row(s) without customer_id were skipped") for m in messages), messages
    assert any(m.startswith("The last month, April 2026, is incomplete") for m in messages), messages


def test_a_crm_snapshot_pools_churn_over_its_own_month_unless_the_definition_says_otherwise(tmp_path: Path):
    """A snapshot records churn only in its month (customers who left earlier are not in it): churn is pooled
    over that month alone (economics.pipeline.for_data), so monthly churn is the month's churners over the
    customers at its start, 3 / 8, not 3 over 12 months of survivors' exposure; also under a --config that
    leaves the window out (one naming the export's columns to segment by read 12 months: Telco's churn
    2.7% and every verdict healthy). A --config that sets the window keeps it."""
    rows = [f"C{i},{10 + i},50.00,{'Yes' if i < 3 else 'No'},{'Month-to-month' if i < 4 else 'Two year'}"
            for i in range(8)]   # all paying since before Nov
    data = tmp_path / "snap"
    _write(data, "revenue.csv", "customerID,tenure,MonthlyCharges,Churn,Contract\n" + "\n".join(rows))
    out = tmp_path / "out"
    code, err = _run("--data", str(data), "--out", str(out), "--snapshot-date", "2026-11-01",
                     "--schemes", "value_tier")
    assert code == EXIT_OK, err
    econ = _read(out / "segment_economics.csv").set_index("segment")
    blended = econ.loc["All customers"]
    assert blended["window_first"] == blended["window_last"] == "2026-11"
    assert blended["logo_churn"] == pytest.approx(3 / 8)
    assert json.loads(blended["assumptions"])["churn_window_months"] == 1
    # 12-month retention cannot be read from a snapshot (nobody who left before November is in it): empty,
    # as the Overview's tiles say (it read 0.785 on Telco while every segment's was empty)
    assert econ["nrr"].isna().all() and econ["grr"].isna().all()
    # report.json says why, what the load warned about and what the history of a snapshot is
    about = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert about["definitions"]["nrr"].startswith("Empty: a CRM snapshot holds nobody who left before its month")
    assert about["notes"][0].startswith("A CRM snapshot records churn only in its own month (November 2026)")
    assert about["notes"][0] in err
    assert about["notes"][-1].startswith("This is a CRM snapshot taken 2026-11-01: the history is rebuilt")
    # A definition naming the export's own columns ("Contract" is stored as contract) and no window.
    config = tmp_path / "attributes.toml"
    config.write_text('[firmographic]\nattributes = ["Contract", "Renewal Date"]\n', encoding="utf-8")
    code, err = _run("--data", str(data), "--out", str(out), "--snapshot-date", "2026-11-01",
                     "--schemes", "value_tier,contract", "--config", str(config))
    assert code == EXIT_OK, err
    econ = _read(out / "segment_economics.csv")
    blended = econ[econ["scheme"] == "value_tier"].set_index("segment").loc["All customers"]
    assert blended["window_first"] == blended["window_last"] == "2026-11"
    assert blended["logo_churn"] == pytest.approx(3 / 8)
    contract = econ[econ["scheme"] == "contract"].set_index("segment")["logo_churn"]
    assert contract["Month-to-month"] == pytest.approx(3 / 4) and contract["Two year"] == 0
    assert "no customers column is named 'renewal_date'" in err and "contract" in err
    config = tmp_path / "twelve.toml"
    config.write_text("[economics]\nchurn_window_months = 12\n", encoding="utf-8")
    code, err = _run("--data", str(data), "--out", str(out), "--snapshot-date", "2026-11-01",
                     "--schemes", "value_tier", "--config", str(config))
    assert code == EXIT_OK, err
    blended = _read(out / "segment_economics.csv").set_index("segment").loc["All customers"]
    assert blended["window_first"] == "2025-12" and blended["logo_churn"] < 3 / 8 / 10


def test_a_crm_snapshot_saved_as_customers_csv_is_told_where_it_belongs(tmp_path: Path):
    """Telco saved as customers.csv failed with "Required column(s) not found: signup_date ... Map them below",
    with nothing below in a terminal and no word that a snapshot is a revenue export."""
    rows = [f"C{i},{10 + i},50.00,{'Yes' if i < 3 else 'No'}" for i in range(8)]
    data = tmp_path / "snap"
    _write(data, "customers.csv", "customerID,tenure,MonthlyCharges,Churn\n" + "\n".join(rows))
    code, err = _run("--data", str(data), "--out", str(tmp_path / "out"), "--snapshot-date", "2026-11-01")
    assert code == EXIT_INVALID
    assert "below" not in err and "Map them on the Data page, or rename the columns." in err
    assert "in a folder, name it revenue.csv; a snapshot also needs the day it was exported, --snapshot-date" in err
