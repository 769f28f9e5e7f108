"""Data: upload exports, check how they were recognised, fix the column mapping, and load them."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
import streamlit as st

from ingest.contract import TABLE_ORDER, TABLES
from ingest.load import LoadOptions, Upload, load, load_sample, prepare, split_workbooks
from ingest.problems import noted_at_load
from ui import cached
from ui.format import CURRENCY_SYMBOLS, plain, plural, validation_table
from ui.page import start_page

NONE = "(not in this file)"

view = start_page("Data", ":material/upload_file:", needs_data=False)
ws = cached.workspace()
status = cached.workspace_status()

st.warning(
    "The workspace is **shared by everyone using this server**: loading or clearing data here changes "
    "what every user sees.",
    icon=":material/group:",
)

# -- what is loaded now ----------------------------------------------------------------------------
st.subheader("In the workspace now")
if status["tables"]:
    meta = status["meta"]
    counts = pd.DataFrame(
        [{"table": t, "rows": n, "what it holds": TABLES[t].description if t in TABLES else
          "Net revenue per customer and month, derived from revenue"} for t, n in status["tables"].items()]
    )
    left, right = st.columns([3, 2])
    left.dataframe(counts, hide_index=True, width="stretch",
                   column_config={"rows": st.column_config.NumberColumn(format="localized")})
    source = {"sample": "Sample company", "upload": "Your upload"}.get(meta.get("source"), meta.get("source"))
    right.markdown(
        f"**Source:** {source}  \n**Dates:** {meta.get('min_date')} to {meta.get('max_date')}  \n"
        f"**Revenue model:** {status['model_label']}  \n"
        f"**Currency:** {meta.get('currency') or 'not stated (amounts show no symbol)'}  \n"
        f"**Last complete month:** {meta.get('last_complete_month') or 'none'}  \n"
        f"**Loaded:** {meta.get('loaded_at', '')[:16].replace('T', ' ')} UTC"
    )
    noted = noted_at_load(meta)   # what the load warned about, kept with the data
    if noted:
        with st.expander(f"Noted when these files were loaded ({len(noted)})", icon=":material/warning:"):
            for where, message in noted:   # the text as written (a "$" or "*" in it is not markdown)
                st.markdown(f"**{plain(where)}**: {plain(message)}" if where else plain(message))
else:
    st.info("The workspace is empty.")

c1, c2, _ = st.columns([2, 2, 3])
with c1.popover("Load the sample company", icon=":material/science:"):
    # Asked first, as clearing is: it replaces the loaded data, perhaps someone's own exports.
    st.write("This replaces the loaded data with the sample company for **every user** of this server, and "
             "cannot be undone: to come back to your data, load its files again. Saved definitions stay.")
    if st.button("Yes, load the sample", type="primary"):
        with st.spinner("Loading the sample company…"):
            result = load_sample(ws)
        cached.refresh()
        st.session_state["data_message"] = ("success", "Sample company loaded.") if result.ok else (
            "error", "The sample company could not be loaded.")
        st.rerun()
with c2.popover("Clear the workspace", icon=":material/delete:"):
    st.write("This removes the loaded data for **every user** of this server, and cannot be undone. Saved "
             "definitions stay.")
    if st.button("Yes, clear it", type="primary"):
        ws.clear()
        cached.refresh()
        st.session_state["data_message"] = ("success", "Workspace cleared.")
        st.rerun()

if msg := st.session_state.pop("data_message", None):
    getattr(st, msg[0])(msg[1])

# -- upload ------------------------------------------------------------------------------------------
st.subheader("Load your exports")
st.markdown(
    "Upload one file per table: **revenue** is required (invoices or orders, subscriptions, or a CRM "
    "snapshot); **customers**, **events**, **tickets**, **spend** and **nps** are optional. CSV "
    "(comma, semicolon, tab or pipe), Excel (.xlsx: one workbook with a sheet per table is fine) or Parquet, "
    "up to 200 MB each, as your tools export "
    "them: title lines, currency signs, thousands separators and decimal commas are fine. Column names are "
    "matched for you (Stripe, HubSpot, Zendesk, Segment and Amplitude exports are recognised); fix any guess "
    "below before loading. Nothing is stored until you press **Load**, and a load with errors changes "
    "nothing."
)
# Any file is taken: what is not a table (an old .xls, a PDF) gets a sentence on what to export instead.
files = st.file_uploader("Export files", accept_multiple_files=True, key="uploads")
when, money = st.columns(2)
snapshot = when.date_input(
    "Snapshot date (only for a CRM snapshot: one row per customer with tenure, MRR and churned)",
    value=None, max_value=date.today(), key="snapshot_date",
    help="The day the snapshot was exported. Tenure is counted back from it.")
currencies = ["(not stated)", *CURRENCY_SYMBOLS]
chosen_currency = money.selectbox(
    "Currency of the amounts (when the revenue file has no currency column)", currencies, key="load_currency",
    help="Money is shown with this currency's symbol on every page, the board pack and the report. A "
         "currency column in the revenue file takes precedence.")
currency = None if chosen_currency == currencies[0] else chosen_currency

if not files:
    st.stop()
# Files are told apart by name (their mapping, their messages): two of one name cannot both be read.
if twice := sorted({f.name for f in files if [g.name for g in files].count(f.name) > 1}):
    st.error(f"{plural(len(twice), 'file name')} appear{'s' if len(twice) == 1 else ''} twice: "
             f"{', '.join(twice)}. Remove the copy (the × beside it), or rename one of the files if both are "
             "needed, and upload again.")
    st.stop()

overrides: dict[str, dict] = st.session_state.setdefault("upload_overrides", {})
# A workbook with a sheet per table is read as one file per sheet ("book.xlsx (sheet Revenue)").
sheets = {f.name: cached.workbook_sheets(f.file_id, f.name, f.getvalue()) for f in files}
uploads = [replace(up, **{k: overrides.get(up.name, {}).get(k) for k in ("table", "mapping")})
           for up in split_workbooks([Upload(name=f.name, data=f.getvalue()) for f in files], sheets)]
key = (tuple((f.file_id, f.name) for f in files), repr(sorted(overrides.items())), snapshot, currency)
if st.session_state.get("prepared_key") != key:
    total = sum(f.size for f in files)
    with st.status(f"Reading {plural(len(files), 'file')}, {total / 1e6:.1f} MB…", expanded=False) as progress:
        result = prepare(uploads, LoadOptions(snapshot_date=snapshot, currency=currency))
        progress.update(label="Files read and checked.", state="complete")
    st.session_state["prepared"], st.session_state["prepared_key"] = result, key
result = st.session_state["prepared"]

st.markdown("#### How each file was recognised")
for up in uploads:
    name = up.name
    table = result.recognised.get(name)
    columns = result.columns.get(name, [])
    with st.expander(f"**{name}** → {table or 'not recognised'}", expanded=table is None):
        choice = st.selectbox(
            "This file is the table", ["(not recognised)", *TABLE_ORDER],
            index=(TABLE_ORDER.index(table) + 1) if table in TABLE_ORDER else 0, key=f"table::{name}")
        if choice != "(not recognised)" and choice != table:
            overrides[name] = {"table": choice}
            st.rerun()
        if choice in TABLES and columns:
            spec = TABLES[choice]
            guessed = result.mappings.get(name, {})
            rows = [{"contract column": c, "required": c in spec.required, "your column": guessed.get(c, NONE)}
                    for c in (*spec.required, *spec.optional)]
            edited = st.data_editor(
                pd.DataFrame(rows), hide_index=True, width="stretch", key=f"map::{name}",
                disabled=["contract column", "required"],
                column_config={"your column": st.column_config.SelectboxColumn(
                    options=[NONE, *columns], required=True,
                    help="Which column of your file holds this value.")},
            )
            mapping = {r["contract column"]: r["your column"] for r in edited.to_dict("records")
                       if r["your column"] != NONE}
            if mapping != guessed and st.button("Apply this mapping", key=f"apply::{name}"):
                overrides[name] = {"table": choice, "mapping": mapping}
                st.rerun()
            extra = [c for c in columns if c not in set(mapping.values())]
            if extra:
                st.caption("Kept as customer attributes or ignored: " + ", ".join(extra[:30]))
        preview = result.previews.get(name)
        if preview is not None:
            st.dataframe(preview, hide_index=True, width="stretch")

st.markdown("#### Validation")
problems = result.problems_frame()
if problems.empty:
    st.success("No problems found.")
else:
    errors = int((problems["severity"] == "error").sum())
    warnings = int((problems["severity"] == "warning").sum())
    (st.error if errors else st.warning)(
        f"{plural(errors, 'error')} and {plural(warnings, 'warning')}. Errors must be fixed before loading; warnings "
        "are for your information.")
    # A static table, so that each message reads whole (a data grid cuts long text at the column's edge).
    st.table(validation_table(problems), hide_index=True)

replacing = True
if result.ok:
    summary = ", ".join(f"{t} ({plural(len(df), 'row')})" for t, df in result.tables.items())
    st.caption(f"Ready to load: {summary}. Revenue model: {result.meta.get('revenue_model')}.")
    # A load replaces every table: stored tables this upload has no file for are lost (customers would be
    # rebuilt from revenue, without names, plans or other attributes). Said, and confirmed, first.
    given = set(result.recognised.values())
    stored_customers = cached.ibis_tables().get("customers")
    from_file = stored_customers is not None and set(stored_customers.columns) - {"customer_id", "signup_date"}
    lost = [t for t in TABLE_ORDER if t in status["tables"] and t not in given
            and status["meta"].get("source") == "upload" and (t != "customers" or from_file)]
    if lost:
        described = "; ".join(f"**{t}** ({plural(status['tables'][t], 'row')})"
                              + (", rebuilt from the revenue without its names, plans and other columns"
                                 if t == "customers" else "") for t in lost)
        st.warning(f"Loading replaces the whole workspace, not only the tables uploaded here. These stored "
                   f"tables have no file in this upload and would be lost: {described}. To keep them, add their "
                   "files to this upload.", icon=":material/warning:")
        replacing = st.checkbox("Replace them: load only these files", key="replace_tables")
if st.button("Load into the workspace", type="primary", disabled=not (result.ok and replacing),
             icon=":material/upload:"):
    with st.spinner("Storing…"):
        stored = load(ws, uploads, LoadOptions(snapshot_date=snapshot, currency=currency))
    cached.refresh()
    if stored.ok:
        st.session_state.pop("prepared_key", None)
        st.session_state["upload_overrides"] = {}
        st.session_state["data_message"] = ("success",
                                            f"Loaded {plural(len(files), 'file')}. Every page now uses them.")
        st.rerun()
    else:
        st.error("The load failed; the workspace is unchanged.")
