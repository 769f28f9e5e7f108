"""Transitions: how customers moved between segments from one date to another, and who moved."""
from __future__ import annotations

import streamlit as st

import charts
from economics.ledger import last_complete_month
from ingest.export import csv_bytes
from segmentation.schemes import segment_order
from segmentation.transitions import CHURNED, ENTERING, NEW, REACTIVATED, watched_movements
from ui import cached
from ui.format import file_name, money, plural, table_height
from ui.page import snapshot_note, start_page, with_names

view = start_page("Segment transitions", ":material/swap_horiz:")
if view is None:
    st.stop()

schemes = view.schemes
scheme_name = view.scheme_name
defn = view.definition
if view.compare_to >= view.as_of:
    st.warning("Set **Compare with** in the sidebar to a date before **As of** to see how customers moved.")
    st.stop()

snapshot_note(view, "Nobody's MRR changes in it: the only moves are customers who joined or left, and the "
                    "tiers' MRR is today's.")
flows = cached.transitions(view.version, view.scheme, view.compare_to, view.as_of, view.definition_toml)
labels = cached.labels(view.version, view.as_of, view.definition_toml)
order = segment_order(view.scheme, defn, labels[view.scheme])
colors = charts.segment_colors(order)
left, right = f"{view.compare_to:%d %b %Y}", f"{view.as_of:%d %b %Y}"
# Which months a customer's revenue on each date reads (complete months only).
months = f"{last_complete_month(view.compare_to):%b %Y} and {last_complete_month(view.as_of):%b %Y}"
revenue_on_a_date = (f"A customer's average monthly revenue on a date covers the 12 complete months to {months}."
                     if view.revenue_model == "transactional" else
                     f"A customer's {view.revenue_series} on a date is its last complete month's ({months}).")
st.caption(f"**{scheme_name}** on {left} and on {right}, with the thresholds of {left} applied at both dates "
           f"(so a move is a change in the customer, not in the cut-offs). {NEW}: signed up since; {REACTIVATED}: "
           f"had churned by {left} and came back; {CHURNED}: stopped paying (a customer churned by a date is in no "
           "segment there, and both dates use the first's cut-offs, so counts can differ from the Segments page). "
           f"{revenue_on_a_date}")

st.plotly_chart(charts.sankey(flows, colors, f"{scheme_name} transitions", left, right),
                config=charts.CHART_CONFIG, key="sankey")
start_total = int(flows.loc[~flows["from_segment"].isin(ENTERING), "customers"].sum())
end_total = int(flows.loc[flows["to_segment"] != CHURNED, "customers"].sum())
came_back = int(flows.loc[flows["from_segment"] == REACTIVATED, "customers"].sum())
st.caption(f"{plural(start_total, 'customer')} on {left} + "
           f"{int(flows.loc[flows['from_segment'] == NEW, 'customers'].sum()):,} new "
           + (f"+ {came_back:,} reactivated " if came_back else "")
           + f"- {int(flows.loc[flows['to_segment'] == CHURNED, 'customers'].sum()):,} churned = "
           f"{end_total:,} on {right}.")

st.markdown("#### Movements to watch")
watched = watched_movements(flows)
if watched.empty:
    st.caption("The watched movements (Active → Light, Light → Dormant, Healthy → At-risk, Active → Power, "
               "At-risk → Healthy) belong to the Behaviour and Health schemes; choose one in the sidebar.")
else:
    # Sums over the movers, in whole currency units (on order data the 12-month averages carry remainders).
    watched = watched.round({"mrr_from": 0, "mrr_to": 0})
    st.dataframe(watched[["movement", "customers", "share_of_from", "mrr_from", "mrr_to"]], hide_index=True,
                 placeholder="n/a", width="stretch", column_config={
                     "movement": "Movement", "customers": st.column_config.NumberColumn("Customers",
                                                                                       format="localized"),
                     "share_of_from": st.column_config.NumberColumn("Share of the first segment", format="percent"),
                     "mrr_from": st.column_config.NumberColumn(f"Total {view.customer_revenue_header} on {left}",
                                                               format="localized"),
                     "mrr_to": st.column_config.NumberColumn(f"Total {view.customer_revenue_header} on {right}",
                                                             format="localized")})

st.markdown("#### Transition matrix")
grid = flows.pivot_table(index="from_segment", columns="to_segment", values="customers", aggfunc="sum",
                         fill_value=0)
rank = {s: i for i, s in enumerate([*ENTERING, *order, CHURNED])}
grid = grid.loc[sorted(grid.index, key=lambda s: rank.get(s, 99)), sorted(grid.columns, key=lambda s: rank.get(s, 99))]
st.plotly_chart(charts.cross_heatmap(grid, f"Customers by segment on {left} (rows) and {right} (columns)",
                                     f"Segment on {right}", f"Segment on {left}"),
                config=charts.CHART_CONFIG, key="matrix")

st.markdown("#### Who moved")
people = cached.customer_transitions(view.version, view.scheme, view.compare_to, view.as_of, view.definition_toml)
c1, c2 = st.columns(2)
froms = [s for s in grid.index]
src = c1.selectbox(f"From (on {left})", froms, key="move_from")
dsts = [c for c in grid.columns if grid.loc[src, c] > 0]
dst = c2.selectbox(f"To (on {right})", dsts, key="move_to")
movers = people[(people["from_segment"] == src) & (people["to_segment"] == dst)].sort_values("mrr_from",
                                                                                           ascending=False)
movers = movers.round({"mrr_from": 2, "mrr_to": 2})   # cents, not the 12-month averages' remainders
movers = with_names(movers, cached.scheme_features(view.version, view.as_of, view.definition_toml, view.scheme))
mrr_change = movers["mrr_to"].sum() - movers["mrr_from"].sum()
st.caption(f"{plural(len(movers), 'customer')}; {view.summed_revenue}: "
           f"{money(movers['mrr_from'].sum(), view.currency)} → "
           f"{money(movers['mrr_to'].sum(), view.currency)} ({'+' if mrr_change >= 0 else '-'}"
           f"{money(abs(mrr_change), view.currency)}).")
st.dataframe(movers, hide_index=True, placeholder="n/a", width="stretch", height=table_height(len(movers), 260),
             column_config={
                 "customer_id": "Customer", "name": "Name", "from_segment": f"Segment on {left}",
                 "to_segment": f"Segment on {right}",
                 "mrr_from": st.column_config.NumberColumn(f"{view.customer_revenue_header} on {left}",
                                                           format="localized"),
                 "mrr_to": st.column_config.NumberColumn(f"{view.customer_revenue_header} on {right}",
                                                         format="localized")})
st.download_button("Download these customers (CSV)", csv_bytes(movers),
                   file_name=file_name(f"transitions_{src}_to_{dst}_{view.as_of:%Y-%m-%d}.csv"),
                   mime="text/csv", icon=":material/download:", key="download_movers")
