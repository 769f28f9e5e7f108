"""Cohorts: how much of each signup cohort keeps paying, month by month, overall and by segment."""
from __future__ import annotations

import json

import pandas as pd
import streamlit as st

import charts
from economics.cohorts import average_curve
from segmentation.schemes import segment_order
from ui import cached
from ui.page import needs_table, snapshot_note, start_page

view = start_page("Cohort retention", ":material/grid_on:")
if view is None:
    st.stop()

schemes = view.schemes
defn = view.definition
scheme_name = view.scheme_name
METRICS = {"retention": "Logo retention", "revenue_retention": "Revenue retention (net)",
           "gross_revenue_retention": "Gross revenue retention"}

c1, c2 = st.columns([3, 1])
c3, c4 = st.columns([3, 1])
metric = c1.segmented_control("Show", list(METRICS), format_func=METRICS.get, default="retention",
                              key="cohort_metric") or "retention"
granularity = c2.segmented_control("Cohorts by", ["month", "quarter"], default="month",
                                   key="cohort_granularity") or "month"
labels = cached.labels(view.version, view.as_of, view.definition_toml)
order = segment_order(view.scheme, defn, labels[view.scheme])
present = [s for s in order if s in set(labels[view.scheme].astype(str))]
segment = c3.selectbox(f"Segment ({scheme_name})", ["All customers", *present], key="cohort_segment")
at_acquisition = c4.toggle("Segment at acquisition", key="cohort_at_acq",
                           help="Off: customers in the segment at the as-of date. On: in the segment at their "
                                "first paid month. For the segment shown and for the compared curves below.")
# Order data: a first purchase and customers buying, not paying a subscription.
first, active = ("purchase", "buying") if view.revenue_model == "transactional" else ("payment", "paying")


def _ids(seg: str) -> tuple[str, ...]:
    frame = labels[labels[view.scheme].astype(str) == seg]
    return tuple(sorted(frame["customer_id"].astype(str)))


def _acquisition_ids(seg: str) -> tuple[str, ...]:
    history = cached.acquisition_segments(view.version, view.as_of, view.scheme, view.definition_toml)
    return tuple(sorted(history.loc[history["segment"] == seg, "customer_id"].astype(str)))


ids = None if segment == "All customers" else (_acquisition_ids(segment) if at_acquisition else _ids(segment))
table = cached.cohorts(view.version, view.as_of, granularity, "revenue", ids)
if table.empty:
    st.info("No paying customers in this selection yet.")
    st.stop()

snapshot_note(view, "So cohorts keep every customer until that month, then lose at once all who left: read "
                    "churn from the snapshot month, not from these curves.")
shown = table.assign(cohort=[f"{c:%Y-%m}" if granularity == "month" else f"{c.year} Q{(c.month - 1) // 3 + 1}"
                             for c in table["cohort"]])
who = "all customers" if segment == "All customers" else \
    f"{segment} ({'at acquisition' if at_acquisition else f'at {view.as_of:%d %b %Y}'})"
st.plotly_chart(charts.retention_heatmap(shown, metric, title=f"{METRICS[metric]} by first-paid {granularity}, "
                                                              f"{who}",
                                         period_title=f"{granularity.capitalize()}s since first {first}"),
                config=charts.CHART_CONFIG, key="heatmap")
st.caption(f"A cohort is the {granularity} of a customer's first {first}. Period 0 is that {granularity}. "
           f"Logo retention: share of the cohort {active} in the period; revenue retention: the cohort's revenue "
           "against period 0 (expansion can lift it above 100%; a customer's month whose refunds exceed its "
           "revenue counts as 0); gross: each customer capped at its period-0 revenue. "
           + ("By quarter, revenue is compared at a full quarter's rate: a customer's first quarter counts from "
              "its first month, and the quarter still running from the months with data. "
              if granularity == "quarter" else "")
           + "Hover a cell for counts. * marks a period that is not complete yet (grey)."
           + (f" Over {charts.CELL_LABELS_UP_TO} periods the cells are too narrow for their percentages: hover "
              "them, or show cohorts by quarter." if table["period"].nunique() > charts.CELL_LABELS_UP_TO else ""))

