"""The headless report as frames: customers with labels, cohorts, segment economics for every scheme, MRR movements.

`build_report` is pure (tables in, frames out); the CLI (`python -m economics report`) reads the files,
calls it and writes one CSV per frame. Segment economics go through `economics.pipeline.economics_inputs`
(the path the dashboard uses too), with one feature scan per date shared by every scheme.
"""
from __future__ import annotations

import json
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from typing import Any, Callable, Mapping, Sequence

import ibis.expr.types as ir
import pandas as pd

from economics.assumptions import Assumptions, assumptions_to_dict, parse_assumptions
from economics.cohorts import CohortParams, cohort_retention
from economics.ledger import as_date, first_churn_month, first_ledger_month
from economics.mrr import mrr_movements
from economics.unit import ECONOMICS_COLUMNS, economics_base, segment_economics, window_status
from segmentation.features import beside_connection

__all__ = ["build_report", "REPORT_FILES"]

REPORT_FILES: tuple[str, ...] = ("customers", "cohort_retention", "segment_economics", "mrr_movements",
                                 "transitions")


def build_report(tables: Mapping[str, ir.Table], as_of: date, defn: Any, revenue_model: str,
                 compare_to: date | None = None, schemes: list[str] | None = None,
                 ready: Callable[[str, pd.DataFrame], None] | None = None,
                 features_for: Mapping[date, Sequence[str]] | None = None,
                 snapshot: bool = False) -> dict[str, pd.DataFrame]:
    """The report's frames, keyed like REPORT_FILES (transitions only with compare_to).

    customers: features at D and every label column (label_all), recency_days, frequency, monetary.
    cohort_retention: cohort (YYYY-MM), period, cohort_size, active, retention, revenue,
    revenue_retention, gross_revenue_retention, complete (revenue basis, monthly).
    segment_economics: scheme, segment, ECONOMICS_COLUMNS, window_first, window_last, assumptions (JSON);
    one row per segment of every available scheme plus an "All customers" row per scheme.
    mrr_movements: month (YYYY-MM) and the movements (economics.mrr.MOVEMENT_COLUMNS).
    transitions: scheme, from_segment, to_segment, customers, mrr_from, mrr_to, from compare_to to D.

    `schemes` limits segment economics and transitions to those scheme keys (default: every available
    scheme). `ready`, when given, is called with (name, frame) for each frame of REPORT_FILES as soon as it
    is final: customers before the segment economics are computed (the CLI starts writing it meanwhile),
    the others at the end; no frame is changed afterwards. `features_for`: dates whose customer features
    the caller needs too, each with the columns it needs (active users counted), returned as `features_at`
    (a first column as_of, then the features of each date in turn); the month starts among them cost no
    scan more (the CLI's churn model trains on one). `snapshot`: the revenue is a CRM snapshot, whose export
    holds nobody who left before its month: NRR and GRR are left empty, as the Overview reads them
    (economics.kpis.headline_kpis).
    Cost: customer features at D, at each month start of the churn window and at compare_to,
    with the all-history event scan done once for all of them (customer_features_at); every scheme is
    labelled once per date (label_all) and the labels are shared, and what segment economics read apart
    from the segments is computed once (economics.unit.economics_base). On DuckDB tables a second
    connection can see (segmentation.features.second_connection), the engine works beside Python: the
    queries that need no features run on one more connection while the dates are labelled, the next dates'
    scans on another (customer_features_at's `beside`); the frames are the same as in turn.
    """
    from segmentation.schemes import available_schemes

    as_of = as_date(as_of)
    a = parse_assumptions(getattr(defn, "economics", {}) or {})
    customers_cols = list(tables["customers"].columns) if "customers" in tables else []
    usable = available_schemes(customers_cols, defn)
    schemes = usable if schemes is None else [s for s in schemes if s in usable or "+" in s]
    # Two more connections to the tables' database, when they can have them: one for the queries that
    # need no features, one for the features' scans of the next dates (customer_features_at's `beside`).
    with beside_connection(tables) as jobs, beside_connection(tables) as scans, \
            ThreadPoolExecutor(max_workers=1) as pool:
        beside = (jobs, scans) if jobs is not None and scans is not None else None
        return _build(tables, as_of, defn, revenue_model, a, compare_to, schemes, usable, ready,
                      features_for, snapshot, pool if beside else None, beside)


