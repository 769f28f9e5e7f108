"""The headless report: `python -m economics report --data DIR --out DIR`, for scheduled refreshes.

Reads a folder of exports named after the contract tables, validates them as the app does, computes the
report (economics.report.build_report) and writes one formula-safe CSV per table, with report.json saying
what the run was; the files of a run replace the previous run's together. Exit codes: 0 done
(warnings on stderr), 2 invalid input (the problems on stderr, nothing written).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Sequence, TextIO

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["main", "parser", "EXIT_OK", "EXIT_INVALID"]

_HORIZON_DAYS = 90   # the churn model's horizon for at_risk.csv

EXIT_OK = 0
EXIT_INVALID = 2

_DESCRIPTION = """\
Write the segment economics report of a folder of exports as CSV files.

The folder holds one file per table, named after the table: customers, revenue, events, tickets, spend,
nps (.csv, .csv.gz, .parquet or .xlsx), any subset that includes revenue. A revenue file alone works,
e.g. an order export with customer_id, date, amount. Files are validated as the dashboard validates
uploads: on an error the problems are printed to stderr, nothing is written and the exit code is 2;
warnings are printed to stderr and the report is written.

Files written to --out:
  customers.csv          customer_id, the features (their `cohort` is the signup month), and every
                         segment label and score
  cohort_retention.csv   cohort (the first paid month, YYYY-MM), period, cohort_size, active,
                         retention, revenue, revenue_retention, gross_revenue_retention, complete
  segment_economics.csv  scheme, segment, the unit economics and the assumptions used
  mrr_movements.csv      month and the MRR movements
  transitions.csv        with --compare-to: scheme, from_segment, to_segment, customers, mrr_from, mrr_to
  at_risk.csv            customer_id, probability, top_drivers, mrr: paying customers (on order data:
                         not churned yet by the inactivity rule) whose churn
                         probability within 90 days is at least --risk-threshold (the churn model,
                         trained on the latest fully observed window; skipped with a note when the
                         history is too short or has too few churners)
  board_pack.html/.pdf   with --board-pack: KPIs, findings, segment map, cohorts, unit economics, cost to
                         serve and transitions, stamped with the date and the definition (needs Chromium);
                         --title names it (the company's name)
  report.json            the run: generated_at, data, as_of, last_complete_month, compare_to,
                         revenue_model, definition, config, schemes, definitions (what each
                         column of segment_economics.csv means) and the files written with their rows

The files of one run replace the previous run's together (each is written under a temporary name and
renamed when all are done): a run that fails leaves the folder as it was. A CSV the previous run's
report.json lists that this run does not write (transitions.csv without --compare-to, at_risk.csv when the
model cannot be trained) is removed, so the folder never mixes two runs' tables; other files are left
alone (a board pack carries its date and stays until a run with --board-pack replaces it).

When every file is Parquet (or with --scan) the files are scanned in place by DuckDB instead of being
loaded into memory, for data too large for pandas.
"""

_EPILOG = """\
examples:
  python -m economics report --data exports/ --out report/
  python -m economics report --data exports/ --out report/ --config segments.toml --as-of 2026-11-01 \\
      --compare-to 2026-08-01 --schemes value_tier,behavior
