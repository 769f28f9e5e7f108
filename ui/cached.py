"""The one module that owns Streamlit caching.

Every cached function keys on small values: the workspace's data version, dates, scheme names and the
definition's TOML text, never on a large frame. A new load changes the data version, so nothing stale
is ever served.
"""
from __future__ import annotations

import functools
import threading
from collections.abc import Mapping
from datetime import date

import pandas as pd
import streamlit as st

from ingest.store import Workspace
from segmentation.transitions import CROSS_SCHEME, combined_labels

__all__ = [
    "workspace", "ensure_started", "workspace_status", "saved_definitions", "default_definition_toml",
    "definition", "available_schemes", "features", "labels", "refresh", "ibis_tables", "economics",
    "view_version", "late_revenue", "movements", "nrr_grr", "acquisition_segments", "scheme_labels_at", "cohorts",
    "activation", "event_names", "transitions", "customer_transitions", "adoption", "board_pack", "pack_title",
    "risk_backtest", "risk_model", "risk_scores", "clusters", "suggested_k", "survival", "rule_problem", "scheme_label",
    "workbook_sheets",
]

_start_lock = threading.Lock()


def scheme_label(scheme: str) -> str:
    """A scheme's name on screen (segmentation.schemes.scheme_name for the data's revenue model)."""
    from segmentation.schemes import scheme_name

    return scheme_name(scheme, workspace().meta().get("revenue_model", "subscription"))


@st.cache_data(show_spinner=False, max_entries=64)
def workbook_sheets(file_id: str, name: str, _data: bytes) -> list[str]:
    """ingest.read.workbook_tables of an uploaded file, once per upload (the uploader's file_id: the
    Data page reruns on every widget change, and reading a workbook's sheets takes a while)."""
    from ingest.read import workbook_tables

    return workbook_tables(name, _data)


@st.cache_resource(show_spinner=False)
def workspace() -> Workspace:
    return Workspace.default()


def ensure_started() -> None:
    """On the very first start of an empty workspace, load the sample company (once per server)."""
    ws = workspace()
    if not ws.never_loaded():
        return
    with _start_lock:
        if ws.never_loaded():
            from ingest.load import load_sample

            with st.spinner("Loading the sample company…"):
                load_sample(ws)


def refresh() -> None:
    """After a load or clear: drop every cached result (the data version changes anyway)."""
    st.cache_data.clear()
    _features_at.clear()
    _feature_store.clear()
    _known_tables.clear()
    _labels.clear()


def workspace_status() -> dict:
    ws = workspace()
    meta = ws.meta()
    return _status(meta.get("data_version", "empty"), str(ws.path)) | {"meta": meta}


@st.cache_data(show_spinner=False, max_entries=4)
def _status(version: str, _path: str) -> dict:
    ws = workspace()
    meta = ws.meta()
    counts = ws.row_counts()
    model = meta.get("revenue_model", "")
    return {
        "version": version,
        "tables": counts,
        "model_label": {"subscription": "subscription revenue",
                        "transactional": "transactional revenue (orders)"}.get(model, model),
        "last_complete_month": meta.get("last_complete_month", ""),
    }


def saved_definitions() -> dict[str, str]:
    return workspace().saved_definitions()


def default_definition_toml() -> str:
    """The default definition for the workspace's data (economics.pipeline.default_definition_for)."""
    meta = workspace_status()["meta"]
    return _default_definition_toml(meta.get("revenue_shape", ""), meta.get("revenue_model", ""))


@st.cache_data(show_spinner=False, max_entries=4)
def _default_definition_toml(revenue_shape: str, revenue_model: str) -> str:
    from economics.pipeline import default_definition_for
    from segmentation.definition import dump_definition

    return dump_definition(default_definition_for({"revenue_shape": revenue_shape, "revenue_model": revenue_model}))


@st.cache_data(show_spinner=False, max_entries=32)
def definition(toml_text: str):
    from segmentation.definition import load_definition

    return load_definition(toml_text)


def available_schemes(definition_toml: str) -> dict[str, str]:
    """Scheme key -> label, for the schemes this data and definition support."""
    version = workspace().data_version
    return _available_schemes(version, definition_toml)


