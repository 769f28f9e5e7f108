"""The board pack: one self-contained HTML report and a PDF with the numbers a board reads.

KPI tiles, what stands out, the segment map, cohort retention, unit economics by segment, cost to serve
and transitions, stamped with the as-of date, the definition's name and its assumptions. Charts are
rendered to PNG by kaleido (plotly's static export, which drives Debian's Chromium), embedded in the
HTML, and the PDF is Chromium printing that HTML.
"""
from __future__ import annotations

import base64
import html
import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

import charts
from economics.assumptions import (DEFAULT_COSTS_NOTE, Assumptions, costs_are_defaults, describe_assumptions,
                                  parse_assumptions)
from economics.cohorts import CohortParams, cohort_retention
from economics.costs import unmeasured_costs, unmeasured_steps
from economics.findings import CROSS_SCOPE, top_findings
from economics.glossary import BOARD_PACK_TERMS, metric_definitions
from economics.kpis import Kpi, headline_kpis, snapshot_tiles_note
from economics.ledger import add_months, first_churn_month, first_ledger_month, last_complete_month
from economics.mrr import mrr_movements, nrr_grr, revenue_words
from economics.pipeline import assumptions_of, data_defaults, economics_for, history_months, label_dates
from ingest.problems import noted_at_load
from segmentation.definition import Definition
from segmentation.features import customer_features, customer_features_by_date, feature_params
from segmentation.schemes import in_segment_order, segment_order
from segmentation.transitions import CROSS_SCHEME, scheme_labels, transitions_from_features
from ui.format import currency_symbol, kpi_delta, kpi_value, money, net_ltv_text, pct, verdict_months, verdict_ratio

__all__ = ["BoardPack", "collect", "default_title", "to_html", "to_pdf", "chromium_path"]

_WIDTH, _HEIGHT = 1600, 900


@dataclass
class BoardPack:
    """Everything the pack shows; figures are (title, figure, caption)."""

    title: str
    as_of: date
    compare_to: date
    definition_name: str
    assumptions: str
    currency: str
    kpis: list[Kpi]
    findings: list[str]
    figures: list[tuple[str, go.Figure, str]] = field(default_factory=list)
    caveat: str = ""   # under the findings: which segments they compare, what they rest on that nobody set
    economics_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    revenue_series: str = "MRR"   # the monthly series' name: "Monthly revenue" on order data
    definitions: list[tuple[str, str]] = field(default_factory=list)   # (term, what it means), as the app says
    thresholds: Assumptions | None = None   # the verdict's: the table prints net LTV:CAC and payback as its rule
    notes: list[str] = field(default_factory=list)   # what the load warned about, said under the stamp
    support_measured: bool = True   # tickets loaded: without them support's share of revenue is n/a, not 0%


