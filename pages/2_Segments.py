"""Segments: tune a scheme's thresholds live, read each segment's numbers, and take the list to the CRM."""
from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

import charts
from economics.glossary import metric_definitions
from economics.ledger import churn_not_measured, last_complete_month, month_span, month_start
from economics.pipeline import for_data
from economics.segments import PLAYBOOK_DEFAULTS, segment_summary
from segmentation.cross import cross_segments
from segmentation.definition import DefinitionError, dump_definition, load_definition, with_updates
from segmentation.features import STATUSES, customer_status
from segmentation.schemes import MAX_ATTRIBUTE_VALUES, health_inputs_without_data, segment_order
from ui import cached, definition_editor as editor
from ui.format import pct, table_height
from ui.page import start_page

view = start_page("Segments", ":material/donut_small:")
if view is None:
    st.stop()

schemes = view.schemes
defn = view.definition
symbol = view.symbol

st.caption(f"Segmenting by **{schemes.get(view.scheme, view.scheme)}** as of **{view.as_of:%d %b %Y}**, "
           f"compared with **{view.compare_to:%d %b %Y}**. Change the scheme and dates in the sidebar.")
# Billing alone (subscriptions, no product events): activity is paying months, which says little.
if view.revenue_model == "subscription" and "events" not in cached.workspace_status()["tables"]:
    if view.scheme == "rfm_segment":
        st.info("Without product events, activity is a paying month: every paying customer was active last "
                "month, so recency only tells paying from churned customers and the RFM segments rest on "
                "frequency (paying months) and monetary value. Load events for recency that means usage.",
                icon=":material/info:")
    elif view.scheme == "behavior":
        st.info("Without product events, behaviour ranks paying customers by the months they have paid (Power "
                "the longest-paying, Light the fewest months), and Dormant means no payment for "
                f"{defn.behavior.dormant_days} days: churned. Load events to rank by usage.", icon=":material/info:")

# -- thresholds ---------------------------------------------------------------------------------------
if editor.is_editable(view.scheme):
    with st.expander(f"Thresholds of {schemes.get(view.scheme, view.scheme)}", expanded=True,
                     icon=":material/tune:"):
        no_data = health_inputs_without_data(cached.features(view.version, view.as_of, view.definition_toml)) \
            if view.scheme == "health_band" else ()
        changes = editor.edit_scheme(view.scheme, defn, symbol, view.revenue_model, no_data,
                                     billing_only=view.revenue_model == "subscription"
                                     and "events" not in cached.workspace_status()["tables"])
        edited, problem = editor.apply(defn, changes)
        if not problem and changes.get("custom"):
            problem = cached.rule_problem(view.version, view.as_of, dump_definition(edited))
        if problem:
            st.error(f"Not applied: {problem}", icon=":material/error:")
        else:
            editor.store_edit(view, edited)
        if view.scheme == "custom":
            labelled = cached.labels(view.version, view.as_of, view.definition_toml)
            matched = set(labelled["custom"].astype(str)) if "custom" in labelled else set()
            if nobody := [r.name for r in defn.custom.rules if r.name not in matched]:
                # The first rule a customer matches labels it: a later rule may match only customers taken.
                st.caption(f"No customer is labelled **{'**, **'.join(nobody)}** as of {view.as_of:%d %b %Y}: "
                           f"{'it matches' if len(nobody) == 1 else 'they match'} nobody, or only customers an "
                           "earlier rule takes (the first rule a customer matches wins)"
                           + ("; without product events, the event columns are 0 for everyone."
                              if "events" not in cached.workspace_status()["tables"] else "."))
            # Column names a rule can write as they are (a cross scheme's "value_tier+channel" is none), and the
            # churn model's probability, computed when a rule names it.
            usable = sorted(c for c in (set(cached.features(view.version, view.as_of, view.definition_toml).columns)
                                        | set(labelled.columns) | {"churn_probability"}) - {"customer_id", "custom"}
                            if str(c).isidentifier())
            st.caption("A rule can use: " + ", ".join(f"`{c}`" for c in usable) + ". Text values in quotes "
                       "(`plan = 'Team'`); combine with AND, OR, NOT.")