# The data's first month (quarter) may hold, besides the customers who started then, customers who started
# before the data begins (left-censored: not a true cohort). Said unless the customers' own signup dates
# show nobody started before the data (the sample company).
first_cohort = pd.Timestamp(table["cohort"].min())
data_start = pd.Timestamp(view.meta.get("min_date"))
signed_up = cached.features(view.version, view.as_of, view.definition_toml)["signup_date"]
known = "customers" in json.loads(view.meta.get("files") or "{}") and view.meta.get("revenue_shape") != "snapshot"
if (first_cohort <= data_start < first_cohort + pd.DateOffset(months=1 if granularity == "month" else 3)
        and not (known and signed_up.min() >= data_start)):
    label = f"{first_cohort:%Y-%m}" if granularity == "month" else \
        f"{first_cohort.year} Q{(first_cohort.month - 1) // 3 + 1}"
    st.caption(f"The first cohort, **{label}**, starts with the data: customers whose first {first} came before "
               f"{data_start:%d %b %Y} fall in it too, so it may mix established customers with new ones and read "
               "higher than a true cohort.")

# -- average curves, overall and by segment -----------------------------------------------------------
st.markdown("#### Average curve, weighted by cohort size")
compare = st.multiselect(f"Compare segments ({scheme_name})", present, default=present[:3] if
                         view.scheme == "value_tier" else present[:2], key="cohort_compare")
curves = []
overall = average_curve(cached.cohorts(view.version, view.as_of, granularity, "revenue", None))
curves.append(overall.assign(segment="All customers"))
for seg in compare:
    seg_table = cached.cohorts(view.version, view.as_of, granularity, "revenue",
                               _acquisition_ids(seg) if at_acquisition else _ids(seg))
    if not seg_table.empty:
        curves.append(average_curve(seg_table).assign(segment=seg))
curve_frame = pd.concat(curves, ignore_index=True)
if compare and not at_acquisition:
    # The default (DEFINITIONS.md "Cohort filters": segment at D) reads near 100% by construction: say so loudly.
    st.warning(f"These curves follow each segment's **survivors**: segments are taken at {view.as_of:%d %b %Y}, "
               "when customers who churned are no longer in them, so the curves stay near the top. To compare "
               "how well each segment retains the customers it won, take segments at acquisition.",
               icon=":material/warning:")
    st.button("Compare segments at acquisition", key="cohort_to_acq", icon=":material/history:",
              on_click=lambda: st.session_state.update(cohort_at_acq=True))
elif compare:
    st.caption("Segments are taken at each customer's first paid month (at acquisition), so each curve follows "
               "everyone the segment won, churned customers included.")
colors = charts.segment_colors(order) | {"All customers": "#111827"}
st.plotly_chart(charts.retention_curves(curve_frame[["segment", "period", metric, "cohorts", "customers"]], colors,
                                        metric, title=f"{METRICS[metric]}: average curve"),
                config=charts.CHART_CONFIG, key="curves")
st.caption(f"Each point averages the cohorts that have completed that {granularity} (a {granularity} still "
           "running at the as-of date is left out), weighted by size; a hollow "
           f"point rests on fewer than {charts.FEW_COHORTS} cohorts (the oldest ones), so read the end of a "
           "curve with care. Hover a point for its cohorts and customers.")

# -- activation cohorts ------------------------------------------------------------------------------
st.markdown("#### Activation cohorts")
if needs_table(view, "events", "Activation cohorts"):
    events = cached.event_names(view.version)
    c1, c2 = st.columns([2, 1])
    event = c1.selectbox("Did this event", events, key="activation_event",
                         index=events.index(defn.features.key_event) if defn.features.key_event in events else 0)
    within = c2.number_input("within days of signup", 1, 365, 14, key="activation_days")
    act = cached.activation(view.version, view.as_of, event, int(within))
    act_shown = act.assign(cohort=act["cohort"].dt.strftime("%Y-%m"))
    st.plotly_chart(charts.activation_bars(act_shown, event, int(within)), config=charts.CHART_CONFIG,
                    key="activation")
