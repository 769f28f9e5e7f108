"""Unit economics: what each segment is worth, costs to win and to serve, and whether it pays."""
from __future__ import annotations

import math

import numpy as np
import streamlit as st

import charts
from economics.costs import unmeasured_costs, unmeasured_steps
from economics.glossary import metric_definitions
from economics.ledger import churn_not_measured, month_span, recency_churn_note
from economics.unit import waterfall
from segmentation.schemes import in_segment_order, segment_order
from ui import cached, definition_editor as editor
from ui.format import is_missing, money, net_ltv_text, pct, plural, ratio, verdict_months, verdict_ratio
from ui.page import hidden_drain_hint, needs_table, start_page

view = start_page("Unit economics", ":material/payments:")
if view is None:
    st.stop()

defn = view.definition
symbol = view.symbol
editor.assumptions_sidebar(view, defn, symbol)

schemes = view.schemes
scheme_name = view.scheme_name
econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
labels = cached.labels(view.version, view.as_of, view.definition_toml)
order = segment_order(view.scheme, defn, labels[view.scheme])
colors = charts.segment_colors(order)
a = econ.assumptions
table = in_segment_order(econ.table, order)
paying = table[table["paying_customers"] > 0]
assumptions_line = editor.assumptions_text(defn, symbol, view.definition_name)
window = month_span(econ.window, "no month yet")
loaded = cached.workspace_status()["tables"]
has_spend = "spend" in loaded
measured = bool(paying["net_ltv_cac"].notna().any())   # some segment's CAC is known

st.caption(f"By **{scheme_name}** as of **{view.as_of:%d %b %Y}**; churn pooled over {window}. Net LTV counts "
           "gross margin, support, infra and onboarding; CAC is sales and marketing spend per new customer, by "
           "the segment each customer had when acquired.")
if econ.window[0] is None:
    st.info(churn_not_measured(view.revenue_model, a.inactivity_days) + " Lifetime, net LTV, LTV:CAC and "
            "payback need it; until then a verdict rests on contribution per customer-month.",
            icon=":material/hourglass_empty:")
elif note := recency_churn_note(view.scheme, view.revenue_model, a.inactivity_days, a.lifetime_cap_months):
    st.info(note, icon=":material/schedule:")
editor.default_costs_note(view, symbol, loaded)
hidden_drain_hint(view, schemes)
if not has_spend:
    needs_table(view, "spend", "CAC, LTV:CAC and payback")
unmeasured = unmeasured_costs(loaded)
if unmeasured:
    st.caption(unmeasured)

# -- verdict badges ----------------------------------------------------------------------------------
BADGE = {"healthy": ("green", ":material/check_circle:"), "marginal": ("orange", ":material/warning:"),
         "margin-draining": ("red", ":material/trending_down:")}
cols = st.columns(min(4, max(1, len(paying))))
severity = {"margin-draining": 0, "marginal": 1, "healthy": 2}
cards = paying.sort_values("verdict", key=lambda v: v.map(severity).fillna(3), kind="stable")
for i, (_, row) in enumerate(cards.iterrows()):
    color, icon = BADGE.get(row["verdict"], ("gray", ":material/help:"))
    with cols[i % len(cols)].container(border=True):
        st.markdown(f"**{row['segment']}**  \n:{color}-badge[{icon} {row['verdict']}]")
        net_ltv = net_ltv_text(row, view.currency)
        # The digits of the verdict's rule under it: one number reads one way on a card.
        worth = (f"Net LTV:CAC **{verdict_ratio(row['net_ltv_cac'], a)}** · payback "
                 f"**{verdict_months(row['payback_months'], a)}**" if measured else
                 f"Net LTV **{net_ltv}** per customer")
        st.markdown(f"{worth}  \n"
                    f"Contribution **{money(row['contribution_pcm'], view.currency)}** per customer-month")
        notes = [n for n in row["note"].split("; ") if n and n not in row["verdict_rule"]]   # said once
        st.caption(" · ".join([row["verdict_rule"], *notes]))

