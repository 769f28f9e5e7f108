"""The board pack renders to HTML and a PDF whose first page is a real image."""
from __future__ import annotations

import html
import json
import shutil
import subprocess
from datetime import date

import pandas as pd
import pytest

import boardpack
from economics.assumptions import parse_assumptions
from ingest.load import load_sample
from ingest.store import Workspace
from segmentation.definition import default_definition

pytestmark = pytest.mark.skipif(boardpack.chromium_path() is None or shutil.which("pdftoppm") is None,
                                reason="needs Chromium and pdftoppm: apt-get install -y chromium poppler-utils")


def test_board_pack_on_the_sample_company_renders_html_and_a_pdf(tmp_path):
    ws = Workspace(tmp_path / "w.duckdb")
    load_sample(ws)
    con = ws.ibis()
    tables = {n: con.table(n) for n in ws.tables()}
    pack = boardpack.collect(tables, date(2026, 11, 1), date(2026, 8, 1), "value_tier", default_definition(),
                             "Q4 board", ws.meta(), scheme_label="Value tier (ARR)")
    assert pack.title == "Northwind Analytics (sample company)"   # no title given: the data's default
    titles = [t for t, _, _ in pack.figures]
    assert titles[:3] == ["Segment map", "Cohort retention", "Unit economics"] and "Transitions" in titles
    assert any("Outbound sales" in f for f in pack.findings)
    # a finding quoting a value tier x channel segment (not in the pack's table) says where it comes from
    assert pack.caveat.startswith("Segments are compared within the chosen scheme and by value tier x acquisition")
    page = boardpack.to_html(pack)
    assert "As of 01 November 2026" in page and "“Q4 board”" in page and "Gross margin 80%" in page
    # which months the tiles' changes compare, and that the comparison date is the transitions'
    assert ("last complete month October 2026, the tiles' changes against September 2026 · transitions from 01 "
            "August 2026") in page
    assert "not measured" not in page   # tickets and events loaded: support and infra are measured
    assert "defaults" not in page       # the sample company's costs are the defaults
    # The pack says what its numbers mean, in the words of the Overview's tiles and the economics table.
    section = page[page.index("How these numbers are defined"):]
    assert all(f"<th>{k.label}</th>" in section for k in pack.kpis)
    assert "Customers with MRR &gt; 0 in October 2026" in section and "Monthly churn (by segment)" in section
    assert "Healthy when net LTV:CAC &gt;= 3 and payback &lt;= 18 months" in section
    # the thresholds its segments were drawn with (an edited tier changes every count), and no file a board
    # member cannot open
    assert ("<th>Segments: Value tier (ARR)</th><td>By ARR (12 x MRR of the last complete month): Self-serve: under "
            "$1,000; SMB: $1,000 to under $10,000; Mid-market: $10,000 to under $50,000; Enterprise: $50,000 and "
            "over; without revenue: Not paying.</td>") in section
    assert "DEFINITIONS.md" not in page
    assert page.count("data:image/png;base64,") == len(pack.figures)
    pdf = boardpack.to_pdf(page)
    assert pdf.startswith(b"%PDF")
    (tmp_path / "pack.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(tmp_path / "pack.pdf"),
                    str(tmp_path / "page")], check=True)
    first = next(tmp_path.glob("page*.png"))
    assert first.stat().st_size > 10_000  # a rendered page, not a blank one


def test_without_tickets_and_events_the_pack_says_support_and_infra_are_not_measured(tmp_path):
    ws = Workspace(tmp_path / "w.duckdb")
    load_sample(ws)
    con = ws.ibis()
    tables = {n: con.table(n) for n in ws.tables() if n not in ("tickets", "events")}
    # as if uploaded, as a CRM snapshot whose load warned about skipped rows
    skipped = "135,080 row(s) without customer_id were skipped. They hold 14.9% of the revenue."
    meta = ws.meta() | {"source": "upload", "revenue_shape": "snapshot",
                        "warnings": json.dumps([{"message": skipped}])}
    pack = boardpack.collect(tables, date(2026, 11, 1), date(2026, 8, 1), "value_tier", default_definition(),
                             "Q4 board", meta)
    # what the load warned about and what a snapshot cannot measure are said on the pack, as on the Overview
    assert pack.notes[0] == skipped and "CRM snapshot" in pack.notes[1]
    tiles = {k.label: k for k in pack.kpis}
    assert tiles["NRR (12 months)"].missing == "not from a snapshot"
    assert not any(boardpack._tile_note(k, "USD").endswith("vs month before") for k in pack.kpis)
    figures = {t: (fig, caption) for t, fig, caption in pack.figures}
    money = figures["Where the money goes"]
    assert "Support and infra costs not measured" in money[1]
    # Uploaded data whose definition sets no cost: the pack says its costs are the product's defaults.
    assert "Costs are the product's defaults for a B2B SaaS company" in pack.assumptions
    assert "Costs are the product's defaults" in pack.caveat                 # under the findings too
    page = boardpack.to_html(pack, images=[b""] * len(pack.figures))
    assert page.index(html.escape(pack.caveat)) < page.index("<h2>Segment map</h2>")
    assert page.index("Noted when the files were loaded") < page.index(f"<li>{html.escape(skipped)}</li>") \
        < page.index("<h2>What stands out</h2>")
    assert "Support" not in list(money[0].data[0].x) and "Infra" not in list(money[0].data[0].x)
    assert "Cost to serve" not in figures   # no support cost to draw against revenue
    # nor a "0%" of revenue on support in the table: it was not measured
    assert not pack.support_measured and "<td>0%</td>" not in page and "<td>n/a</td>" in page
    assert pack.thresholds == parse_assumptions(default_definition().economics)   # the verdict's, for the table
    assert pack.revenue_series == "MRR" and "<th>MRR</th>" in boardpack._table(pack.economics_table, "USD")
    assert "<th>Monthly revenue</th>" in boardpack._table(pack.economics_table, "USD", "Monthly revenue")
    # a small sample's net LTV reads as its interval, as on the Unit economics page
    small = pack.economics_table.head(1).assign(small_sample=True, net_ltv_low=1000.0, net_ltv_high=5000.0)
    assert "<td>$1,000 to $5,000</td>" in boardpack._table(small, "USD")
    # Segments in the scheme's order, in the charts and the table.
    order = ["Enterprise", "Mid-market", "SMB", "Self-serve", "Not paying"]
    assert pack.economics_table["segment"].tolist() == [s for s in order if s in set(pack.economics_table["segment"])]
    assert list(figures["Unit economics"][0].data[0].x) == [s for s in order[:-1]
                                                           if s in set(figures["Unit economics"][0].data[0].x)]


