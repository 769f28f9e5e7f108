"""Overview: the state of the business by segment, on one screen."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

import charts
from economics.findings import top_findings
from economics.ledger import add_months, last_complete_month
from ui import cached
from ui.format import CURRENCY_SYMBOLS, money, months, pct, ratio
from ui.page import start_page

view = start_page("Overview", ":material/space_dashboard:")
if view is None:
    st.stop()

status = cached.workspace_status()
schemes = cached.available_schemes(view.definition_toml)
last = last_complete_month(view.as_of)
previous_as_of = last  # as of the 1st of the last complete month, the complete month before it is the last
st.caption(
    f"Data from **{view.meta.get('min_date')}** to **{view.meta.get('max_date')}** · as of "
    f"**{view.as_of:%d %b %Y}** · last complete month **{last:%B %Y}** · {status['model_label']} · "
    f"changes against **{add_months(last, -1):%B %Y}**"
)

econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
blended = econ.blended.iloc[0]
prior = cached.economics(view.version, previous_as_of, view.scheme, view.definition_toml).blended.iloc[0]
moves = cached.movements(view.version, view.as_of, econ.assumptions.inactivity_days)
nrr, grr = cached.nrr_grr(view.version, view.as_of)
nrr_before, grr_before = cached.nrr_grr(view.version, previous_as_of)
cur = view.currency
subscription = view.revenue_model == "subscription"
mrr_word = "MRR" if subscription else "Monthly revenue"


def _delta(now: float, before: float, fmt) -> str | None:
    if any(isinstance(v, float) and math.isnan(v) for v in (now, before)) or now is None or before is None:
        return None
    diff = now - before
    return ("+" if diff >= 0 else "-") + fmt(abs(diff))


row = moves.iloc[-1] if len(moves) else None
row_before = moves.iloc[-2] if len(moves) > 1 else None
tiles = st.columns(4)
tiles[0].metric("Paying customers", f"{int(row['customers_end']):,}" if row is not None else "n/a",
                _delta(row["customers_end"], row_before["customers_end"], lambda v: f"{v:,.0f}")
                if row_before is not None else None, border=True,
                help=f"Customers with {mrr_word} > 0 in {last:%B %Y}, the last complete month.")
tiles[1].metric(mrr_word, money(row["ending_mrr"], cur) if row is not None else "n/a",
                _delta(row["ending_mrr"], row_before["ending_mrr"], lambda v: money(v, cur))
                if row_before is not None else None, border=True,
                help="Net revenue of the last complete month; a customer's negative month counts as 0.")
tiles[2].metric("NRR (12 months)", pct(nrr, 0), _delta(nrr * 100, nrr_before * 100, lambda v: f"{v:.1f} pts"),
                border=True, help="Customers paying 12 complete months ago: their MRR now / their MRR then. "
                                  "n/a with fewer than 13 complete months.")
tiles[3].metric("GRR (12 months)", pct(grr, 0), _delta(grr * 100, grr_before * 100, lambda v: f"{v:.1f} pts"),
                border=True, help="As NRR, with each customer's MRR capped at its earlier value: expansion "
                                  "does not count.")
tiles = st.columns(4)
window = (f"{econ.window[0]:%b %Y} – {econ.window[1]:%b %Y}" if econ.window[0] is not None else "no window")
tiles[0].metric("Monthly logo churn", pct(blended["logo_churn"]),
                _delta(blended["logo_churn"] * 100, prior["logo_churn"] * 100, lambda v: f"{v:.2f} pts"),
                delta_color="inverse", border=True,
                help=f"Customers lost / customers paying at the start of each month, pooled over {window}.")
tiles[1].metric("Net LTV : CAC (blended)", ratio(blended["net_ltv_cac"]),
                _delta(blended["net_ltv_cac"], prior["net_ltv_cac"], lambda v: f"{v:.1f}x"), border=True,
                help="(ARPA x gross margin - support and infra cost per customer-month) x lifetime - onboarding, "
                     "over CAC (sales and marketing spend / new customers). Lifetime = 1 / churn, at most "
                     f"{econ.assumptions.lifetime_cap_months} months.")
tiles[2].metric("CAC payback", months(blended["payback_months"]),
                _delta(blended["payback_months"], prior["payback_months"], lambda v: f"{v:.1f} mo"),
                delta_color="inverse", border=True,
                help="CAC / (ARPA x gross margin - support and infra cost per customer-month).")
tiles[3].metric("Blended CAC", money(blended["cac"], cur),
                _delta(blended["cac"], prior["cac"], lambda v: money(v, cur)), delta_color="inverse",
                border=True, help="All sales and marketing spend in the window / new paying customers in it.")

# -- findings ----------------------------------------------------------------------------------------
symbol = CURRENCY_SYMBOLS.get((cur or "").upper(), "")
tables = [econ.table]
if cached.CROSS_SCHEME in schemes and view.scheme != cached.CROSS_SCHEME:
    tables.append(cached.economics(view.version, view.as_of, cached.CROSS_SCHEME, view.definition_toml).table)
findings = top_findings(tables, blended, symbol, econ.assumptions.min_customers)
st.markdown("#### What stands out")
if findings:
    cols = st.columns(len(findings))
    for col, f in zip(cols, findings):
        icon = {"bad": ":material/trending_down:", "good": ":material/trending_up:"}.get(f.severity,
                                                                                        ":material/info:")
        box = {"bad": col.error, "good": col.success}.get(f.severity, col.info)
        box(f.text, icon=icon)
else:
    st.info("Not enough paying customers per segment to say anything with confidence yet.")
st.caption("Segments are compared within the chosen scheme and by value tier x acquisition channel, so a "
           "sales-led segment shows even when the scheme mixes it with self-serve customers.")

# -- segment map ------------------------------------------------------------------------------------
map_options = list(dict.fromkeys([view.scheme, *([cached.CROSS_SCHEME] if cached.CROSS_SCHEME in schemes else [])]))
map_scheme = st.segmented_control("Map segments by", map_options, default=view.scheme,
                                  format_func=lambda s: schemes.get(s, s), key="map_scheme") or view.scheme
map_econ = econ if map_scheme == view.scheme else cached.economics(view.version, view.as_of, map_scheme,
                                                                  view.definition_toml)
paying = map_econ.table[map_econ.table["paying_customers"] >= map_econ.assumptions.min_customers]
st.plotly_chart(charts.segment_map(paying, cur, title=f"Segment map: {schemes.get(map_scheme, map_scheme)}"),
                config=charts.CHART_CONFIG, key="segment_map")
rule = econ.assumptions
st.caption(f"Verdict: **healthy** when net LTV:CAC >= {rule.healthy_ltv_cac:g} and payback <= "
           f"{rule.healthy_payback_months:g} months; **margin-draining** when net LTV:CAC < "
           f"{rule.draining_ltv_cac:g} or contribution per customer-month < 0; **marginal** otherwise. "
           f"Bubble size: MRR. Segments with fewer than {rule.min_customers} paying customers are not shown.")

with st.expander("Movements of the last 12 complete months", expanded=False):
    st.plotly_chart(charts.movements_chart(moves.tail(12), cur,
                                           title=f"{mrr_word} movements by month"),
                    config=charts.CHART_CONFIG, key="movements")
with st.expander("Tables in the workspace", expanded=False):
    st.dataframe(pd.DataFrame({"table": list(status["tables"]), "rows": list(status["tables"].values())}),
                 hide_index=True, column_config={"rows": st.column_config.NumberColumn(format="localized")})