@st.cache_data(show_spinner=False, max_entries=16)
def _available_schemes(version: str, definition_toml: str) -> dict[str, str]:
    from segmentation.schemes import available_schemes as schemes_for

    customers = ibis_tables().get("customers")   # its columns only, from the schema
    keys = schemes_for(list(customers.columns) if customers is not None else [], definition(definition_toml))
    if not _goals_stated(version):   # Stated goal would be one segment, "Not stated"
        keys.remove("goal")
    if "channel" in keys:
        keys.insert(1, CROSS_SCHEME)
    return {s: scheme_label(s) for s in keys}


@st.cache_data(show_spinner=False, max_entries=4)
def _goals_stated(version: str) -> bool:
    """Whether a customer states a goal (a customers goal column, or an NPS answer's goal): one query per
    data version, not per definition (the scheme menu is rebuilt on every threshold move)."""
    tables = ibis_tables()
    if "goal" in getattr(tables.get("customers"), "columns", ()):
        return True
    nps = tables.get("nps")
    return nps is not None and "goal" in nps.columns and bool(
        (nps.goal.notnull() & (nps.goal.strip() != "")).any().execute())


def view_version(version: str, as_of: date, default_as_of: date) -> str:
    """The version a view as of `as_of` computes from: the data version, or, for a date before the data's
    default (nothing is left out from then on), "<version>@<as_of>": the data as known on that date
    (economics.ledger.tables_as_of), every date of the view included. Cache keys differ with it."""
    return version if as_of >= default_as_of else f"{version}@{as_of.isoformat()}"


def ibis_tables(version: str = "") -> dict:
    """The workspace's tables as ibis tables (a fresh cursor each call: thread-safe); for a view_version
    with an as-of date, as known on that date: the revenue before it, the ledger rebuilt from it and the
    customers it knew (the last two built once per version, `_known_tables`, and read through this cursor)."""
    ws = workspace()
    con = ws.ibis()
    tables = {name: con.table(name) for name in ws.tables()}
    if "@" not in version:
        return tables
    from economics.ledger import tables_as_of

    built = _known_tables(version)
    for name, data in built.items():
        con.con.register(f"{name}_as_of", data)
    return tables_as_of(tables, _known_on(version), rebuilt={name: con.table(f"{name}_as_of") for name in built})


def _known_on(version: str) -> date:
    """The as-of date of a view_version "<version>@<as_of>"."""
    return date.fromisoformat(version.split("@")[1])


@st.cache_resource(show_spinner="Rebuilding the ledger from the revenue known on the as-of date…", max_entries=4)
def _known_tables(version: str) -> dict:
    """The ledger and customers as known on a view_version's as-of date, as Arrow (held once, registered
    per cursor)."""
    from economics.ledger import REBUILT_AS_OF, tables_as_of

    known = tables_as_of(ibis_tables(), _known_on(version))
    return {name: known[name].to_pyarrow() for name in REBUILT_AS_OF if name in known}


@st.cache_data(show_spinner=False, max_entries=8)
def late_revenue(version: str) -> tuple[int, int]:
    """For a view_version with an as-of date: the revenue rows dated on or after it, and those of them for
    service before it (economics.ledger.late_revenue)."""
    from economics.ledger import late_revenue as count

    return count(ibis_tables()["revenue"], _known_on(version))


class _LazyTables(Mapping):
    """`ibis_tables(version)` opened on first use: most recomputations find what they scan already cached."""

    def __init__(self, version: str) -> None:
        self._version = version
        self._tables: dict | None = None

    def _open(self) -> dict:
        if self._tables is None:
            self._tables = ibis_tables(self._version)
        return self._tables

    def __getitem__(self, name: str):
        return self._open()[name]

    def __iter__(self):
        return iter(self._open())

    def __len__(self) -> int:
        return len(self._open())


def _params_of(definition_toml: str):
    """Feature parameters and their cache key. The support cost per minute is applied after the scan
    (support_cost_90d = minutes x rate), so moving that slider does not rescan events."""
    from dataclasses import replace

    from segmentation.features import feature_params

    params = replace(feature_params(definition(definition_toml)), support_cost_per_minute=1.0)
    return params, repr(params)


def _support_rate(definition_toml: str) -> float:
    from segmentation.features import feature_params

    return feature_params(definition(definition_toml)).support_cost_per_minute