"""


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it as YYYY-MM-DD.") from None


def parser() -> argparse.ArgumentParser:
    """The command-line parser (one sub-command, `report`)."""
    top = argparse.ArgumentParser(prog="python -m economics", description="Segment economics, headless.")
    sub = top.add_subparsers(dest="command", required=True, metavar="report")
    p = sub.add_parser("report", help="write the report CSVs of a folder of exports",
                       description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", required=True, type=Path, metavar="DIR",
                   help="folder of exports named after the tables (revenue.csv, events.parquet, ...)")
    p.add_argument("--out", required=True, type=Path, metavar="DIR",
                   help="folder to write the files to (created if missing; the previous run's files are replaced)")
    p.add_argument("--config", type=Path, metavar="FILE",
                   help="segment definition TOML (thresholds, rules, economics assumptions); keys left out "
                        "take the shipped defaults (segmentation/defaults.toml)")
    p.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD",
                   help="the as-of date D: only data before D is used (default: the day after the data's "
                        "latest date)")
    p.add_argument("--compare-to", type=_day, metavar="YYYY-MM-DD",
                   help="an earlier date: also write transitions.csv, segments from this date to D")
    p.add_argument("--snapshot-date", type=_day, metavar="YYYY-MM-DD",
                   help="the export day of a CRM snapshot revenue file (tenure_months, mrr, churned)")
    p.add_argument("--schemes", metavar="a,b",
                   help="comma-separated scheme keys for segment economics and transitions, e.g. "
                        "value_tier,behavior or value_tier+channel (default: every available scheme)")
    p.add_argument("--risk-threshold", type=float, default=0.3, metavar="P",
                   help="churn probability from which a customer is listed in at_risk.csv (default 0.3)")
    p.add_argument("--board-pack", action="store_true",
                   help="also write board_pack.html and board_pack.pdf (the dashboard's board pack)")
    p.add_argument("--title", metavar="TEXT",
                   help="with --board-pack: the pack's title, e.g. the company's name (default: Segment economics)")
    p.add_argument("--scan", action="store_true",
                   help="scan the files in place with DuckDB (Parquet only); automatic when all are Parquet")
    p.add_argument("--memory-limit", default=None, metavar="SIZE",
                   help="DuckDB memory limit, e.g. 2GB (default: DuckDB's own)")
    p.add_argument("--threads", type=int, default=None, metavar="N", help="DuckDB threads (default: all cores)")
    return top


def _fail(message: str, err: TextIO) -> int:
    print(message, file=err)
    return EXIT_INVALID


def _report(args: argparse.Namespace, err: TextIO) -> int:
    from economics.report import build_report
    from ingest.export import ReportFolder
    from segmentation.definition import DefinitionError, default_definition, load_definition
    from segmentation.models import MODEL_COLUMNS, training_date
    from segmentation.schemes import available_schemes

    if not args.data.is_dir():
        return _fail(f"error: --data {args.data} is not a folder; give the folder that holds the exports.", err)
    if args.config is not None:
        try:
            defn = load_definition(args.config.read_text(encoding="utf-8"))
        except OSError as exc:
            return _fail(f"error: --config {args.config}: cannot read the file ({exc.strerror}).", err)
        except DefinitionError as exc:
            return _fail(f"error: --config {args.config}: {exc}", err)
    else:
        defn = default_definition()

    from ingest.problems import data_end_note
    from ingest.scan import is_parquet_folder, memory_tables

    started = time.perf_counter()
    if args.scan or is_parquet_folder(args.data):
        from ingest.scan import ScanOptions, scan_folder

        if args.snapshot_date is not None:
            return _fail("error: --snapshot-date applies to CSV snapshot exports; a scanned Parquet folder "
                         "needs invoice or subscription revenue.", err)
        tables, meta, problems = scan_folder(args.data, ScanOptions(memory_limit=args.memory_limit,
                                                                    threads=args.threads))
    else:
        from ingest.load import LoadOptions, load_folder

        result = load_folder(None, args.data, LoadOptions(snapshot_date=args.snapshot_date))
        problems, meta = result.problems, result.meta
        tables = memory_tables(result.tables, args.memory_limit, args.threads) if result.ok else {}
        if not result.ok and not problems.has_errors:  # no revenue among the files
            problems.error("", "revenue", "", "No revenue file was found in the folder: name it revenue.csv "
                           "(or .csv.gz, .parquet, .xlsx).")
    if args.as_of is not None and meta and args.as_of < date.fromisoformat(meta["default_as_of"]):
        # The data's last month is not this run's: it names its own months (report.json, the note below).
        problems.items = [p for p in problems.items if p.message != data_end_note(meta)]
    if problems.items:
        print(problems.text(), file=err)
    if meta:   # as a load into the app keeps them: the board pack repeats them (ingest.problems.noted_at_load)
        meta = {**meta, "warnings": json.dumps([{"file": p.file, "column": p.column, "message": p.message}
                                                for p in problems.items if p.severity == "warning"])}
    if problems.has_errors:
        return _fail(f"error: {args.data} did not validate; nothing was written.", err)
    from economics.pipeline import for_data

    defn = for_data(defn, meta)   # what the definition leaves to the data (a snapshot's churn window)
    cost_notes = _cost_notes(defn, tables, meta)   # on stderr now, in report.json's notes at the end
    for note in cost_notes:
        print(f"note: {note}", file=err)
    columns = list(tables["customers"].columns)
    absent = [a for a in defn.firmographic.attributes if a not in columns]
    if absent:
        print(f"note: no customers column is named {' or '.join(map(repr, absent))}, which the definition's "
              f"[firmographic] attributes list, so nothing is segmented by it; the customers columns: "
              f"{', '.join(columns)}.", file=err)

    default_as_of = date.fromisoformat(meta["default_as_of"])
    as_of = args.as_of or default_as_of
    if as_of <= date.fromisoformat(meta["min_date"]) or as_of > max(default_as_of, date.today() + timedelta(days=1)):
        return _fail(f"error: --as-of {as_of} is outside the data, which runs from {meta['min_date']} to "
                     f"{meta['max_date']}: give a date after the first and at most tomorrow (default "
                     f"{default_as_of}, the day after the latest date).", err)
    if args.compare_to is not None and args.compare_to >= as_of:
        return _fail(f"error: --compare-to {args.compare_to} must be before the as-of date {as_of}.", err)
    if as_of < default_as_of:
        tables = _as_known_on(tables, as_of, meta["revenue_model"], err)
    schemes = None
    if args.schemes:
        schemes = [s.strip() for s in args.schemes.split(",") if s.strip()]
        usable = available_schemes(list(tables["customers"].columns), defn)
        unknown = [p for s in schemes for p in s.split("+") if p not in usable]
        if unknown:
            return _fail(f"error: --schemes: unknown or unavailable scheme {unknown[0]!r}; this data and "
                         f"definition support {', '.join(usable)} (combine two with '+').", err)

    if args.title is not None and not args.board_pack:
        return _fail("error: --title names the board pack: add --board-pack, or leave out --title; nothing was "
                     "written.", err)
    if args.board_pack:
        from boardpack import chromium_path

        if chromium_path() is None:
            return _fail("error: --board-pack prints the PDF with Chromium, which was not found: install it "
                         "(apt-get install -y chromium) or leave out --board-pack; nothing was written.", err)
    created = not args.out.exists()
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return _fail(f"error: --out {args.out}: cannot create the folder ({exc.strerror or exc}).", err)
    problem = None
    try:
        # Each CSV is written as soon as its frame is final (customers.csv while the rest is computed); the
        # files take their names together, with the manifest report.json.
        with ReportFolder(args.out) as folder:
            # The churn model (at_risk.csv) trains on the features at a month start the report computes.
            trains_on = {training_date(as_of, _HORIZON_DAYS): MODEL_COLUMNS}
            frames = build_report(tables, as_of, defn, meta["revenue_model"], compare_to=args.compare_to,
                                  schemes=schemes, ready=lambda name, frame: folder.write(f"{name}.csv", frame),
                                  features_for=trains_on, snapshot=meta.get("revenue_shape") == "snapshot")
            at_risk = _at_risk(tables, as_of, defn, meta, frames, args, err)
            if at_risk is not None:
                folder.write("at_risk.csv", at_risk)
            if args.board_pack:
                for name, data in _board_pack(tables, as_of, args, defn, meta, schemes).items():
                    folder.write_bytes(name, data)
            written, removed = folder.commit(_about(args, as_of, defn, meta, frames, cost_notes))
    except ValueError as exc:  # e.g. a custom rule naming a column this data lacks
        problem = str(exc)
    except OSError as exc:  # writing a file: a full disk, no permission
        problem = f"cannot write to {args.out} ({exc.strerror or exc})"
    if problem is not None:
        if created and not any(args.out.iterdir()):
            args.out.rmdir()
        return _fail(f"error: {problem}; nothing was written.", err)
    if removed:
        print(f"removed {', '.join(removed)}: written by the previous run into {args.out}, not by this one",
              file=err)
    print(f"wrote {', '.join(written)} to {args.out} (as of {as_of}, {meta['revenue_model']} revenue, "
          f"{time.perf_counter() - started:.1f} s)", file=err)
    return EXIT_OK


def _as_known_on(tables: dict, as_of: date, revenue_model: str, err: TextIO) -> dict:
    """The tables as known on an as-of date before the data's default (economics.ledger.tables_as_of), the
    ledger and the customers kept as tables of the report's own in-memory database; says what was left out."""
    from economics.ledger import REBUILT_AS_OF, last_complete_month, late_revenue, tables_as_of
    from ingest.problems import partial_month_message

    later, earlier = late_revenue(tables["revenue"], as_of)
    if later:
        print(f"note: as of {as_of}, {later:,} revenue row(s) dated on or after it are left out (not known yet)"
              + (f"; {earlier:,} of them pay for service before it (refunds, or invoices billed in arrears), so "
                 "those months read lower than they will." if earlier else "."), file=err)
    if as_of.day != 1:   # as the load says of data ending inside a month
        print("note: " + partial_month_message(as_of.replace(day=1), as_of - timedelta(days=1),
                                               last_complete_month(as_of), revenue_model), file=err)
    known = tables_as_of(tables, as_of)
    con = known["revenue"]._find_backend()
    return {**known, **{name: con.create_table(f"{name}_as_of", known[name]) for name in REBUILT_AS_OF
                        if name in known}}