def collect(tables: dict, as_of: date, compare_to: date, scheme: str, defn: Definition, definition_name: str,
            meta: dict, features_at: Callable[[date], pd.DataFrame] | None = None,
            scheme_label: str | None = None, title: str | None = None) -> BoardPack:
    """Compute the pack's numbers and figures from the workspace's ibis tables. `title`: what the pack is
    named after (the company's name; default: default_title(meta))."""
    model = meta.get("revenue_model", "subscription")
    word = revenue_words(model)[0]
    currency = meta.get("currency", "")
    symbol = currency_symbol(currency)
    params = feature_params(defn)
    last = last_complete_month(as_of)
    cache: dict[date, pd.DataFrame] = {}
    if features_at is None:
        # The dates the pack reads (D and the month before, each with its churn window's month starts and
        # the month after them, and compare_to) from one batched pass instead of a feature scan each.
        first = first_ledger_month(tables["ledger"])
        a = assumptions_of(defn)
        first_churn = first and first_churn_month(first, model, a.inactivity_days)
        wanted = {as_of, last, compare_to}
        for d in (as_of, last):
            wanted |= set(label_dates(history_months(d, a.churn_window_months, first_churn)))
        cache.update(customer_features_by_date(tables, sorted(wanted), params, model))

    def feats(d: date) -> pd.DataFrame:
        if d not in cache:
            cache[d] = features_at(d) if features_at else customer_features(tables, d, params, model)
        return cache[d]

    econ = economics_for(tables, as_of, scheme, defn, model, features_at=feats, symbol=symbol)
    prior = economics_for(tables, last, scheme, defn, model, features_at=feats, symbol=symbol)
    cross = economics_for(tables, as_of, CROSS_SCHEME, defn, model, features_at=feats,
                          symbol=symbol) \
        if "channel" in tables["customers"].columns and scheme != CROSS_SCHEME else None
    a = econ.assumptions
    revenue = tables.get("revenue") if model == "transactional" else None
    moves = mrr_movements(tables["ledger"], as_of, model, revenue=revenue, inactivity_days=a.inactivity_days)
    snapshot = meta.get("revenue_shape") == "snapshot"
    kpis = headline_kpis(moves, nrr_grr(tables["ledger"], as_of), nrr_grr(tables["ledger"], last),
                         econ.blended.iloc[0], prior.blended.iloc[0], econ.window, a, model, snapshot=snapshot)
    # What the load warned about (rows skipped, a snapshot's churn) bears on every number: said on the pack too.
    notes = [f"{where}: {message}" if where else message for where, message in noted_at_load(meta, as_of)]
    if snapshot:
        note = snapshot_tiles_note(meta.get("snapshot_date", ""))
        notes.append(note[0].upper() + note[1:] + ".")
    findings = [f.text for f in top_findings([econ.table] + ([cross.table] if cross is not None else []),
                                              econ.blended.iloc[0], symbol, a.min_customers,
                                              revenue_word=word, thresholds=a)]
    name = scheme_label or scheme
    labels_now = feats(as_of)
    order = segment_order(scheme, defn, scheme_labels(labels_now, scheme, defn))
    colors = charts.segment_colors(order)
    # Segments in the scheme's order in every chart and table, as on the pages.
    table = in_segment_order(econ.table, order)
    paying = table[table["paying_customers"] >= a.min_customers]
    text = describe_assumptions(a, symbol, with_verdict=True)
    defaults = (f"{DEFAULT_COSTS_NOTE}."
                if meta.get("source") != "sample" and costs_are_defaults(defn.economics, data_defaults(defn, meta))
                else "")
    assumptions = " ".join(filter(None, [text[0].upper() + text[1:], defaults, unmeasured_costs(tables)]))
    figures: list[tuple[str, go.Figure, str]] = []
    map_table = cross.table if cross is not None else econ.table
    left_out = _left_out(map_table, a.min_customers)
    map_table = map_table[map_table["paying_customers"] >= a.min_customers]
    # Its labels are placed for the exported image's plotting area (the figure less its margins).
    figures.append(("Segment map", charts.segment_map(map_table, currency,
                                                      "Segment map: value tier x acquisition channel"
                                                      if cross is not None else f"Segment map: {name}",
                                                      plot_size=(_WIDTH - 90, _HEIGHT - 160), revenue_word=word,
                                                      thresholds=a),
                    " ".join(filter(None, [f"Bubble size: {word}; colour: verdict.", charts.map_note(map_table),
                                           left_out, assumptions]))))
    # the charts by segment below draw the segments with enough paying customers; the table has them all
    by_segment = " ".join(filter(None, [_left_out(table, a.min_customers), assumptions]))
    cohorts = cohort_retention(tables["ledger"], tables.get("customers"), as_of, CohortParams())
    cohorts = cohorts.assign(cohort=cohorts["cohort"].dt.strftime("%Y-%m"))
    figures.append(("Cohort retention", charts.retention_heatmap(cohorts, "retention",
                                                                 "Logo retention by first-paid month"),
                    "Share of each monthly cohort still paying, by months since its first payment."))
    measured = bool(paying["net_ltv_cac"].notna().any())   # some segment's CAC is known
    if measured:
        ltv = paying.melt(id_vars="segment", value_vars=["net_ltv", "cac"], var_name="measure", value_name="value")
        figures.append(("Unit economics", charts.grouped_bars(ltv, {"net_ltv": "Net LTV", "cac": "CAC"}, currency,
                                                              f"Net LTV against CAC by {name}", "per customer"),
                        by_segment))
        figures.append(("Profitability", charts.quadrant(paying, colors, a),
                        "Healthy corner shaded. " + by_segment))
    else:
        worth, contribution = charts.worth_without_cac(paying, colors, currency, name)
        figures.append(("Unit economics", worth, "CAC, LTV:CAC and payback need spend data. " + by_segment))
        figures.append(("Contribution", contribution, "ARPA x gross margin - support and infra cost per "
                                                      "customer-month. " + by_segment))
    worst = (cross.table if cross is not None else econ.table)
    worst = worst[worst["paying_customers"] >= a.min_customers].sort_values(
        "net_ltv_cac" if measured else "net_ltv").head(1)
    if len(worst):
        from economics.unit import waterfall

        row = worst.iloc[0]
        figures.append(("Where the money goes", charts.waterfall(waterfall(row.to_dict(), unmeasured_steps(tables)),
                                                                 currency, row["segment"]),
                        f"The segment with the lowest net LTV{':CAC' if measured else ''}, per customer over its "
                        f"lifetime. {assumptions}"))
    if "tickets" in tables:   # without tickets every support bar would read 0 (the assumptions say so)
        support = paying.assign(revenue=paying["arpa"]).melt(id_vars="segment",
                                                             value_vars=["revenue", "support_cost_pcm"],
                                                             var_name="measure", value_name="value")
        figures.append(("Cost to serve", charts.grouped_bars(support, {"revenue": "Revenue (ARPA)",
                                                                       "support_cost_pcm": "Support cost"}, currency,
                                                             f"Support cost against revenue by {name}",
                                                             "per customer-month"), by_segment))
    if compare_to < as_of:
        flows = transitions_from_features(feats(compare_to), feats(as_of), scheme, defn)
        figures.append(("Transitions", charts.sankey(flows, colors, f"{name} transitions",
                                                     f"{compare_to:%d %b %Y}", f"{as_of:%d %b %Y}"),
                        f"Thresholds of {compare_to:%d %b %Y} applied at both dates."))
    title = (title or "").strip() or default_title(meta)
    # The tiles' definitions (their help on the Overview), then the table's other columns.
    define = metric_definitions(a, model, symbol)
    definitions = ([(f"Segments: {name}", _segments_text(scheme, defn, currency, model))]
                   + [(k.label, k.help) for k in kpis]
                   + [(name, define[col]) for col, name in BOARD_PACK_TERMS.items()])
    return BoardPack(title=title, as_of=as_of, compare_to=compare_to, definition_name=definition_name,
                     assumptions=assumptions, currency=currency, kpis=kpis, findings=findings, figures=figures,
                     caveat=" ".join(filter(None, [
                         CROSS_SCOPE if cross is not None else "",
                         defaults and f"{defaults} Net LTV, contribution and the verdicts depend on them."])),
                     economics_table=table, revenue_series=revenue_words(model)[1], definitions=definitions,
                     thresholds=a, notes=notes, support_measured="tickets" in tables)