@st.cache_resource(show_spinner="Computing customer features…", max_entries=64)
def _features_at(version: str, as_of: date, params_key: str, revenue_model: str, _params) -> pd.DataFrame:
    """Held once, not copied per read (a slider change reads 13 dates: copies cost ~25 ms each at 100k
    customers); readers get a shallow copy, which copy-on-write keeps from changing the cached frame."""
    from segmentation.features import customer_features

    return customer_features(ibis_tables(version), as_of, _params, revenue_model)


# Frames a feature store holds: the month starts of two as-of dates and their acquisition months (about
# 30 MB each at 100k customers, 1 GB at most).
_STORE_DATES = 32


@st.cache_resource(show_spinner=False, max_entries=8)
def _feature_store(version: str, params_key: str, revenue_model: str, activity: bool,
                   users: bool) -> tuple[threading.Lock, dict]:
    """Features by date, filled by _features_together: shared by every session, guarded by its lock."""
    return threading.Lock(), {}


def _features_together(version: str, dates: tuple[date, ...], definition_toml: str, activity: bool,
                       users: bool = True) -> dict[date, pd.DataFrame]:
    """Features at each of `dates`, the dates not held yet computed together (customer_features_at: one
    query per scan for all of them, each event scanned once), held for the next call (a second as-of date
    shares all but one of its month starts with the first); shallow copies, like `features`.
    activity=False: from the tables without events, tickets and NPS (features.without_activity); users:
    whether the active-user counts (features.USER_COLUMNS) are counted."""
    from segmentation.features import customer_features_by_date, without_activity

    params, key = _params_of(definition_toml)
    model = _revenue_model(version)
    lock, store = _feature_store(version, key, model, activity, users)
    with lock:
        missing = sorted(set(dates) - set(store))
        if missing:
            tables = ibis_tables(version) if activity else without_activity(ibis_tables(version))
            with st.spinner("Computing customer features at each month start…"):
                store.update(customer_features_by_date(tables, missing, params, model, users=None if users else ()))
            for old in list(store)[:max(0, len(store) - _STORE_DATES)]:   # the oldest computed first
                if old not in dates:
                    del store[old]
        return {d: store[d].copy(deep=False) for d in dates}


def lean_features(version: str, dates: tuple[date, ...], definition_toml: str) -> dict[date, pd.DataFrame]:
    """Features from the customers and revenue scan alone, at each of `dates`, computed together (one
    ledger scan for the dates not held yet: the Overview labels about 14 month starts at each of two
    as-of dates). Enough for the schemes that read no activity (schemes.reads_activity)."""
    return _features_together(version, dates, definition_toml, activity=False)


def history_features(version: str, dates: tuple[date, ...], definition_toml: str) -> dict[date, pd.DataFrame]:
    """`features` at each of `dates`, computed together (_features_together), for labelling the month
    starts with a scheme that reads activity: without the active-user counts unless a custom rule reads
    them."""
    from segmentation.schemes import reads_users

    found = _features_together(version, dates, definition_toml, activity=True,
                               users=reads_users(definition(definition_toml)))
    return {d: _with_extras(version, d, definition_toml, f) for d, f in found.items()}


def features(version: str, as_of: date, definition_toml: str) -> pd.DataFrame:
    """Customer features as of a date; keyed on the feature settings only, so moving a threshold
    slider relabels without recomputing them. When a custom rule uses `churn_probability`, the churn
    model trained as of that date scores the paying customers (others get none)."""
    params, key = _params_of(definition_toml)
    feats = _features_at(version, as_of, key, _revenue_model(version), params).copy(deep=False)
    return _with_extras(version, as_of, definition_toml, feats)


def _with_extras(version: str, as_of: date, definition_toml: str, feats: pd.DataFrame) -> pd.DataFrame:
    """The support cost at the definition's rate, and the churn probability when a rule reads it."""
    rate = _support_rate(definition_toml)
    if rate != 1.0 and "support_minutes_90d" in feats:
        feats = feats.assign(support_cost_90d=feats["support_minutes_90d"] * rate)
    if "churn_probability" in definition_toml:
        scores = risk_scores(version, as_of, 90, definition_toml, "churn")
        feats = feats.merge(scores[["customer_id", "churn_probability"]], on="customer_id", how="left") \
            if "churn_probability" in scores else feats.assign(churn_probability=float("nan"))
    return feats


