"""The one module that owns Streamlit caching.

Every cached function keys on small values: the workspace's data version, dates, scheme names and the
definition's TOML text, never on a large frame. A new load changes the data version, so nothing stale
is ever served.
"""
from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import streamlit as st

from ingest.store import Workspace

__all__ = [
    "workspace", "ensure_started", "workspace_status", "saved_definitions", "default_definition_toml",
    "definition", "available_schemes", "features", "labels", "tables", "refresh",
]

_start_lock = threading.Lock()

SCHEME_LABELS = {
    "value_tier": "Value tier (ARR)", "behavior": "Behaviour", "lifecycle": "Lifecycle (tenure)",
    "health_band": "Health score band", "rfm_segment": "RFM segment", "size_band": "Company size",
    "goal": "Stated goal", "custom": "Custom rules", "industry": "Industry", "plan": "Plan",
    "channel": "Acquisition channel", "country": "Country",
}


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


@st.cache_data(show_spinner=False)
def default_definition_toml() -> str:
    from segmentation.definition import default_definition, dump_definition

    return dump_definition(default_definition())


@st.cache_data(show_spinner=False, max_entries=32)
def definition(toml_text: str):
    from segmentation.definition import load_definition

    return load_definition(toml_text)


@st.cache_data(show_spinner=False, max_entries=8)
def tables(version: str) -> dict[str, pd.DataFrame]:
    """Small tables as pandas (customers, spend, nps); the large ones stay in DuckDB."""
    ws = workspace()
    return {name: ws.table(name) for name in ("customers", "spend", "nps") if name in ws.tables()}


def available_schemes(definition_toml: str) -> dict[str, str]:
    """Scheme key -> label, for the schemes this data and definition support."""
    version = workspace().data_version
    return _available_schemes(version, definition_toml)


@st.cache_data(show_spinner=False, max_entries=16)
def _available_schemes(version: str, definition_toml: str) -> dict[str, str]:
    from segmentation.schemes import available_schemes as schemes_for

    customers = tables(version).get("customers", pd.DataFrame())
    return {s: SCHEME_LABELS.get(s, s.replace("_", " ").capitalize())
            for s in schemes_for(list(customers.columns), definition(definition_toml))}


@st.cache_data(show_spinner="Computing customer features…", max_entries=16)
def features(version: str, as_of: date, definition_toml: str) -> pd.DataFrame:
    from segmentation.features import customer_features, feature_params

    ws = workspace()
    con = ws.ibis()
    tbls = {name: con.table(name) for name in ws.tables()}
    d = definition(definition_toml)
    return customer_features(tbls, as_of, feature_params(d), ws.meta().get("revenue_model", "subscription"))


@st.cache_data(show_spinner=False, max_entries=32)
def labels(version: str, as_of: date, definition_toml: str) -> pd.DataFrame:
    from segmentation.schemes import label_all

    return label_all(features(version, as_of, definition_toml), definition(definition_toml))