else:
    st.caption("This scheme uses the customers' own attribute values: nothing to tune.")

labels = cached.labels(view.version, view.as_of, view.definition_toml)
features = cached.features(view.version, view.as_of, view.definition_toml)

# -- more customer attributes as schemes (a CRM's contract type, region ...) -------------------------------
candidates = cached.attribute_candidates(view.version, view.as_of, view.definition_toml)
chosen_attrs = [a for a in defn.firmographic.attributes if a in candidates]
if candidates or chosen_attrs:
    with st.expander("Segment by other customer attributes", icon=":material/category:",
                     expanded=bool(chosen_attrs)):
        picked = st.multiselect(
            "Customers columns to offer under Segment by", candidates, default=chosen_attrs, key="attribute_schemes",
            help=f"Text columns of your customers file with 2 to {MAX_ATTRIBUTE_VALUES} values; each value becomes "
                 "a segment. Saved with the definition.")
        if picked != chosen_attrs:
            edited, problem = editor.apply(defn, {"firmographic": {"attributes": picked}})
            if problem:
                st.error(f"Not applied: {problem}", icon=":material/error:")
            else:
                editor.store_edit(view, edited)
        st.caption("Choose one in the sidebar's **Segment by** to see its segments on every page.")
# -- whom to count: paying customers by default (churned and never-paid sign-ups keep their labels too) ----
# label_all labels the features row for row (ui.cached._labels): each row's status, no lookup by id (at 100k
# customers the lookups cost 30 ms a rerun)
status = customer_status(features).to_numpy()
status_counts = pd.Series(status).value_counts()
offered = [s for s in STATUSES if status_counts.get(s, 0)]
transactional = view.revenue_model == "transactional"
# On order data a paying customer is one still buying (the Overview's "Active customers": not "Active", a
# behaviour segment's name); there RFM is how lapsed buyers are found (Can't lose them, Dormant), so it
# counts everyone.
status_name = {"Paying": "Buying", "Never paid": "Never paid", "Churned": "Churned"} if transactional else {}
everyone = view.scheme == "rfm_segment" and transactional
shown = st.pills(
    "Customers to count", offered, selection_mode="multi", format_func=lambda s: status_name.get(s, s),
    default=offered if everyone else [s for s in ("Paying",) if s in offered] or offered,
    key=f"segment_statuses_{view.scheme}",
    help=(f"Buying: bought in the last {defn.features.inactivity_days} days. Churned: no purchase for "
          f"{defn.features.inactivity_days} days." if transactional else
          "Paying: paying in the last complete month. Never paid: no paying month yet (trials, sign-ups who "
          "never converted). Churned: paid before and stopped.")
    + " Every customer keeps its labels; this chooses whom the chart, the table and the lists count.") or offered
left_out = [f"{status_counts[s]:,} {status_name.get(s, s).lower()}" for s in offered if s not in shown]
counted = pd.Series(status).isin(shown).to_numpy()
labels, status = labels[counted], status[counted]
st.caption(f"Counting **{len(labels):,}** customers ({', '.join(status_name.get(s, s).lower() for s in shown)})."
           + (f" Not counted: {' and '.join(left_out)}; pick them above to count them." if left_out else ""))
order = segment_order(view.scheme, defn, labels[view.scheme])
colors = charts.segment_colors(order)
earlier = cached.scheme_labels_at(view.version, view.compare_to, view.scheme, view.definition_toml)
earlier = earlier[earlier["status"].isin(shown).to_numpy()]   # the same statuses at the earlier date
econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
# MRR, churn and expansion from the segment economics once there is a complete month (churn and expansion
# read n/a until there is a churn window); the customers who are not paying have no MRR.
complete = last_complete_month(view.as_of) >= month_start(view.meta["min_date"])
summary = segment_summary(labels, features, earlier, view.scheme, order, econ.table if complete else None,
                          with_mrr="Paying" in shown)