def scheme_features(version: str, as_of: date, definition_toml: str, scheme: str) -> pd.DataFrame:
    """Features enough to label `scheme` at a date: all of them, or, for a scheme that reads no activity
    (value tier, lifecycle, size band, attributes: schemes.reads_activity), the customers and revenue scan
    alone, about five times cheaper (economics labels 13 month starts; at 100k customers that is the wait)."""
    from segmentation.schemes import reads_activity

    if reads_activity(scheme):
        return features(version, as_of, definition_toml)
    return lean_features(version, (as_of,), definition_toml)[as_of]


def rule_problem(version: str, as_of: date, definition_toml: str) -> str | None:
    """Why the definition's custom rules cannot run on this data (an unknown column...), or None."""
    from segmentation.rules import RuleError
    from segmentation.schemes import label_all

    defn = definition(definition_toml)
    if not defn.custom.rules:
        return None
    try:  # the rules see the features and the scores label_all computes (health_score, icp_fit, ...)
        label_all(features(version, as_of, definition_toml).head(200), defn)
    except RuleError as exc:
        return str(exc)
    return None


@st.cache_data(show_spinner=False, max_entries=8)
def _revenue_model(version: str) -> str:
    """The data's revenue model (read once per data version: a meta read costs a few ms, and a page reads
    it once per date)."""
    return workspace().meta().get("revenue_model", "subscription")


@st.cache_data(show_spinner=False, max_entries=8)
def _currency_symbol(version: str) -> str:
    """The data's currency symbol ("" when it states none), for the verdict rules."""
    from ui.format import currency_symbol

    return currency_symbol(workspace().meta().get("currency", ""))


def attribute_candidates(version: str, as_of: date, definition_toml: str) -> list[str]:
    """The customers columns a definition could segment by (schemes.attribute_candidates): once per data
    version, date and feature settings, not on every slider move (it counts every text column's values)."""
    return _attribute_candidates(version, as_of, _params_of(definition_toml)[1], definition_toml)


@st.cache_data(show_spinner=False, max_entries=8)
def _attribute_candidates(version: str, as_of: date, params_key: str, _definition_toml: str) -> list[str]:
    from segmentation.schemes import attribute_candidates as candidates_of

    return candidates_of(features(version, as_of, _definition_toml))


def labels(version: str, as_of: date, definition_toml: str) -> pd.DataFrame:
    """Every scheme's label and score per customer (segmentation.schemes.label_all, plus value tier x
    channel); a shallow copy-on-write copy of the cached frame, like `features`."""
    return _labels(version, as_of, _labels_key(definition_toml), definition_toml).copy(deep=False)


def membership_csv(version: str, as_of: date, definition_toml: str) -> bytes:
    """The Segments page's CSV for a CRM: every customer with every scheme's label and score, its name and
    its status (Paying, Never paid, Churned). Made once per data version, date and label-relevant
    definition, and handed to the download button as bytes: a deferred (on click) download stayed disabled
    when its click landed during a rerun."""
    return _membership_csv(version, as_of, _labels_key(definition_toml), definition_toml)


@st.cache_data(show_spinner="Preparing the membership CSV…", max_entries=4)
def _membership_csv(version: str, as_of: date, labels_key: str, _definition_toml: str) -> bytes:
    from ingest.export import csv_bytes

    from segmentation.features import customer_status

    feats = features(version, as_of, _definition_toml)
    named = feats[["customer_id", *[c for c in ("name",) if c in feats]]].assign(status=customer_status(feats))
    # ICP fit to a tenth of a point for a CRM field: 16.7, not 16.666666666666668. The id, name and status
    # first, as a CRM import maps them; then the labels.
    return csv_bytes(named.merge(labels(version, as_of, _definition_toml).round({"icp_fit": 1}), on="customer_id",
                                 how="right"))


@functools.lru_cache(maxsize=64)
def _labels_key(definition_toml: str) -> str:
    """What labels depend on: the definition without its cost assumptions (they move no customer), save
    the support cost per minute when a custom rule reads support_cost_90d."""
    import json

    from segmentation.definition import definition_to_dict

    raw = definition_to_dict(definition(definition_toml))
    economics = raw.pop("economics", None) or {}
    if "support_cost" in json.dumps(raw.get("custom", {}), default=str):
        raw["support_cost_per_minute"] = economics.get("support_cost_per_minute")
    return json.dumps(raw, sort_keys=True, default=str)