def _bands_text(bands, fmt: Callable[[float], str]) -> str:
    """Bands [lower, upper) in words: "SMB: 1,000 to under 10,000; Enterprise: 50,000 and over"."""
    def one(b) -> str:
        if math.isinf(b.upper):
            return f"{b.label}: {fmt(b.lower)} and over"
        return f"{b.label}: under {fmt(b.upper)}" if b.lower == 0 else \
            f"{b.label}: {fmt(b.lower)} to under {fmt(b.upper)}"
    return "; ".join(one(b) for b in bands)


def _segments_text(scheme: str, defn: Definition, currency: str, model: str) -> str:
    """The thresholds the pack's segments were drawn with, in words: a board reading "Mid-market" sees where
    it starts (an edited definition's tiers change every count in the pack)."""
    parts = []
    for part in scheme.split("+")[:2]:
        if part == "value_tier":
            measure = "annual revenue (the 12 complete months)" if model == "transactional" else \
                "ARR (12 x MRR of the last complete month)"
            parts.append(f"By {measure}: " + _bands_text(defn.value_tier.bands, lambda v: money(
                v, currency, compact=False, cents=False)) + f"; without revenue: {defn.value_tier.not_paying_label}.")
        elif part == "lifecycle":
            parts.append("By tenure: " + _bands_text(defn.lifecycle.bands, lambda v: f"{v:,.0f} days")
                         + f"; churned customers: {defn.lifecycle.lapsed_label}.")
        elif part == "health_band":
            weights = ", ".join(f"{k} {w:g}" for k, w in defn.health.weights if w > 0)
            parts.append(f"By health score 0-100 (weights: {weights}): "
                         + _bands_text(defn.health.bands, lambda v: f"{v:g}") + ".")
        elif part == "behavior":
            b = defn.behavior
            parts.append(f"New: tenure under {b.new_days} days; Dormant: no activity for {b.dormant_days} days; of "
                         f"the others, Power: the top {b.power_top_pct:g}% by active days in the last 30 days, Light: "
                         f"the bottom {b.light_bottom_pct:g}%, Active: the rest.")
        elif part == "size_band":
            parts.append("By employees: " + _bands_text(defn.firmographic.size_bands, lambda v: f"{v:,.0f}") + ".")
        elif part == "rfm_segment":
            parts.append("By RFM scores 1-5 (recency, frequency, monetary, each a rank among active customers), "
                         "each of the 125 codes named by the definition's map.")
        elif part == "custom":
            parts.append("By rules, the first that matches: " + "; ".join(
                f"{r.name}: {r.expr}" for r in defn.custom.rules) + f"; everyone else: {defn.custom.default_label}.")
        else:
            parts.append(f"{'Split' if parts else 'By'} the customers' own {part.replace('_', ' ')} values.")
    return " ".join(parts)