def _about(args: argparse.Namespace, as_of: date, defn, meta: dict, frames: dict, cost_notes: list[str]) -> dict:
    """What report.json says of the run, beside its files."""
    from economics.glossary import movement_definitions, snapshot_history
    from economics.ledger import last_complete_month
    from economics.pipeline import assumptions_of

    economics = frames.get("segment_economics")
    # What the load warned about, and on a CRM snapshot what its history is (the app's pages say both).
    notes = [w["message"] for w in json.loads(meta.get("warnings") or "[]")] + cost_notes
    if meta.get("revenue_shape") == "snapshot":
        notes.append(snapshot_history(meta.get("snapshot_date") or meta["max_date"]) + " Cohort retention and the "
                     "movements of earlier months show no churn: read churn from the snapshot's month.")
    return {
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": str(args.data.resolve()),
        "as_of": as_of.isoformat(),
        "last_complete_month": last_complete_month(as_of).strftime("%Y-%m"),
        "compare_to": args.compare_to.isoformat() if args.compare_to else None,
        "revenue_model": meta["revenue_model"],
        "definition": defn.meta.name,
        "config": str(args.config.resolve()) if args.config else None,
        "schemes": [] if economics is None else list(dict.fromkeys(economics["scheme"])),
        # What segment_economics.csv's columns mean, in its order, with this run's assumptions (the app's
        # words; amounts in the data's currency, as in the CSV).
        "definitions": {} if economics is None else _column_definitions(economics.columns, defn, meta),
        "mrr_movements_definitions": movement_definitions(assumptions_of(defn), meta["revenue_model"]),
        "notes": notes,
    }