@st.cache_resource(show_spinner=False, max_entries=32)
def _labels(version: str, as_of: date, labels_key: str, _definition_toml: str) -> pd.DataFrame:
    from segmentation.schemes import label_all

    out = label_all(features(version, as_of, _definition_toml), definition(_definition_toml))
    if "channel" in out:
        out[CROSS_SCHEME] = combined_labels(out["value_tier"], out["channel"])
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def scheme_labels_at(version: str, as_of: date, scheme: str, definition_toml: str) -> pd.DataFrame:
    """customer_id, one scheme's label and the customer's status (Paying, Never paid, Churned) at a date
    (cheaper than every label when one is needed)."""
    from economics.pipeline import scheme_label
    from segmentation.features import customer_status

    feats = scheme_features(version, as_of, definition_toml, scheme)
    return pd.DataFrame({"customer_id": feats["customer_id"].astype(str).to_numpy(),
                         scheme: scheme_label(feats, scheme, definition(definition_toml)).to_numpy(),
                         "status": customer_status(feats).to_numpy()})


@st.cache_resource(show_spinner="Computing unit economics…", max_entries=24)
def economics(version: str, as_of: date, scheme: str, definition_toml: str):
    """SegmentEconomics of a scheme (immutable; shared, not copied). A cost assumption edit reuses the
    segment inputs (labels at 13 dates do not depend on it) and only re-prices and recomputes the table."""
    from economics.pipeline import assumptions_of, repriced
    from economics.unit import segment_economics

    a = assumptions_of(definition(definition_toml))
    shared = _shared_inputs(version, as_of, a.churn_window_months, a.prices_seats, definition_toml)
    inputs = _economics_inputs(version, as_of, scheme, _labels_key(definition_toml), a.churn_window_months,
                               a.prices_seats, definition_toml)
    return segment_economics(repriced(inputs, shared, a), a, symbol=_currency_symbol(version))


@st.cache_resource(show_spinner="Computing unit economics…", max_entries=24)
def _economics_inputs(version: str, as_of: date, scheme: str, labels_key: str, churn_window_months: int,
                      seats: bool, _definition_toml: str):
    from economics.pipeline import economics_inputs
    from segmentation.schemes import reads_activity

    defn = definition(_definition_toml)
    shared = _shared_inputs(version, as_of, churn_window_months, seats, _definition_toml)
    # The month starts need only what the scheme reads: a scheme that reads activity gets them from one
    # pass over the events (history_features) and D's from the page's own features; the others get every
    # date, D included, from the cheaper scan without events, in one batch (lean_features).
    months = tuple(sorted({*shared.months, *shared.acquired_after.values()} - {as_of}))
    if reads_activity(scheme):
        at_month = history_features(version, months, _definition_toml) if months else {}

        def features_at(d: date) -> pd.DataFrame:
            return features(version, d, _definition_toml) if d == as_of else at_month[d]
    else:
        features_at = lean_features(version, (*months, as_of), _definition_toml).__getitem__
    return economics_inputs(_LazyTables(version), as_of, scheme, defn, _revenue_model(version),
                            features_at=features_at, shared=shared)


@st.cache_resource(show_spinner=False, max_entries=8)
def _shared_inputs(version: str, as_of: date, churn_window_months: int, seats: bool, _definition_toml: str):
    """Ledger, first payments, usage and spend at a date: keyed on what they depend on (the churn window and
    whether seats have a cost, not thresholds or other cost assumptions), so no slider but those rescans
    them."""
    from economics.pipeline import shared_inputs

    return shared_inputs(ibis_tables(version), as_of, definition(_definition_toml), _revenue_model(version))