# -- distribution and metrics -------------------------------------------------------------------------
word = view.revenue_word
clicked = st.plotly_chart(charts.distribution(summary, colors, view.currency,
                                              title=f"Customers and {word} by segment: "
                                                    f"{schemes.get(view.scheme, view.scheme)}", revenue_word=word),
                          config=charts.CHART_CONFIG, key="distribution", on_select="rerun",
                          selection_mode="points")
points = clicked.selection.points if clicked else []
# A click on a bar lists that segment's customers below (its name is the x of an upright bar, the y of a
# lying one).
bar = next((points[0][axis] for axis in ("x", "y") if points and points[0].get(axis) in set(summary["segment"])),
           None)
if bar is not None:
    st.session_state["segment_list"] = bar
st.caption("Click a bar to list that segment's customers below.")

playbook = st.session_state.setdefault("p_playbook", {})
table = summary.assign(
    mrr=summary["mrr"].round(0),
    playbook=[playbook.get(s, PLAYBOOK_DEFAULTS.get(s, "")) for s in summary["segment"]],
    # as text, so a segment without paying customer-months reads "n/a" instead of Streamlit's "None"
    churn_rate=summary["churn_rate"].map(lambda v: pct(v, 2)),
    expansion_rate=summary["expansion_rate"].map(lambda v: pct(v, 2)),
    nps=summary["nps"].map(lambda v: "n/a" if pd.isna(v) else f"{v:+.0f}" if round(v) else "0"))
has_nps = bool(summary["nps"].notna().any())
if not has_nps:   # no NPS answers loaded: no column of blanks
    table = table.drop(columns="nps")
# Order revenue swings with order sizes: its month-on-month increases alone (833% a month for Dormant on
# Online Retail, whose customers start the month with next to no revenue) say nothing without the decreases.
if transactional:
    table = table.drop(columns="expansion_rate")
st.markdown("#### Segment metrics")
nps_note = "NPS: % promoters minus % detractors among customers' latest answers. " if has_nps else ""
churn_note = (f"{'Churn' if transactional else 'Churn and expansion'}: monthly, pooled over "
              f"{month_span(econ.window)}, {view.churn_attribution(econ.assumptions.inactivity_days)} "
              if econ.window[0] is not None else
              churn_not_measured(view.revenue_model, econ.assumptions.inactivity_days) + " ")
st.caption((f"{view.revenue_series}: {last_complete_month(view.as_of):%B %Y}, the last complete month. "
            if complete else "") + churn_note + f"{nps_note}Change: customers now minus on "
           f"{view.compare_to:%d %b %Y}. The playbook column is yours to edit.")
edited_table = st.data_editor(
    table, hide_index=True, width="stretch", key="metrics_table",
    disabled=[c for c in table.columns if c != "playbook"],
    column_config={
        "segment": "Segment",
        "customers": st.column_config.NumberColumn("Customers", format="localized"),
        "share": st.column_config.NumberColumn("Share", format="percent"),
        "mrr": st.column_config.NumberColumn(view.revenue_header, format="localized"),
        "mrr_share": st.column_config.NumberColumn(f"Share of {word}", format="percent"),
        "churn_rate": st.column_config.TextColumn("Monthly churn"),
        "expansion_rate": st.column_config.TextColumn(
            "Monthly expansion" if view.revenue_model == "subscription" else "Monthly spend growth",
            help=metric_definitions(econ.assumptions, view.revenue_model, symbol)["expansion_rate"]),
        "nps": st.column_config.TextColumn("NPS", help="% promoters (9-10) minus % detractors (0-6), latest "
                                           "answer per customer; n/a: nobody in the segment answered."),
        "change": st.column_config.NumberColumn("Change in customers", format="%+d"),
        "playbook": st.column_config.TextColumn("Playbook", width="large"),
    },
)
playbook.update(dict(zip(edited_table["segment"], edited_table["playbook"])))

# -- customers of one segment, and the CRM export -----------------------------------------------------
st.markdown("#### Customers in a segment")
c1, c2 = st.columns([2, 1])
chosen = c1.selectbox("Segment", summary["segment"].tolist(), key="segment_list")
in_segment = (labels[view.scheme].astype(str) == chosen).to_numpy()
members = labels[in_segment]
# Features the labels lack (segmenting by plan, the labels hold it already: "plan" once).
wanted = [c for c in ("name", "plan", "tenure_days", "recency_days", "nps_latest")
          if c in features and c not in members]