# -- charts ------------------------------------------------------------------------------------------
left, right = st.columns(2)
if measured:
    with left:
        ltv = paying.melt(id_vars="segment", value_vars=["net_ltv", "cac"], var_name="measure", value_name="value")
        st.plotly_chart(charts.grouped_bars(ltv, {"net_ltv": "Net LTV", "cac": "CAC"}, view.currency,
                                            "Net LTV against CAC, per customer", f"{symbol or ''} per customer"),
                        config=charts.CHART_CONFIG, key="ltv_cac")
    with right:
        st.plotly_chart(charts.bar_by_segment(paying, "payback_months", colors, "CAC payback by segment",
                                              "Months", "{:.1f} mo", reference=a.healthy_payback_months,
                                              infinite="never",
                                              reference_label="healthy: <= "
                                              + plural(a.healthy_payback_months, "month")),
                        config=charts.CHART_CONFIG, key="payback")
    st.caption(assumptions_line)
    st.plotly_chart(charts.quadrant(paying, colors, a, title="Profitability quadrant: the shaded corner is healthy"),
                    config=charts.CHART_CONFIG, key="quadrant")
    st.caption(f"Healthy: net LTV:CAC >= {a.healthy_ltv_cac:g} and payback <= "
               f"{plural(a.healthy_payback_months, 'month')} (shaded). Below {a.draining_ltv_cac:g}x a segment "
               f"drains margin. Bubble size: {view.revenue_word}. " + assumptions_line)
else:   # no CAC to compare with: what each segment is worth and leaves each month
    ltv_chart, contribution_chart = charts.worth_without_cac(paying, colors, view.currency, scheme_name)
    if econ.window[0] is not None:
        left.plotly_chart(ltv_chart, config=charts.CHART_CONFIG, key="net_ltv")
    (right if econ.window[0] is not None else left).plotly_chart(contribution_chart, config=charts.CHART_CONFIG,
                                                                  key="contribution")
    st.caption("Contribution: ARPA x gross margin - support and infra cost per customer-month; below 0 a "
               "segment loses money every month. Net LTV: contribution x lifetime - onboarding; the whiskers "
               "span it over the churn interval (95%), wide where few customers churned. CAC, LTV:CAC, payback "
               "and the profitability quadrant need spend data. " + assumptions_line)

# The waterfall spreads money over the expected lifetime: not drawn until churn is measured (said above).
if econ.window[0] is not None:
    st.markdown("#### Where a customer's money goes")
    choices = paying["segment"].tolist()
    default = paying.sort_values("net_ltv_cac" if measured else "net_ltv")["segment"].iloc[0] if len(paying) else None
    segment = st.selectbox("Segment", choices, index=choices.index(default) if default in choices else 0,
                           key="waterfall_segment")
    if segment:
        row = paying.set_index("segment").loc[segment]
        steps = waterfall(row.to_dict(), unmeasured_steps(loaded))   # the caption above says what is not measured
        st.plotly_chart(charts.waterfall(steps, view.currency, segment,
                                         "CAC needs spend data" if not has_spend else "no customer acquired into it "
                                         "in the window: no CAC"), config=charts.CHART_CONFIG, key="waterfall")
        lifetime = "n/a" if is_missing(row["lifetime_months"]) else plural(round(row["lifetime_months"]), "month")
        st.caption(f"Per customer over an expected lifetime of {lifetime} "
                   f"(1 / monthly churn {pct(row['logo_churn'])}, at most {a.lifetime_cap_months}). Onboarding: the "
                   f"mean of its customers' onboarding cost, each by the value tier it had when acquired "
                   f"({money(row['onboarding_cost'], view.currency)} here). " + assumptions_line)

# -- the table ---------------------------------------------------------------------------------------
st.markdown("#### All numbers by segment" + (f" (money in {view.currency})" if view.currency else ""))
shown = table[["segment", "customers", "paying_customers", "mrr", "arpa", "logo_churn", "logo_churn_low",
               "logo_churn_high", "nrr", "grr", "expansion_rate", "gross_margin", "ltv", "net_ltv", "net_ltv_low",
               "net_ltv_high", "cac", "net_ltv_cac", "payback_months", "onboarding_cost", "support_cost_pcm",
               "infra_cost_pcm", "support_share_of_revenue", "tickets_pcm", "contribution_pcm", "verdict", "note"]]
shown = shown.round({c: 0 for c in ("mrr", "arpa", "ltv", "net_ltv", "net_ltv_low", "net_ltv_high", "cac",
                                    "onboarding_cost", "support_cost_pcm", "infra_cost_pcm", "contribution_pcm")})