@st.cache_data(show_spinner="Labelling customers at acquisition…", max_entries=16)
def acquisition_segments(version: str, as_of: date, scheme: str, definition_toml: str) -> pd.DataFrame:
    """customer_id, segment: each paying customer's segment at the end of its first paid month. Complete months
    only, as segment economics acquires them: a customer first paying in a month still running at D is not
    acquired yet (labelled at D, its features read the month before: "Not paying", 71 customers on 15 Oct
    2026 that then fell out of every tier's October cohort)."""
    import ibis

    from economics.ledger import add_months, last_complete_month
    from economics.pipeline import scheme_label
    from segmentation.schemes import reads_activity

    ledger = ibis_tables(version)["ledger"]
    paid = ledger.filter((ledger.mrr_cents > 0) & (ledger.month <= ibis.literal(last_complete_month(as_of))))
    first = paid.group_by("customer_id").aggregate(first_paid_month=paid.month.min()).execute()
    first["first_paid_month"] = pd.to_datetime(first["first_paid_month"])
    defn = definition(definition_toml)
    afters = {month: min(add_months(month.date(), 1), as_of) for month in first["first_paid_month"].unique()}
    if not reads_activity(scheme):  # every month's features in one scan
        lean_features(version, tuple(sorted(set(afters.values()))), definition_toml)
    parts = []
    for month, group in first.groupby("first_paid_month"):
        after = afters[month]
        feats = scheme_features(version, after, definition_toml, scheme)
        lab = pd.DataFrame({"customer_id": feats["customer_id"].astype(str).to_numpy(),
                            "segment": scheme_label(feats, scheme, defn).to_numpy()})
        parts.append(lab[lab["customer_id"].isin(set(group["customer_id"].astype(str)))])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["customer_id", "segment"])


@st.cache_data(show_spinner=False, max_entries=16)
def movements(version: str, as_of: date, inactivity_days: int) -> pd.DataFrame:
    from economics.mrr import mrr_movements

    t = ibis_tables(version)
    model = _revenue_model(version)
    return mrr_movements(t["ledger"], as_of, model, revenue=t.get("revenue") if model == "transactional" else None,
                         inactivity_days=inactivity_days)


@st.cache_data(show_spinner=False, max_entries=16)
def nrr_grr(version: str, as_of: date) -> tuple[float, float]:
    from economics.mrr import nrr_grr as compute

    return compute(ibis_tables(version)["ledger"], as_of)


@st.cache_data(show_spinner="Building cohorts…", max_entries=32)
def cohorts(version: str, as_of: date, granularity: str, basis: str,
            customer_ids: tuple[str, ...] | None) -> pd.DataFrame:
    from economics.cohorts import CohortParams, cohort_retention

    t = ibis_tables(version)
    params = CohortParams(granularity=granularity, basis=basis,
                          customers=frozenset(customer_ids) if customer_ids is not None else None)
    return cohort_retention(t["ledger"], t.get("customers"), as_of, params, events=t.get("events"))


@st.cache_data(show_spinner=False, max_entries=16)
def activation(version: str, as_of: date, event: str, within_days: int) -> pd.DataFrame:
    from economics.cohorts import activation_cohorts

    t = ibis_tables(version)
    return activation_cohorts(t["customers"], t["events"], event, within_days, as_of)


@st.cache_data(show_spinner=False, max_entries=8)
def event_names(version: str) -> list[str]:
    t = ibis_tables()
    if "events" not in t or "event" not in t["events"].columns:
        return []
    import ibis

    e = t["events"].filter(t["events"].event.notnull())
    counts = e.group_by("event").aggregate(n=e.count()).order_by(ibis.desc("n"))
    return [str(x) for x in counts.execute()["event"]]


@st.cache_data(show_spinner="Comparing the two dates…", max_entries=16)
def transitions(version: str, scheme: str, date_from: date, date_to: date, definition_toml: str) -> pd.DataFrame:
    from segmentation.transitions import transitions_from_features

    return transitions_from_features(scheme_features(version, date_from, definition_toml, scheme),
                                     features(version, date_to, definition_toml), scheme,
                                     definition(definition_toml))


@st.cache_data(show_spinner="Comparing the two dates…", max_entries=16)
def customer_transitions(version: str, scheme: str, date_from: date, date_to: date,
                         definition_toml: str) -> pd.DataFrame:
    from segmentation.transitions import customer_transitions as compute

    return compute(scheme_features(version, date_from, definition_toml, scheme),
                   features(version, date_to, definition_toml),
                   scheme, definition(definition_toml))


@st.cache_resource(show_spinner="Backtesting the churn model…", max_entries=8)
def risk_backtest(version: str, as_of: date, horizon_days: int, definition_toml: str, task: str = "churn"):
    """The time-based backtest (with 20 placebo runs on shuffled outcomes) of the churn or conversion model."""
    from segmentation.models import ModelParams, backtest_churn, backtest_conversion

    params, _ = _params_of(definition_toml)
    run = backtest_churn if task == "churn" else backtest_conversion
    return run(ibis_tables(version), as_of, horizon_days, params, _revenue_model(version), ModelParams(placebo_runs=20))