def _cost_notes(defn, tables, meta: dict) -> list[str]:
    """What the costs in net LTV and the verdicts rest on, as the pages and the board pack say it: the
    defaults when the definition sets no cost, and the costs no loaded table measures."""
    from economics.assumptions import DEFAULT_COSTS_NOTE, costs_are_defaults, default_costs
    from economics.costs import unmeasured_costs
    from economics.pipeline import data_defaults

    notes, data = [], data_defaults(defn, meta)
    if costs_are_defaults(defn.economics, data):
        notes.append(f"{DEFAULT_COSTS_NOTE}: {default_costs('', tables, data)}. Net LTV, contribution and every "
                     "verdict depend on them: set yours in the definition's [economics] table (--config).")
    if unmeasured := unmeasured_costs(tables):
        notes.append(unmeasured)
    return notes


def _column_definitions(columns, defn, meta: dict) -> dict[str, str]:
    from economics.glossary import SNAPSHOT_RETENTION, metric_definitions
    from economics.pipeline import assumptions_of

    define = {"scheme": "The segmentation scheme (a key of the definition file; 'a+b' combines two).",
              **metric_definitions(assumptions_of(defn), meta["revenue_model"], symbol=""),
              "window_first": "First month of the churn window (YYYY-MM).",
              "window_last": "Last month of the churn window: the last complete month.",
              "assumptions": "The assumptions used (the definition file's [economics] table, defaults filled in)."}
    if meta.get("revenue_shape") == "snapshot":   # build_report leaves them empty
        define.update(nrr=SNAPSHOT_RETENTION, grr=SNAPSHOT_RETENTION)
    return {c: define[c] for c in columns}