# A ratio truncated and a payback rounded up to the digits shown keep the side of a verdict threshold they
# are on (2.9975 reads 2.99x, not 3.0x beside "marginal"; 18.04 months 18.1, not 18.0).
# A payback that never comes (contribution <= 0) reads "never", as on the cards, not "Infinity"; a ratio
# over a CAC of 0 n/a, as on the cards.
payback = np.ceil(shown["payback_months"] * 10) / 10
shown = shown.assign(net_ltv_cac=(np.floor(shown["net_ltv_cac"] * 100) / 100).replace([np.inf, -np.inf], np.nan),
                     payback_months=[None if is_missing(v) else "never" if math.isinf(v) else f"{v:.1f}"
                                     for v in payback])
define = metric_definitions(a, view.revenue_model, symbol)   # each header's help: what the number means
money_col = lambda col, label: st.column_config.NumberColumn(label, format="localized", help=define[col])  # noqa: E731
pct_col = lambda col, label: st.column_config.NumberColumn(label, format="percent", help=define[col])  # noqa: E731
st.dataframe(shown, hide_index=True, placeholder="n/a", width="stretch", column_config={
    "segment": "Segment",
    "customers": st.column_config.NumberColumn("Customers", format="localized", help=define["customers"]),
    # On order data a paying customer is one who bought in the month (DEFINITIONS.md), not an active one.
    "paying_customers": st.column_config.NumberColumn(
        "Paying" if view.revenue_model != "transactional" else
        f"Bought in {econ.window[1]:%b %Y}" if econ.window[1] is not None else "Bought in the month",
        format="localized", help=define["paying_customers"]),
    "mrr": money_col("mrr", view.revenue_series),
    "arpa": money_col("arpa", "ARPA"), "logo_churn": pct_col("logo_churn", "Monthly churn"),
    "logo_churn_low": pct_col("logo_churn_low", "churn low (95%)"),
    "logo_churn_high": pct_col("logo_churn_high", "churn high (95%)"), "nrr": pct_col("nrr", "NRR 12m"),
    "grr": pct_col("grr", "GRR 12m"),
    "expansion_rate": pct_col("expansion_rate", "Monthly expansion" if view.revenue_model == "subscription"
                              else "Monthly spend growth"),
    "gross_margin": pct_col("gross_margin", "Gross margin"), "ltv": money_col("ltv", "LTV"),
    "net_ltv": money_col("net_ltv", "Net LTV"), "net_ltv_low": money_col("net_ltv_low", "net LTV low (95%)"),
    "net_ltv_high": money_col("net_ltv_high", "net LTV high (95%)"), "cac": money_col("cac", "CAC"),
    "net_ltv_cac": st.column_config.NumberColumn("Net LTV:CAC", format="%.2fx", help=define["net_ltv_cac"]),
    "payback_months": st.column_config.TextColumn("Payback (months)", help=define["payback_months"]),
    "onboarding_cost": money_col("onboarding_cost", "Onboarding"),
    "support_cost_pcm": money_col("support_cost_pcm", "Support / cust-month"),
    "infra_cost_pcm": money_col("infra_cost_pcm", "Infra / cust-month"),
    "support_share_of_revenue": pct_col("support_share_of_revenue", "Support % of revenue"),
    "tickets_pcm": st.column_config.NumberColumn("Tickets / cust-month", format="%.2f", help=define["tickets_pcm"]),
    "contribution_pcm": money_col("contribution_pcm", "Contribution / cust-month"),
    "verdict": st.column_config.TextColumn("Verdict", help=define["verdict"]), "note": "Note"})
blended = econ.blended.iloc[0]
st.caption(f"Blended (all customers): CAC {money(blended['cac'], view.currency)}, net LTV:CAC "
           f"{ratio(blended['net_ltv_cac'])}, monthly churn {pct(blended['logo_churn'])}. Churn by segment: "
           f"{view.churn_attribution(a.inactivity_days)} Small segments show a "
           "95% Wilson interval on churn and a note instead of false precision; expansion is n/a when fewer than "
           f"{a.min_customers} of a segment's customer-months start with {view.revenue_word}.")