def default_title(meta: dict) -> str:
    """The pack's title when nobody names it: the sample company's name, else "Segment economics"."""
    return "Northwind Analytics (sample company)" if meta.get("source") == "sample" else "Segment economics"


def _left_out(table: pd.DataFrame, min_customers: int) -> str:
    """Which paying segments a chart leaves out for having fewer than `min_customers` paying customers ("" when
    none): Online Retail's Enterprise (14.5% of revenue, 15 customers) went from the charts unsaid."""
    few = table[(table["paying_customers"] > 0) & (table["paying_customers"] < min_customers)]["segment"]
    return (f"Not drawn, with fewer than {min_customers} paying customers (the table has them): "
            f"{', '.join(map(str, few))}." if len(few) else "")


def chromium_path() -> str | None:
    """Debian's Chromium (kaleido and the PDF print use it)."""
    return os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


def _images(figures: list[go.Figure]) -> list[bytes]:
    import kaleido

    if chromium_path():
        os.environ.setdefault("BROWSER_PATH", chromium_path())
    # kaleido's browser driver logs a traceback for a message from Chromium it could not decode and then
    # ignores (choreographer's "JSONError decoding message. Ignoring", seen on a busy machine): noise on the
    # report command's stderr and in a scheduled job's log, every image made all the same. Its critical
    # messages still show.
    chatter = logging.getLogger("choreographer")
    level = chatter.level
    chatter.setLevel(logging.CRITICAL)
    kaleido.start_sync_server(silence_warnings=True)
    try:
        with warnings.catch_warnings():  # plotly warns that a running server ignores per-call options
            warnings.simplefilter("ignore", UserWarning)
            return [fig.to_image(format="png", width=_WIDTH, height=_HEIGHT) for fig in figures]
    finally:
        kaleido.stop_sync_server(silence_warnings=True)
        chatter.setLevel(level)


def _md(text: str) -> str:
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", html.escape(text))


def _table(frame: pd.DataFrame, currency: str, revenue_series: str = "MRR", thresholds: Assumptions | None = None,
           support_measured: bool = True) -> str:
    """The economics by segment; net LTV:CAC and payback with the digits of the verdict's rule under
    `thresholds` (the default assumptions when None), as the app's verdict cards print them: 2.10x where the
    rule reads 2.10, 2.9975x beside a 3x threshold, not 2.1x or 2.9x."""
    a = thresholds if thresholds is not None else parse_assumptions({})
    rows = []
    for _, r in frame.iterrows():
        rows.append("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in (
            r["segment"], f"{int(r['customers']):,}", money(r["mrr"], currency), pct(r["logo_churn"]),
            net_ltv_text(r, currency), money(r["cac"], currency), verdict_ratio(r["net_ltv_cac"], a),
            verdict_months(r["payback_months"], a),
            pct(r["support_share_of_revenue"], 0) if support_measured else "n/a", r["verdict"])) + "</tr>")
    head = "".join(f"<th>{h}</th>" for h in ("Segment", "Customers", revenue_series, "Monthly churn", "Net LTV",
                                             "CAC", "Net LTV:CAC", "Payback", "Support % of revenue", "Verdict"))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _definitions(terms: list[tuple[str, str]]) -> str:
    if not terms:
        return ""
    rows = "".join(f"<tr><th>{html.escape(t)}</th><td>{html.escape(d)}</td></tr>" for t, d in terms)
    return ("<section class='defs'><h2>How these numbers are defined</h2><table>"
            f"{rows}</table><p class='stamp'>Calendar months; monthly figures use complete months only. "
            "Churn, MRR movements, ARPA and NRR follow ChartMogul's published conventions."
            "</p></section>")