def _at_risk(tables, as_of: date, defn, meta: dict, frames: dict, args: argparse.Namespace,
             err: TextIO) -> pd.DataFrame | None:
    """The table of at_risk.csv from the churn model, or None after saying why there is no model."""
    from economics.mrr import in_revenue_words
    from segmentation.features import current_customers, feature_params
    from segmentation.models import at_risk_table, fit_churn_model, score_churn

    known = frames.get("features_at")
    model = fit_churn_model(tables, as_of, _HORIZON_DAYS, feature_params(defn), meta["revenue_model"],
                            features=None if known is None else known.drop(columns="as_of"))
    if not model.enough_data:
        print(f"note: at_risk.csv not written: {model.reason}", file=err)
        return None
    current = current_customers(frames["customers"])   # as the Risk page: not those the inactivity rule lost already
    table = at_risk_table(score_churn(model, current), current, args.risk_threshold)
    return table.assign(top_drivers=table["top_drivers"].map(lambda t: in_revenue_words(t, meta["revenue_model"])))


def _board_pack(tables, as_of: date, args: argparse.Namespace, defn, meta: dict, schemes) -> dict[str, bytes]:
    """The files of the board pack: board_pack.html and board_pack.pdf."""
    import boardpack
    from economics.ledger import add_months
    from segmentation.schemes import scheme_name

    compare_to = args.compare_to or add_months(as_of.replace(day=1), -3)
    scheme = (schemes or ["value_tier"])[0]
    pack = boardpack.collect(tables, as_of, compare_to, scheme, defn, defn.meta.name, meta,
                             scheme_label=scheme_name(scheme, meta["revenue_model"]), title=args.title)
    page = boardpack.to_html(pack)
    try:
        pdf = boardpack.to_pdf(page)
    except (RuntimeError, subprocess.SubprocessError) as exc:  # Chromium missing, crashed or stuck
        raise ValueError(f"Chromium could not print board_pack.pdf ({exc})") from exc
    return {"board_pack.html": page.encode("utf-8"), "board_pack.pdf": pdf}


def main(argv: Sequence[str] | None = None, err: TextIO | None = None) -> int:
    """Run the command line; returns the exit code (argparse usage errors exit 2 via SystemExit)."""
    args = parser().parse_args(argv)
    return _report(args, err or sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