def _build(tables: Mapping[str, ir.Table], as_of: date, defn: Any, revenue_model: str, a: Assumptions,
           compare_to: date | None, schemes: list[str], usable: list[str],
           ready: Callable[[str, pd.DataFrame], None] | None, features_for: Mapping[date, Sequence[str]] | None,
           snapshot: bool, pool: ThreadPoolExecutor | None,
           beside: tuple[Mapping[str, ir.Table], Mapping[str, ir.Table]] | None) -> dict[str, pd.DataFrame]:
    """build_report's work. With a `pool` and `beside` (the tables on two more connections), the queries
    that need no features (the shared inputs of segment economics, cohorts, MRR movements) run in the
    pool's thread on the first, and the features' scans of the next dates on the second, while this
    thread builds and labels the features; without, everything runs here in turn."""
    from economics.pipeline import _inputs, _Shared, history_months, label_dates
    from segmentation.features import customer_features, customer_features_at, feature_params, without_activity
    from segmentation.schemes import label_all, reads_activity, reads_users, segment_order
    from segmentation.transitions import combined_labels, scheme_labels

    def alongside(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Future:
        if pool is not None:
            return pool.submit(fn, *args, **kwargs)
        done: Future = Future()
        done.set_result(fn(*args, **kwargs))
        return done

    def shared_inputs() -> _Shared:
        # With what economics_base reads of the engine computed too (kept for these very frames).
        made = _Shared(jobs, as_of, defn, revenue_model, a)
        window_status(made.ledger, made.revenue, as_of, revenue_model, a,
                      jobs["ledger"]._find_backend() if pool is not None else None)
        return made

    jobs, scans = beside if beside is not None else (tables, None)
    pending: dict[str, Future | None] = {}

    def start_jobs() -> None:
        # Once the first date's frame is there: its scans had the engine's two cores to themselves.
        if not pending:
            pending.update(
                shared=alongside(shared_inputs) if schemes else None,
                cohorts=alongside(cohort_retention, jobs["ledger"], jobs.get("customers"), as_of, CohortParams()),
                movements=alongside(mrr_movements, jobs["ledger"], as_of, revenue_model,
                                    inactivity_days=a.inactivity_days,
                                    revenue=jobs.get("revenue") if revenue_model == "transactional" else None))

    params = feature_params(defn)
    labels_cache: dict[date, pd.DataFrame] = {}

    # Label columns kept at the month starts: those the schemes read (not the scores: memory at 1M).
    needed = {part for s in (schemes or []) for part in s.split("+")[:2]}

    def labels_of(d: date, feats_d: pd.DataFrame | None = None) -> pd.DataFrame:
        # One feature scan and one labelling (label_all: every scheme, one reference) per date, shared by
        # every scheme; the features themselves are dropped, only the labels are kept.
        if d not in labels_cache:
            f = feats_d if feats_d is not None else customer_features(tables, d, params, revenue_model)
            if d != as_of and not any(reads_activity(part) for part in needed):
                # Schemes reading no activity need no cut-offs: those alone are labelled (label_all
                # labels every scheme: most of the time at these dates).
                labels = pd.DataFrame({"customer_id": f["customer_id"].reset_index(drop=True),
                                       **{part: scheme_labels(f, part, defn) for part in sorted(needed)}})
            else:
                labels = label_all(f, defn)
                if d != as_of:
                    labels = labels[["customer_id"] + [c for c in labels.columns if c in needed]]
            labels_cache[d] = labels
        return labels_cache[d]

    def labels_at(d: date, scheme: str) -> pd.Series:
        frame = labels_of(d)
        missing = [p for p in scheme.split("+")[:2] if p not in frame.columns]
        if missing:
            raise ValueError(f"build_report: scheme {missing[0]!r} (in {scheme!r}) is not available for this "
                             f"data and definition; choose among {', '.join(usable)}.")
        parts = scheme.split("+")[:2]
        # Categorical labels as they are: segment economics reads their codes, not per-customer strings.
        return frame[parts[0]] if len(parts) == 1 else combined_labels(frame[parts[0]], frame[parts[1]])

    # Every date that needs labels: D, the month starts of the churn window, the month after the last
    # one (segment at acquisition), and compare_to. Features for all of them come from one batched scan
    # (customer_features_at), one date at a time; only D's and compare_to's features are kept. The month
    # starts are those the shared inputs find (_Shared.months), from the ledger's first month.
    compare_to = as_date(compare_to) if compare_to is not None else None
    wanted = {as_date(d): list(columns) for d, columns in (features_for or {}).items()}
    kept = {as_of} | ({compare_to} if compare_to is not None else set()) | set(wanted)
    dates = set(kept)
    first = first_ledger_month(tables["ledger"]) if schemes else None
    if first is not None:
        first_churn = first_churn_month(first, revenue_model, a.inactivity_days)
        dates |= set(label_dates(history_months(as_of, a.churn_window_months, first_churn)))
    feats, feats_from, feats_at = None, None, {}
    # Active users are counted at D and compare_to (customers.csv, transitions); elsewhere only when a
    # custom rule reads them.
    users = None if reads_users(defn) else kept
    # When no scheme reads activity (value tiers, lifecycle, size bands, attributes), the other dates'
    # features come from a scan without events, tickets and NPS answers: the same labels (tested), a
    # fraction of the time. D and compare_to keep every feature (customers.csv, transitions).
    batches = [(tables, scans, sorted(dates))]
    if schemes and not any(reads_activity(s) for s in schemes) and dates - kept:
        batches = [(tables, scans, sorted(kept)), (without_activity(tables),
                                                   scans and without_activity(scans), sorted(dates - kept))]
    for batch_tables, batch_beside, batch_dates in batches:
        for d, f in customer_features_at(batch_tables, batch_dates, params, revenue_model, users=users,
                                         beside=batch_beside):
            start_jobs()
            labels_of(d, f)
            if d == as_of:
                feats = f
            if compare_to is not None and d == compare_to:
                feats_from = f
            if d in wanted:
                feats_at[d] = f[[c for c in wanted[d] if c in f.columns]]
    labels = labels_of(as_of)
    label_cols = [c for c in labels.columns if c not in ("customer_id", "mrr")]
    # label_all labels D's features row for row: the labels go beside them (no copy of the features).
    customers = pd.concat([feats.reset_index(drop=True),
                           labels[[c for c in label_cols if c not in feats.columns]].reset_index(drop=True)], axis=1)
    if ready is not None:
        ready("customers", customers)

    ids_at: dict[date, pd.Series] = {}

    def customer_ids_at(d: date) -> pd.Series:
        # The same objects for every scheme, so the shared inputs encode them once.
        if d not in ids_at:
            ids_at[d] = labels_of(d)["customer_id"]
        return ids_at[d]

    start_jobs()
    shared = pending["shared"].result() if pending["shared"] is not None else None
    rows = []
    base = None   # what every scheme's economics share (economics.unit.EconomicsBase), computed once
    for scheme in schemes:
        inputs = _inputs(shared, scheme, labels_at, customer_ids_at)
        base = base or economics_base(inputs, a)
        result = segment_economics(inputs, a, base)
        seg_labels = labels[scheme] if scheme in labels.columns else None
        order = {seg: i for i, seg in enumerate(segment_order(scheme, defn, seg_labels))} \
            if seg_labels is not None else {}
        table = result.table.assign(_o=result.table["segment"].map(order).fillna(len(order)))
        table = table.sort_values(["_o", "customers"], ascending=[True, False], kind="stable").drop(columns="_o")
        both = pd.concat([table, result.blended], ignore_index=True)
        both.insert(0, "scheme", scheme)
        both["window_first"] = result.window[0].strftime("%Y-%m") if result.window[0] is not None else ""
        both["window_last"] = result.window[1].strftime("%Y-%m") if result.window[1] is not None else ""
        rows.append(both)
    economics = (pd.concat(rows, ignore_index=True) if rows
                 else pd.DataFrame(columns=["scheme", *ECONOMICS_COLUMNS, "window_first", "window_last"]))
    economics["assumptions"] = json.dumps(assumptions_to_dict(a), sort_keys=True)
    if snapshot:
        economics[["nrr", "grr"]] = float("nan")

    cohorts = pending["cohorts"].result()
    cohorts = cohorts.assign(cohort=cohorts["cohort"].dt.strftime("%Y-%m"))
    movements = pending["movements"].result()
    movements = movements.assign(month=movements["month"].dt.strftime("%Y-%m"))
    out = {"customers": customers, "cohort_retention": cohorts, "segment_economics": economics,
           "mrr_movements": movements}
    if feats_at:
        parts = [f.assign(as_of=pd.Timestamp(d))[["as_of", *f.columns]] for d, f in sorted(feats_at.items())]
        out["features_at"] = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
    if compare_to is not None:
        out["transitions"] = _transitions(tables, compare_to, as_of, feats, defn, revenue_model,
                                          [s for s in schemes if "+" not in s], feats_from)
    if ready is not None:
        for name in REPORT_FILES[1:]:   # customers went first
            if name in out:
                ready(name, out[name])
    return out


def _transitions(tables: Mapping[str, ir.Table], date_from: date, as_of: date, feats_to: pd.DataFrame,
                 defn: Any, revenue_model: str, schemes: list[str],
                 feats_from: pd.DataFrame | None = None) -> pd.DataFrame:
    from segmentation.features import customer_features, feature_params
    from segmentation.transitions import transitions_from_features

    if date_from >= as_of:
        raise ValueError(f"compare_to {date_from} must be before the as-of date {as_of}.")
    if feats_from is None:
        feats_from = customer_features(tables, date_from, feature_params(defn), revenue_model)
    parts = []
    for scheme in schemes:
        t = transitions_from_features(feats_from, feats_to, scheme, defn)
        t.insert(0, "scheme", scheme)
        parts.append(t[["scheme", "from_segment", "to_segment", "customers", "mrr_from", "mrr_to"]])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["scheme", "from_segment", "to_segment", "customers", "mrr_from", "mrr_to"])
