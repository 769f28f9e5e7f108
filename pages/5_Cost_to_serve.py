"""Cost to serve: what support, onboarding and infrastructure cost each segment, against what it pays."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
from segmentation.schemes import in_segment_order, segment_order
from ui import cached, definition_editor as editor
from ui.format import pct, plural
from ui.page import hidden_drain_hint, needs_table, start_page

view = start_page("Cost to serve", ":material/support_agent:")
if view is None:
    st.stop()

defn = view.definition
symbol = view.symbol
editor.assumptions_sidebar(view, defn, symbol)

schemes = view.schemes
scheme_name = view.scheme_name
econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
labels = cached.labels(view.version, view.as_of, view.definition_toml)
features = cached.features(view.version, view.as_of, view.definition_toml)
order = segment_order(view.scheme, defn, labels[view.scheme])
colors = charts.segment_colors(order)
paying = in_segment_order(econ.table[econ.table["paying_customers"] > 0], order)
assumptions_line = editor.assumptions_text(defn, symbol, view.definition_name)
st.caption(f"By **{scheme_name}** as of **{view.as_of:%d %b %Y}**. Costs per paying customer-month over the last "
           f"{plural(econ.assumptions.churn_window_months, 'complete month')}, from each customer's first paid "
           "month.")
editor.default_costs_note(view, symbol, cached.workspace_status()["tables"])
hidden_drain_hint(view, schemes)
if needs_table(view, "tickets", "Support cost by segment"):
    left, right = st.columns(2)
    with left:
        money_frame = paying.assign(revenue=paying["arpa"]).melt(
            id_vars="segment", value_vars=["revenue", "support_cost_pcm"], var_name="measure", value_name="value")
        st.plotly_chart(charts.grouped_bars(money_frame, {"revenue": "Revenue (ARPA)",
                                                          "support_cost_pcm": "Support cost"},
                                            view.currency, "Support cost against revenue, per customer-month",
                                            f"{symbol} per customer-month"),
                        config=charts.CHART_CONFIG, key="support_vs_revenue")
    with right:
        st.plotly_chart(charts.bar_by_segment(paying, "support_share_of_revenue", colors,
                                              "Support cost as a share of revenue", "Share of revenue",
                                              "{:.0%}", percent=True),
                        config=charts.CHART_CONFIG, key="support_share")
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.bar_by_segment(paying, "tickets_pcm", colors, "Tickets per customer per month",
                                              "Tickets", "{:.2f}"),
                        config=charts.CHART_CONFIG, key="tickets")
    with right:
        costs = paying.assign(onboarding_pcm=paying["onboarding_cost"] / paying["lifetime_months"]).melt(
            id_vars="segment", value_vars=["support_cost_pcm", "infra_cost_pcm", "onboarding_pcm"],
            var_name="measure", value_name="value")
        st.plotly_chart(charts.grouped_bars(costs, {"support_cost_pcm": "Support", "infra_cost_pcm": "Infra",
                                                    "onboarding_pcm": "Onboarding (spread over lifetime)"},
                                            view.currency, "Cost to serve, per customer-month",
                                            f"{symbol} per customer-month"),
                        config=charts.CHART_CONFIG, key="costs")
    st.caption(assumptions_line)

    st.markdown("#### Do power users lift or drag margins?")
    colour_by = st.segmented_control("Colour customers by", ["behavior", view.scheme], default="behavior",
                                     format_func=lambda s: schemes.get(s, s), key="scatter_colour") or "behavior"
    per = features[["customer_id", "mrr", "support_cost_90d"]].merge(
        labels[["customer_id", colour_by]], on="customer_id")
    per = per[per["mrr"] > 0]
    scatter = pd.DataFrame({"customer_id": per["customer_id"], "segment": per[colour_by].astype(str),
                            "revenue": per["mrr"], "support_cost": per["support_cost_90d"].fillna(0) / 3})
    scatter_colors = charts.segment_colors(segment_order(colour_by, defn, labels[colour_by]))
    st.plotly_chart(charts.customer_scatter(scatter, scatter_colors, view.currency),
                    config=charts.CHART_CONFIG, key="scatter")
    above = int((scatter["support_cost"] > scatter["revenue"] * 0.3).sum())
    by = scatter.groupby("segment").agg(revenue=("revenue", "sum"), support=("support_cost", "sum"))
    worst = (by["support"] / by["revenue"]).sort_values(ascending=False)
    if len(worst):
        st.caption(f"Support cost per month = the last 90 days' ticket minutes x cost per minute, divided by "
                   f"3 months. {plural(above, 'paying customer')} {'costs' if above == 1 else 'cost'} more than 30% "
                   "of their revenue in support; "
                   f"**{worst.index[0]}** customers spend {pct(worst.iloc[0])} of their revenue on support.")

st.markdown("#### Feature adoption by segment")
if needs_table(view, "events", "Feature adoption"):
    adoption = cached.adoption(view.version, view.as_of, view.scheme, view.definition_toml)
    if adoption.empty:
        st.info("No events in the 30 days before the as-of date.")
    else:
        st.plotly_chart(charts.adoption_heatmap(adoption, order,
                                                f"Feature use by segment ({scheme_name}): share of customers, "
                                                "last 30 days"),
                        config=charts.CHART_CONFIG, key="adoption")
        st.caption("A roadmap can favour what high-value segments use: compare the columns.")
