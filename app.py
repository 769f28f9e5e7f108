"""Overview: the state of the business by segment, on one screen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
from economics.costs import unmeasured_costs
from economics.findings import CROSS_SCOPE, draining_segments, top_findings
from economics.kpis import headline_kpis, snapshot_tiles_note
from economics.ledger import add_months, last_complete_month
from ingest.problems import noted_at_load
from ui import cached
from ui.definition_editor import default_costs_note
from ui.format import file_name, kpi_delta, kpi_value, plain, plural
from ui.page import start_page

view = start_page("Overview", ":material/space_dashboard:")
if view is None:
    st.stop()

status = cached.workspace_status()
schemes = view.schemes
last = last_complete_month(view.as_of)
previous_as_of = last  # as of the 1st of the last complete month, the complete month before it is the last
snapshot = view.meta.get("revenue_shape") == "snapshot"
st.caption(
    f"Data from **{view.meta.get('min_date')}** to **{view.meta.get('max_date')}** · as of "
    f"**{view.as_of:%d %b %Y}** · last complete month **{last:%B %Y}** · {status['model_label']} · "
    + (snapshot_tiles_note(view.meta.get("snapshot_date", "")) if snapshot else
       f"changes against the month before, **{add_months(last, -1):%B %Y}**, as the data reads it now (a refund "
       "dated later restates its month) · the sidebar's *Compare with* date sets the Segments page's changes, "
       "the Transitions and the board pack's transitions")
)

# What the load warned about (rows skipped, a snapshot's churn, an incomplete last month) bears on the
# tiles below: said here too, not only on the Data page.
noted = noted_at_load(view.meta, view.as_of)
if noted:
    st.warning("**Noted when these files were loaded** (details on the Data page):\n"
               + "\n".join(f"- {plain(where) + ': ' if where else ''}{plain(message)}" for where, message in noted),
               icon=":material/warning:")

econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
blended = econ.blended.iloc[0]
prior = cached.economics(view.version, previous_as_of, view.scheme, view.definition_toml).blended.iloc[0]
moves = cached.movements(view.version, view.as_of, econ.assumptions.inactivity_days)
nrr, grr = cached.nrr_grr(view.version, view.as_of)
nrr_before, grr_before = cached.nrr_grr(view.version, previous_as_of)
cur = view.currency
mrr_word = view.revenue_series

kpis = headline_kpis(moves, (nrr, grr), (nrr_before, grr_before), blended, prior, econ.window,
                     econ.assumptions, view.revenue_model, snapshot=snapshot)
for i, k in enumerate(kpis):
    if i % 4 == 0:
        tiles = st.columns(4)
    if k.missing:   # say why the tile reads n/a, in grey, where the change would be
        tiles[i % 4].metric(k.label, "n/a", k.missing, delta_color="off", delta_arrow="off", border=True,
                            help=k.help)
        continue
    tiles[i % 4].metric(k.label, kpi_value(k.kind, k.value, cur), kpi_delta(k.kind, k.value, k.before, cur),
                        delta_color="inverse" if k.lower_is_better else "normal", border=True, help=k.help)

# -- findings ----------------------------------------------------------------------------------------
symbol = view.symbol
tables = [econ.table]
if cached.CROSS_SCHEME in schemes and view.scheme != cached.CROSS_SCHEME:
    tables.append(cached.economics(view.version, view.as_of, cached.CROSS_SCHEME, view.definition_toml).table)
findings = top_findings(tables, blended, symbol, econ.assumptions.min_customers,
                        revenue_word=view.revenue_word, thresholds=econ.assumptions)
st.markdown("#### What stands out")
default_costs_note(view, symbol, status["tables"], where="in the sidebar of Unit economics or Cost to serve")
if findings:
    cols = st.columns(len(findings))
    for col, f in zip(cols, findings):
        icon = {"bad": ":material/trending_down:", "good": ":material/trending_up:"}.get(f.severity,
                                                                                        ":material/info:")
        box = {"bad": col.error, "good": col.success}.get(f.severity, col.info)
        box(f.text, icon=icon)
elif (econ.table["paying_customers"] >= econ.assumptions.min_customers).any():
    st.info("Nothing stands out yet: no segment drains margin or clearly pays, and churn by segment needs a "
            "complete month with paying customers.")
else:
    st.info(f"Not enough paying customers per segment (at least {econ.assumptions.min_customers}) to say "
            "anything with confidence yet.")
if scope := " ".join(filter(None, [CROSS_SCOPE if len(tables) > 1 else "",
                                   unmeasured_costs(cached.workspace_status()["tables"])])):
    st.caption(scope)

# -- segment map ------------------------------------------------------------------------------------
map_options = list(dict.fromkeys([view.scheme, *([cached.CROSS_SCHEME] if cached.CROSS_SCHEME in schemes else [])]))


def _drains(e) -> bool:
    return not draining_segments(e.table, e.assumptions.min_customers).empty


# open the map on the cut that shows a margin-draining segment, when the chosen scheme hides it
default_map = (cached.CROSS_SCHEME if len(map_options) > 1 and not _drains(econ)
               and _drains(cached.economics(view.version, view.as_of, cached.CROSS_SCHEME, view.definition_toml))
               else view.scheme)
map_scheme = st.segmented_control("Map segments by", map_options, default=default_map,
                                  format_func=lambda s: schemes.get(s, s), key="map_scheme") or view.scheme
map_econ = econ if map_scheme == view.scheme else cached.economics(view.version, view.as_of, map_scheme,
                                                                  view.definition_toml)
paying = map_econ.table[map_econ.table["paying_customers"] >= map_econ.assumptions.min_customers]
rule = econ.assumptions
if paying.empty:   # an empty frame of axes reads as a broken chart
    st.caption(f"No segment map yet: it places segments with at least "
               f"{plural(rule.min_customers, 'paying customer')}, and no segment of "
               f"{schemes.get(map_scheme, map_scheme)} has that many.")
else:
    st.plotly_chart(charts.segment_map(paying, cur, title=f"Segment map: {schemes.get(map_scheme, map_scheme)}",
                                       revenue_word=view.revenue_word, thresholds=map_econ.assumptions),
                    config=charts.CHART_CONFIG, key="segment_map")
    st.caption(f"Verdict: **healthy** when net LTV:CAC >= {rule.healthy_ltv_cac:g} and payback <= "
               f"{plural(rule.healthy_payback_months, 'month')}; **margin-draining** when net LTV:CAC < "
               f"{rule.draining_ltv_cac:g} or contribution per customer-month < 0; **marginal** otherwise. "
               f"Bubble size: {view.revenue_word}. Segments with fewer than "
               f"{plural(rule.min_customers, 'paying customer')} are not shown."
               f" {charts.map_note(paying)}".rstrip())

st.markdown("#### Board pack")
st.caption("One HTML page and a PDF with these tiles, the findings, the segment map, cohort retention, unit "
           "economics, cost to serve and transitions, stamped with the as-of date, the definition and its "
           "assumptions.")
pack_title = st.text_input("Title of the pack", placeholder=cached.pack_title(), key="pack_title", max_chars=80,
                           width=420, help="The pack's first line and the PDF's title, usually the company's name. "
                                           "Left empty, it reads as shown in grey.")
# What a pack is built from: it is offered for download only while the page shows the same.
wanted = {"data": status["version"], "as-of date": view.as_of, "comparison date": view.compare_to,
          "scheme": view.scheme, "definition": (view.definition_toml, view.definition_name), "title": pack_title}
if st.button("Build the board pack", icon=":material/picture_as_pdf:", key="build_pack"):
    with st.spinner("Rendering charts and printing the PDF…"):
        pack = cached.board_pack(view.version, view.as_of, view.compare_to, view.scheme, view.definition_toml,
                                 view.definition_name, pack_title)
        st.session_state["board_pack"] = (wanted, pack)
built_for, pack = st.session_state.get("board_pack") or (None, None)
if pack and built_for == wanted:
    c1, c2, _ = st.columns([1, 1, 3])
    named = "" if view.definition_name == "Default" else f"_{view.definition_name}"
    stem = file_name(f"board_pack_{view.as_of:%Y-%m-%d}{named}")
    c1.download_button("Download PDF", pack["pdf"], f"{stem}.pdf", "application/pdf", icon=":material/download:",
                       key="download_pdf")
    c2.download_button("Download HTML", pack["html"], f"{stem}.html", "text/html", icon=":material/download:",
                       key="download_html")
elif pack:
    # An older pack would carry other numbers than the page under a name saying this page's date.
    changed = [what for what in wanted if built_for[what] != wanted[what]]
    st.caption(f"The pack built before was for another {', '.join(changed[:-1])}{' and ' if changed[1:] else ''}"
               f"{changed[-1]} "
               f"(as of {built_for['as-of date']:%d %b %Y}, {built_for['definition'][1]}): build it again for what "
               "this page shows.")

with st.expander("Movements of the last 12 complete months", expanded=False):
    st.plotly_chart(charts.movements_chart(moves.tail(12), cur, title=f"{mrr_word} movements by month",
                                           revenue_word="MRR" if view.revenue_model == "subscription" else "Revenue"),
                    config=charts.CHART_CONFIG, key="movements")
    if view.revenue_model == "transactional":
        st.caption(f"A customer's revenue counts as churned the month after its last purchase, when it stops; "
                   f"the customer counts as churned {plural(econ.assumptions.inactivity_days, 'day')} after that "
                   "purchase. Until then a month without a purchase reads as contraction, so the latest months "
                   "show contraction that becomes churn once the days pass.")
    else:
        st.caption("New: a customer's first paying month. Expansion and contraction: changes in a paying "
                   "customer's MRR. Churned: the MRR of customers whose MRR fell to 0. Reactivation: a former "
                   "customer paying again. Net change: their sum, the month's change in MRR.")
with st.expander("Tables in the workspace", expanded=False):
    st.dataframe(pd.DataFrame({"table": list(status["tables"]), "rows": list(status["tables"].values())}),
                 hide_index=True, column_config={"rows": st.column_config.NumberColumn(format="localized")})