_CSS = """
body{font-family:Inter,Helvetica,Arial,sans-serif;color:#111827;margin:32px;}
h1{font-size:26px;margin:0} h2{font-size:19px;margin:28px 0 8px;page-break-after:avoid}
.stamp{color:#4b5563;font-size:13px;margin:6px 0 18px}
.tiles{display:grid;grid-template-columns:repeat(4,1fr);gap:10px}
.tile{border:1px solid #e5e7eb;border-radius:8px;padding:10px 12px}
.tile .l{font-size:12px;color:#4b5563}.tile .v{font-size:24px;margin-top:2px}.tile .d{font-size:12px;color:#4b5563}
.finding{border-left:4px solid #2563eb;background:#f8fafc;padding:8px 12px;margin:8px 0;font-size:14px}
figure{margin:10px 0 18px;page-break-inside:avoid} img{width:100%;border:1px solid #f1f5f9}
figcaption{font-size:12px;color:#4b5563;margin-top:4px}
table{border-collapse:collapse;font-size:12px;width:100%;page-break-inside:avoid}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 6px;text-align:right} th:first-child,td:first-child{text-align:left}
.defs{page-break-inside:avoid} .defs th,.defs td{text-align:left;vertical-align:top}
.defs th{white-space:nowrap;padding-right:16px;font-weight:600}
@page{size:A4 landscape;margin:12mm}
"""


def _tile_note(k: Kpi, currency: str) -> str:
    """Under a tile's value: why it is n/a, or its change against the month before."""
    if k.missing:
        return k.missing
    delta = kpi_delta(k.kind, k.value, k.before, currency)
    return f"{delta} vs month before" if delta else ""


def to_html(pack: BoardPack, images: list[bytes] | None = None) -> str:
    """The pack as one self-contained HTML page (charts embedded as PNG)."""
    images = images if images is not None else _images([f for _, f, _ in pack.figures])
    last = last_complete_month(pack.as_of)
    stamp = (f"As of {pack.as_of:%d %B %Y} (data strictly before this date) · last complete month {last:%B %Y}, "
             f"the tiles' changes against {add_months(last, -1):%B %Y} · transitions from "
             f"{pack.compare_to:%d %B %Y} · definition “{html.escape(pack.definition_name)}” · generated "
             f"{datetime.now(timezone.utc):%d %b %Y %H:%M} UTC")
    tiles = "".join(
        f"<div class='tile'><div class='l'>{html.escape(k.label)}</div><div class='v'>"
        f"{html.escape(kpi_value(k.kind, k.value, pack.currency))}</div><div class='d'>"
        f"{html.escape(_tile_note(k, pack.currency))}</div></div>"
        for k in pack.kpis)
    findings = "".join(f"<div class='finding'>{_md(t)}</div>" for t in pack.findings)
    table = _table(pack.economics_table, pack.currency, pack.revenue_series, pack.thresholds, pack.support_measured)
    notes = ("<div class='stamp'><b>Noted when the files were loaded:</b><ul>"
             + "".join(f"<li>{html.escape(n)}</li>" for n in pack.notes) + "</ul></div>") if pack.notes else ""
    caveat = f"<p class='stamp'>{html.escape(pack.caveat)}</p>" if pack.caveat else ""
    figures = "".join(
        f"<h2>{html.escape(title)}</h2><figure><img alt='{html.escape(title)}' "
        f"src='data:image/png;base64,{base64.b64encode(img).decode()}'/><figcaption>{html.escape(caption)}"
        "</figcaption></figure>"
        for (title, _, caption), img in zip(pack.figures, images))
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(pack.title)} board pack "
            f"{pack.as_of:%Y-%m-%d}</title><style>{_CSS}</style></head><body>"
            f"<h1>{html.escape(pack.title)}: board pack</h1><div class='stamp'>{stamp}</div>{notes}"
            f"<div class='tiles'>{tiles}</div><h2>What stands out</h2>{findings}{caveat}{figures}"
            f"<h2>Unit economics by segment</h2>{table}"
            f"<p class='stamp'>Assumptions: {html.escape(pack.assumptions)}</p>"
            f"{_definitions(pack.definitions)}</body></html>")


def to_pdf(page: str) -> bytes:
    """Print the HTML to PDF with headless Chromium."""
    browser = chromium_path()
    if browser is None:
        raise RuntimeError("The PDF needs Chromium: install it with `apt-get install -y chromium`.")
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "pack.html", Path(tmp) / "pack.pdf"
        source.write_text(page, encoding="utf-8")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        "--disable-background-networking", "--no-first-run", f"--print-to-pdf={target}",
                        source.as_uri()], check=True, capture_output=True, timeout=120)
        return target.read_bytes()