def test_the_pack_reads_every_date_s_features_from_one_batched_pass(tmp_path, monkeypatch):
    ws = Workspace(tmp_path / "w.duckdb")
    load_sample(ws)
    con = ws.ibis()
    tables = {n: con.table(n) for n in ws.tables()}
    one_at_a_time = []
    monkeypatch.setattr(boardpack, "customer_features", lambda *args: one_at_a_time.append(args[1]))
    pack = boardpack.collect(tables, date(2026, 11, 1), date(2026, 8, 1), "value_tier", default_definition(),
                             "Q4 board", ws.meta())
    assert one_at_a_time == [] and len(pack.figures) >= 5   # no date scanned on its own


def test_the_table_prints_net_ltv_cac_and_payback_with_the_digits_of_the_verdict_rule():
    """As on the app's verdict cards: 2.0999 reads 2.10x (not a truncated 2.1x or 2.09x), a ratio or payback
    next to a threshold of the definition carries the digits that tell it apart."""
    frame = pd.DataFrame({"segment": ["SMB", "Mid-market"], "customers": [615, 262], "mrr": [219_537.0, 433_848.0],
                          "logo_churn": [0.0305, 0.0124], "net_ltv": [6_300.0, 38_000.0], "cac": [3_000.0, 12_700.0],
                          "net_ltv_cac": [2.0999, 2.9975], "payback_months": [10.0, 18.04],
                          "support_share_of_revenue": [0.12, 0.05], "verdict": ["marginal", "marginal"]})
    table = boardpack._table(frame, "USD", "MRR", parse_assumptions({}))
    assert "<td>2.10x</td><td>10.0 mo</td>" in table and "<td>2.9975x</td><td>18.040 mo</td>" in table
    at_2_1 = boardpack._table(frame, "USD", "MRR", parse_assumptions({"healthy_ltv_cac": 2.1}))
    assert "<td>2.0999x</td>" in at_2_1


def test_the_chart_export_keeps_its_browser_driver_s_ignored_decoding_errors_off_stderr(monkeypatch, caplog):
    """choreographer (kaleido's driver of Chromium) logs a traceback for a message it cannot decode and then
    ignores: a report run printed it on stderr, every image made all the same. Its critical messages, and
    everyone else's logging, still show, and its level is given back."""
    import logging
    import sys
    import types

    fake = types.SimpleNamespace(start_sync_server=lambda **_: None, stop_sync_server=lambda **_: None)
    monkeypatch.setitem(sys.modules, "kaleido", fake)
    pipe = logging.getLogger("choreographer.channels.pipe")

    def to_image(self, **_):
        try:
            raise ValueError("Expecting property name enclosed in double quotes")
        except ValueError:
            pipe.exception("JSONError decoding message. Ignoring")
        pipe.critical("the browser closed its pipe")
        return b"png"

    monkeypatch.setattr(boardpack.go.Figure, "to_image", to_image)
    with caplog.at_level(logging.DEBUG):
        assert boardpack._images([boardpack.go.Figure()]) == [b"png"]
    assert [r.getMessage() for r in caplog.records if r.name.startswith("choreographer")] == [
        "the browser closed its pipe"]
    assert logging.getLogger("choreographer").level == logging.NOTSET


def test_charts_say_which_segments_they_leave_out_for_too_few_paying_customers():
    """Online Retail's Enterprise (15 customers, 14.5% of revenue) went from the pack's charts unsaid; the
    table kept it. A segment nobody pays in (Not paying) is no omission."""
    table = pd.DataFrame({"segment": ["SMB", "Enterprise", "Mid-market", "Not paying"],
                          "paying_customers": [400, 15, 29, 0]})
    assert boardpack._left_out(table, 30) == ("Not drawn, with fewer than 30 paying customers (the table has "
                                              "them): Enterprise, Mid-market.")
    assert boardpack._left_out(table[table["paying_customers"] != 15].head(1), 30) == ""