members = members.merge(features[["customer_id", *wanted]], on="customer_id", how="left")
columns = ["customer_id", *[c for c in ("name", "plan") if c in members and c != view.scheme], "status", "mrr",
           "health_score", "tenure_days", "recency_days", view.scheme]
members = members.assign(mrr=members["mrr"].round(2),   # cents, not the ledger's division remainders
                         status=[status_name.get(s, s) for s in status[in_segment]])   # merge keeps the order
st.dataframe(members[columns].sort_values("mrr", ascending=False), hide_index=True, placeholder="n/a",
             width="stretch", height=280,
             column_config={"customer_id": "Customer", "name": "Name", "plan": "Plan", "status": "Status",
                            "tenure_days": st.column_config.NumberColumn("Tenure (days)"),
                            "recency_days": st.column_config.NumberColumn("Days since last activity"),
                            view.scheme: "Segment",
                            "mrr": st.column_config.NumberColumn(view.customer_revenue_header, format="localized"),
                            "health_score": st.column_config.ProgressColumn("Health", min_value=0, max_value=100,
                                                                            format="%.0f")})
# The CSV is made when the popover opens, not on every threshold move (about 0.2 s at 100k customers).
export = c2.popover("Membership CSV", icon=":material/download:", key="membership_export",
                    on_change="rerun", width="stretch",
                    help="For your CRM: one row per customer, whatever its status (a status column says "
                         "which), with every scheme's label and score, as of the as-of date.")
if export.open:
    export.download_button(f"Download all {len(features):,} customers as CSV",
                           cached.membership_csv(view.version, view.as_of, view.definition_toml),
                           file_name=f"segments_{view.as_of:%Y-%m-%d}.csv", mime="text/csv",
                           icon=":material/download:", key="download_membership", on_click="ignore",
                           type="primary")
    export.caption(f"Labels as of {view.as_of:%d %b %Y} under the definition in use; import it into your CRM "
                   "to target a segment.")

# -- cross segmentation -------------------------------------------------------------------------------
st.markdown("#### Cross segmentation")
others = [s for s in schemes if s != view.scheme]
if others:
    second = st.selectbox("Combine with", others, format_func=lambda s: schemes[s],
                          index=others.index("behavior") if "behavior" in others else 0, key="cross_with")
    # The grid shows every combination's true count (a folded cell is not an empty one); the table beside
    # it lists the combinations big enough to read, the small ones folded into Other.
    rows, cols = (segment_order(s, defn, labels[s]) for s in (view.scheme, second))
    grid = pd.crosstab(labels[view.scheme].astype("str"), labels[second].astype("str"))
    grid = grid.loc[sorted(grid.index, key=lambda v: (rows + [v]).index(v)),
                    sorted(grid.columns, key=lambda v: (cols + [v]).index(v))]
    st.plotly_chart(charts.cross_heatmap(grid, f"{schemes[view.scheme]} x {schemes[second]}",
                                         schemes[second], schemes[view.scheme]),
                    config=charts.CHART_CONFIG, key="cross")
    crossed = cross_segments(labels, view.scheme, second, defn.cross.min_size)
    # The customers' own MRR at D (on order data their 12-month average), in whole units.
    crossed = crossed.assign(share=crossed["customers"] / max(len(labels), 1),
                             mrr_share=crossed["mrr"] / (labels["mrr"].sum() or float("nan")),
                             mrr=crossed["mrr"].round(0))
    st.dataframe(crossed[["segment", "customers", "share", "mrr", "mrr_share"]], hide_index=True, width="stretch",
                 height=table_height(len(crossed), 560), placeholder="n/a",
                 column_config={"segment": "Combination",
                                "customers": st.column_config.NumberColumn("Customers", format="localized"),
                                "share": st.column_config.NumberColumn("Share", format="percent"),
                                "mrr": st.column_config.NumberColumn(view.summed_revenue_header,
                                                                     format="localized"),
                                "mrr_share": st.column_config.NumberColumn(f"Share of {word}", format="percent")})
    st.caption(f"The grid counts every combination. The table lists those with at least {defn.cross.min_size} "
               "customers (a minimum set in the definition file); the smaller ones are summed in Other.")