@st.cache_resource(show_spinner="Training the model…", max_entries=8)
def risk_model(version: str, as_of: date, horizon_days: int, definition_toml: str, task: str = "churn"):
    from segmentation.models import fit_churn_model, fit_conversion_model

    params, _ = _params_of(definition_toml)
    fit = fit_churn_model if task == "churn" else fit_conversion_model
    return fit(ibis_tables(version), as_of, horizon_days, params, _revenue_model(version))


@st.cache_data(show_spinner=False, max_entries=8)
def risk_scores(version: str, as_of: date, horizon_days: int, definition_toml: str, task: str = "churn"):
    """customer_id, probability, top_drivers for today's customers (empty when there is no model)."""
    from segmentation.features import current_customers
    from segmentation.models import score_churn, score_conversion

    model = risk_model(version, as_of, horizon_days, definition_toml, task)
    if not model.enough_data:
        return pd.DataFrame(columns=["customer_id", "probability", "top_drivers"])
    params, key = _params_of(definition_toml)
    feats = _features_at(version, as_of, key, _revenue_model(version), params).copy(deep=False)
    if task == "churn":  # only the customers who can still churn (not those the inactivity rule lost)
        return score_churn(model, current_customers(feats))
    never_paid = feats["first_paid_month"].isna() if "first_paid_month" in feats else ~feats["paying"].astype(bool)
    return score_conversion(model, feats[never_paid])


@st.cache_resource(show_spinner="Clustering customers…", max_entries=8)
def clusters(version: str, as_of: date, k: int, definition_toml: str):
    from segmentation.models import cluster_customers

    feats = features(version, as_of, definition_toml)
    return cluster_customers(feats[feats["paying"].astype(bool)], k)


@st.cache_data(show_spinner="Trying cluster counts…", max_entries=8)
def suggested_k(version: str, as_of: date, definition_toml: str) -> int:
    from segmentation.models import suggest_k

    feats = features(version, as_of, definition_toml)
    tried = suggest_k(feats[feats["paying"].astype(bool)])
    return int(tried.loc[tried["suggested"], "k"].iloc[0]) if tried["suggested"].any() else 4


@st.cache_data(show_spinner="Fitting survival curves…", max_entries=8)
def survival(version: str, as_of: date, scheme: str, definition_toml: str) -> pd.DataFrame:
    from segmentation.models import customer_lifetimes, survival_ltv

    econ = economics(version, as_of, scheme, definition_toml)
    ledger = ibis_tables(version)["ledger"].execute()
    lifetimes = customer_lifetimes(ledger, as_of)
    segments = acquisition_segments(version, as_of, scheme, definition_toml)
    # every segment's ARPA, and the blended one for the "All customers" row
    table = pd.concat([econ.table, econ.blended]).set_index("segment")
    return survival_ltv(lifetimes, segments, table["arpa"].dropna(), econ.assumptions.gross_margin)


def pack_title() -> str:
    """The board pack's title when nobody has named it (boardpack.default_title of the loaded data)."""
    import boardpack

    return boardpack.default_title(workspace().meta())


def board_pack(version: str, as_of: date, compare_to: date, scheme: str, definition_toml: str,
               definition_name: str, title: str | None = None) -> dict[str, bytes]:
    """The board pack's HTML and PDF bytes (not cached: it is built on request)."""
    import boardpack

    pack = boardpack.collect(ibis_tables(version), as_of, compare_to, scheme, definition(definition_toml),
                             definition_name, workspace().meta(),
                             features_at=lambda d: features(version, d, definition_toml),
                             scheme_label=scheme_label(scheme), title=title)
    page = boardpack.to_html(pack)
    return {"html": page.encode("utf-8"), "pdf": boardpack.to_pdf(page)}


def adoption(version: str, as_of: date, scheme: str, definition_toml: str) -> pd.DataFrame:
    """Feature adoption by segment (an events scan): keyed on what moves customers, not cost assumptions."""
    return _adoption(version, as_of, scheme, _labels_key(definition_toml), definition_toml)


@st.cache_data(show_spinner=False, max_entries=16)
def _adoption(version: str, as_of: date, scheme: str, labels_key: str, _definition_toml: str) -> pd.DataFrame:
    from segmentation.adoption import feature_adoption

    lab = labels(version, as_of, _definition_toml)
    return feature_adoption(ibis_tables(version), lab.set_index("customer_id")[scheme], as_of)