# -- save, load and share the definition --------------------------------------------------------------
st.markdown("#### Definition")
st.caption(f"Current: **{view.definition_name}**. Thresholds, weights, rules and economics assumptions live "
           "in one TOML file: save it here (shared with everyone on this server), download it for version "
           "control, or upload one.")
customers_table = cached.ibis_tables().get("customers")
columns_now = list(customers_table.columns) if customers_table is not None else []
if absent := [a for a in defn.firmographic.attributes if a not in columns_now]:
    # As the report command says on stderr: a name that is no column segments nothing.
    st.warning(f"The definition's `[firmographic] attributes` name {' and '.join(map(repr, absent))}, but no "
               f"customers column is called so: nothing is segmented by {'them' if len(absent) > 1 else 'it'}. "
               f"The customers columns: {', '.join(columns_now)}.", icon=":material/info:")
c1, c2, c3 = st.columns(3)


def save(name: str) -> None:
    try:
        text = dump_definition(with_updates(defn, meta={"name": name, "date": date.today()}))
        cached.workspace().save_definition(name, text)
        editor.store(load_definition(text), name)
        st.toast(f"Saved “{name}”.")
        st.rerun()
    except (ValueError, DefinitionError) as exc:
        st.error(str(exc))


with c1.form("save_definition", border=False):
    name = st.text_input("Save as", value=view.definition_name.replace(" (edited)", "")).strip()
    if st.form_submit_button("Save definition", icon=":material/save:"):
        st.session_state.pop("p_replace_definition", None)
        if not name:
            st.error("Type a name to save the definition under.")
        elif name.casefold() == "default":
            st.error("“Default” is the shipped definition, which a link without a saved name opens: save yours "
                     "under another name.")
        elif name in cached.saved_definitions():   # everyone's, and their links open it: asked first
            st.session_state["p_replace_definition"] = name
        else:
            save(name)
if replacing := st.session_state.get("p_replace_definition"):
    c1.warning(f"A definition named “{replacing}” is already saved. Everyone on this server shares it, and the "
               "links to it will open yours instead.", icon=":material/warning:")
    if c1.button(f"Replace “{replacing}”", key="replace_definition"):
        st.session_state.pop("p_replace_definition")
        save(replacing)
c2.download_button("Download definition (TOML)", view.definition_toml.encode(),
                   file_name=f"{view.definition_name.replace(' ', '_').lower()}.toml", mime="application/toml",
                   icon=":material/download:")
uploaded = c3.file_uploader("Upload a definition", type=["toml"], key="definition_upload")
if uploaded is not None and st.session_state.get("p_definition_uploaded") != uploaded.file_id:
    st.session_state["p_definition_uploaded"] = uploaded.file_id
    try:
        # what the file leaves out and the data decides (a CRM snapshot's churn window) as the data says
        text = uploaded.getvalue().decode("utf-8")
        loaded = for_data(load_definition(text), view.meta)
        if problem := cached.rule_problem(view.version, view.as_of, dump_definition(loaded)):
            raise DefinitionError(problem)
        # Named by its [meta] name, else by the file: not "Default", which its numbers may no longer be.
        named = str((tomllib.loads(text).get("meta") or {}).get("name") or "").strip() or Path(uploaded.name).stem
        editor.store(loaded, editor.honest_name(named, dump_definition(loaded), cached.default_definition_toml()))
        editor.bump_generation()
        st.rerun()
    except UnicodeDecodeError:
        st.error(f"{uploaded.name} was not loaded: it is not text in UTF-8. A definition is a TOML text file: "
                 "download one here, edit it in a text editor, save it as UTF-8 and upload it again.")
    except DefinitionError as exc:
        st.error(f"{uploaded.name} was not loaded: {exc}")
