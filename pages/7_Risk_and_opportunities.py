"""Risk and opportunities: who is likely to churn or convert, behavioural clusters, upsell calls, predicted LTV."""
from __future__ import annotations

import pandas as pd
import streamlit as st

import charts
from economics.mrr import in_revenue_words
from ingest.export import csv_bytes
from segmentation.models import FEATURE_WORDS, at_risk_table, cluster_overlay, cluster_risk, driver_table, \
    mrr_at_risk, upsell_candidates
from segmentation.schemes import segment_order
from ui import cached
from ui.format import money, pct, plural, table_height
from ui.page import kept, needs_table, start_page, with_names

view = start_page("Risk and opportunities", ":material/radar:")
if view is None:
    st.stop()

defn = view.definition
schemes = view.schemes
scheme_name = view.scheme_name
labels = cached.labels(view.version, view.as_of, view.definition_toml)
features = cached.features(view.version, view.as_of, view.definition_toml)
st.caption(f"As of **{view.as_of:%d %b %Y}**. Every model here is a simple one (logistic regression, k-means, "
           "Kaplan-Meier), explained, and tested on a period it did not see.")

# Only the open tab runs (each trains or fits a model of its own: all five took about 5 s on the sample).
churn_tab, cluster_tab, upsell_tab, ltv_tab, convert_tab = st.tabs(
    ["Churn risk", "Clusters", "Upsell", "Predicted LTV", "Likely to convert"], key="risk_tab", on_change="rerun")


def _backtest_panel(bt, what: str, model) -> None:
    """The backtest's figures; without a backtest, whether there is a model at all and how far to trust it."""
    if not bt.enough_data:
        if not model.enough_data:
            st.warning(f"No {what} model: {model.reason}", icon=":material/block:")
        else:   # the latest period trains a model, the one before it cannot test one
            st.warning(f"**Untested: treat these scores as indicative.** The model learned from customers as of "
                       f"{model.trained_as_of:%d %b %Y} ({model.customers:,}, of whom {model.positives:,} did "
                       f"{what} within {plural(model.horizon_months, 'month')}), but no earlier period could check "
                       f"it on customers it had not seen: {bt.reason}", icon=":material/science:")
        return
    c = st.columns(4)
    c[0].metric("Backtest ROC AUC", f"{bt.auc:.2f}", border=True,
                help="0.5 = a coin flip, 1 = perfect ranking. Trained on one period, tested on a later one.")
    c[1].metric("Precision, top 10%", pct(bt.precision_top_decile, 0), border=True,
                help=f"Of the 10% highest-scored customers, the share who did {what} (base rate "
                     f"{pct(bt.base_rate)}).")
    c[2].metric("Recall, top 10%", pct(bt.recall_top_decile, 0), border=True,
                help=f"Share of everyone who did {what} that the top 10% caught.")
    c[3].metric("Shuffled-outcome AUC", f"{bt.placebo_auc:.2f}", border=True,
                help="The same model trained on shuffled outcomes (20 runs): about 0.5 means the real model "
                     f"learned something real. Range {bt.placebo_auc_low:.2f}-{bt.placebo_auc_high:.2f}.")
    st.caption(f"Trained on customers as of {bt.train_as_of:%d %b %Y} ({bt.train_customers:,}, "
               f"{bt.train_positives:,} did {what} within {plural(bt.horizon_months, 'month')}); tested on "
               f"customers as of {bt.test_as_of:%d %b %Y} ({bt.test_customers:,}, {bt.test_positives:,}), outcomes "
               f"seen until {bt.test_label_end:%d %b %Y}. Features use only data before each date.")
    with st.expander("Calibration: predicted against observed, by decile"):
        st.dataframe(bt.calibration, hide_index=True, placeholder="n/a", width="stretch", column_config={
            "mean_predicted": st.column_config.NumberColumn("Mean predicted", format="percent"),
            "observed_rate": st.column_config.NumberColumn("Observed", format="percent")})


def _named(frame):
    """A customer list with each customer's name and segment of the sidebar's scheme beside its id."""
    out = with_names(frame, features)
    if view.scheme in labels:
        segment = labels.set_index(labels["customer_id"].astype(str))[view.scheme].astype(str)
        out.insert(2 if "name" in out else 1, "segment", out["customer_id"].map(segment).to_numpy())
    return out


def _count(label: str):
    """A column of counts, with thousands separators."""
    return st.column_config.NumberColumn(label, format="localized")


# The list columns every customer list here shares.
LIST_COLUMNS = {"customer_id": "Customer", "name": "Name", "segment": st.column_config.TextColumn(scheme_name)}


def _say(text: str) -> str:
    """The models' input "MRR" is monthly revenue on order data (DEFINITIONS.md: never called MRR there)."""
    return in_revenue_words(text, view.revenue_model)


with churn_tab:
    if churn_tab.open:
        horizon = kept(st.select_slider, "Horizon (days)", "risk_horizon", 90, options=[30, 60, 90, 180])
        bt = cached.risk_backtest(view.version, view.as_of, horizon, view.definition_toml, "churn")
        model = cached.risk_model(view.version, view.as_of, horizon, view.definition_toml, "churn")
        _backtest_panel(bt, "churn", model)
        scores = cached.risk_scores(view.version, view.as_of, horizon, view.definition_toml, "churn")
        if model.enough_data and len(scores):
            threshold = kept(st.slider, "At-risk when the churn probability is at least", "risk_threshold", 0.3,
                             min_value=0.05, max_value=0.95, step=0.05)
            at_risk = _named(at_risk_table(scores, features, threshold))
            at_risk["top_drivers"] = at_risk["top_drivers"].map(_say)
            by_segment = mrr_at_risk(scores, labels, threshold, view.scheme)
            left, right = st.columns(2)
            seg_rows = by_segment[by_segment["segment"] != "All"]
            order = segment_order(view.scheme, defn, labels[view.scheme])
            left.plotly_chart(charts.bar_by_segment(seg_rows, "mrr_at_risk", charts.segment_colors(order),
                                                    f"{view.revenue_series} at risk by {scheme_name}",
                                                    f"{view.revenue_header} at risk",
                                                    "{:,.0f}"), config=charts.CHART_CONFIG, key="mrr_at_risk")
            drivers = driver_table(model)
            drivers["label"] = drivers["label"].map(_say)
            right.markdown("**What drives churn** (standardised coefficients: the change in log-odds for one "
                           "standard deviation; + raises the risk, - lowers it)")
            # as tall as its rows (a model on revenue alone has four inputs: no empty rows under them)
            right.dataframe(drivers[["label", "coefficient"]], hide_index=True, width="stretch",
                            height=table_height(len(drivers), 320),
                            column_config={"label": st.column_config.TextColumn("Input"),
                                           "coefficient": st.column_config.NumberColumn("Effect", format="%+.2f",
                                                                                        width=80)})
            total = by_segment[by_segment["segment"] == "All"].iloc[0]
            word = view.revenue_word
            base = "active" if view.revenue_model == "transactional" else "paying"   # those it scored
            st.markdown(f"**{plural(len(at_risk), 'customer')} at risk** (probability at least {threshold:.0%}), "
                        f"{money(total['mrr_at_risk'], view.currency)} of {word}. Across all {base} customers, the "
                        f"{word} expected to churn within {horizon} days (probability x {word}, summed) is "
                        f"{money(total['expected_mrr_loss'], view.currency)}.")
            # Shown in whole currency units; the download keeps the exact amounts.
            st.caption(f"Listed by the {word} each customer is expected to take with it (probability x {word}): "
                       "the revenue most at stake first. Click a column's header to sort by it.")
            st.dataframe(at_risk.round({"mrr": 0, "expected_loss": 0}).assign(probability=at_risk["probability"] * 100),
                         hide_index=True, placeholder="n/a", width="stretch", height=300,
                         column_order=[c for c in ("customer_id", "name", "segment", "probability", "mrr",
                                                   "expected_loss", "top_drivers") if c in at_risk],
                         column_config={
                             **LIST_COLUMNS,
                             "probability": st.column_config.ProgressColumn("Churn probability", min_value=0,
                                                                            max_value=100, format="%.0f%%"),
                             "top_drivers": st.column_config.TextColumn("Why", width="large"),
                             "mrr": st.column_config.NumberColumn(view.customer_revenue_header, format="localized"),
                             "expected_loss": st.column_config.NumberColumn(
                                 "Expected loss" + (f" ({view.currency})" if view.currency else ""), format="localized",
                                 help=f"Churn probability x the customer's {word}: what the list is ordered by.")})
            st.download_button("Download the at-risk list (CSV)", csv_bytes(at_risk),
                               f"at_risk_{view.as_of:%Y-%m-%d}.csv", "text/csv", icon=":material/download:",
                               key="download_at_risk")
            # a column of this data's own words: ARR is no word for order revenue
            example = "arr >= 10000" if view.revenue_model == "subscription" else "monetary >= 10000"
            st.caption(f"Custom rules on the Segments page can use `churn_probability`, e.g. "
                       f"`churn_probability >= 0.3 AND {example}`.")

with cluster_tab:
    if cluster_tab.open:
        suggested = cached.suggested_k(view.version, view.as_of, view.definition_toml)
        k = kept(st.slider, "Number of clusters", "cluster_k", suggested, min_value=2, max_value=8,
                 help=f"The silhouette score suggests {suggested}.")
        result = cached.clusters(view.version, view.as_of, k, view.definition_toml)
        words = ", ".join(_say(FEATURE_WORDS.get(f, f.replace("_", " "))) for f in result.features)
        st.caption(f"k-means on standardised behaviour of paying customers ({words}). "
                   f"Silhouette suggests k = {suggested}. Each cluster is named by what sets it apart.")
        profile = result.profile.assign(cluster_name=lambda p: p["cluster_name"].map(_say))
        show = ["cluster_name", "customers", "share", *[f for f in result.features if f in profile]]
        # each cluster's mean churn probability, at the churn tab's horizon
        scores = cached.risk_scores(view.version, view.as_of, st.session_state.get("p_risk_horizon", 90),
                                    view.definition_toml, "churn")
        if len(scores):
            risk = cluster_risk(result, scores)
            profile = profile.merge(risk[["cluster", "mean_churn_probability"]], on="cluster", how="left")
            show.insert(3, "mean_churn_probability")
        # Cluster means in words, to one decimal (usage trend to two: it lies in [-1, 1]).
        means = {f: st.column_config.NumberColumn(_say(f"Mean {FEATURE_WORDS.get(f, f)}"),
                                                  format="%.2f" if f == "usage_trend" else "%.1f")
                 for f in result.features}
        st.dataframe(profile[show], hide_index=True, placeholder="n/a", width="stretch", column_config={
            **means, "cluster_name": "Cluster", "customers": _count("Customers"),
            "share": st.column_config.NumberColumn("Share", format="percent"),
            "mean_churn_probability": st.column_config.NumberColumn("Mean churn probability", format="percent")})
        # attributes with something to tell apart (Online Retail's size band was "Unknown size" for all 4,277)
        attrs = [c for c in ("industry", "plan", "size_band", "channel", "country")
                 if (c in labels or c in features) and (labels if c in labels else features)[c].nunique() > 1]
        if len(scores) and attrs:
            riskiest = profile.sort_values("mean_churn_probability", ascending=False)["cluster"].iloc[:1].tolist()
            if st.session_state.get("p_overlay_attr") not in attrs:   # another workspace's column
                st.session_state.pop("p_overlay_attr", None)
            attribute = kept(st.selectbox, "Which customers concentrate in the riskiest cluster?", "overlay_attr",
                             attrs[0], options=attrs, format_func=lambda c: c.replace("_", " ").capitalize())
            source = labels if attribute in labels else features
            overlay = cluster_overlay(result, source, attribute, riskiest)
            st.dataframe(overlay, hide_index=True, placeholder="n/a", width="stretch", column_config={
                "value": attribute.replace("_", " ").capitalize(), "customers": _count("Customers"),
                "at_risk_customers": _count("In the riskiest cluster"),
                "share_at_risk": st.column_config.NumberColumn("Share in it", format="percent"),
                "lift": st.column_config.NumberColumn("Lift", format="%.2fx")})

with upsell_tab:
    # Readiness reads product usage: without events no customer scores, and a list of zeros says nothing.
    if upsell_tab.open and needs_table(view, "events", "Who is ready to upsell (usage against the plan and its "
                                                       "limits, premium features unused)"):
        candidates = _named(upsell_candidates(features, labels))
        st.caption("Score = ICP fit x readiness: heavy use of the current plan, nearing its limits, and little use "
                   "of premium features yet. Call the top of the list first: it shows the 50 best scored, the "
                   "download every customer with a score above 0.")
        st.dataframe(candidates.head(50).round({"mrr": 0}), hide_index=True, placeholder="n/a", width="stretch",
                     column_config={
                         **LIST_COLUMNS,
                         "score": st.column_config.ProgressColumn("Score", min_value=0, max_value=100, format="%.0f"),
                         "icp_fit": st.column_config.NumberColumn("ICP fit", format="%.0f"),
                         "readiness": st.column_config.NumberColumn("Readiness", format="%.0f"),
                         "reason": st.column_config.TextColumn("Why", width="large"), "plan": "Plan",
                         "mrr": st.column_config.NumberColumn(view.customer_revenue_header, format="localized"),
                         "usage_rank": st.column_config.NumberColumn("Busier than (same plan)", format="percent"),
                         "limit_use": st.column_config.NumberColumn("Use of plan limit", format="percent"),
                         "premium_gap": st.column_config.NumberColumn("Premium features unused", format="percent")})
        # The candidates: customers with some sign of outgrowing their plan (the ranking's score-0 tail is every
        # other paying customer, which a sales team importing "candidates" does not want).
        scored = candidates[candidates["score"] > 0]
        st.download_button(f"Download the {plural(len(scored), 'candidate')} with a score above 0 (CSV)",
                           csv_bytes(scored), f"upsell_{view.as_of:%Y-%m-%d}.csv", "text/csv",
                           icon=":material/download:", key="download_upsell", disabled=scored.empty)

with ltv_tab:
    if ltv_tab.open:
        if view.revenue_model != "subscription":
            st.info("Predicted LTV from survival curves needs subscription revenue (paying months).")
        else:
            survival = cached.survival(view.version, view.as_of, view.scheme, view.definition_toml)
            econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
            formula = pd.concat([econ.table, econ.blended])[["segment", "ltv", "lifetime_months"]]
            both = survival.merge(formula, on="segment", how="left")
            st.caption("Expected remaining lifetime from each segment's observed survival curve (Kaplan-Meier, still-"
                       "paying customers treated as censored), x ARPA x gross margin, with a bootstrap interval, next "
                       "to the formula LTV (ARPA x margin / churn, capped). Segment at acquisition.")
            shown = both[["segment", "customers", "churned", "expected_lifetime_months", "lifetime_low",
                          "lifetime_high", "predicted_ltv", "ltv_low", "ltv_high", "lifetime_months", "ltv"]]
            # Money in whole currency units, as on Unit economics.
            shown = shown.round({"predicted_ltv": 0, "ltv_low": 0, "ltv_high": 0, "ltv": 0})
            st.dataframe(shown, hide_index=True, placeholder="n/a", width="stretch", column_config={
                "segment": "Segment", "customers": _count("Customers"), "churned": _count("Churned"),
                "expected_lifetime_months": st.column_config.NumberColumn("Lifetime (months)", format="%.1f"),
                "lifetime_low": st.column_config.NumberColumn("Lifetime low (95%)", format="%.1f"),
                "lifetime_high": st.column_config.NumberColumn("Lifetime high (95%)", format="%.1f"),
                "predicted_ltv": st.column_config.NumberColumn("Predicted LTV", format="localized"),
                "ltv_low": st.column_config.NumberColumn("LTV low (95%)", format="localized"),
                "ltv_high": st.column_config.NumberColumn("LTV high (95%)", format="localized"),
                "lifetime_months": st.column_config.NumberColumn("Formula lifetime", format="%.1f"),
                "ltv": st.column_config.NumberColumn("Formula LTV", format="localized")})

with convert_tab:
    if convert_tab.open:
        horizon_c = kept(st.select_slider, "Within (days)", "convert_horizon", 90, options=[30, 60, 90])
        bt_c = cached.risk_backtest(view.version, view.as_of, horizon_c, view.definition_toml, "conversion")
        _backtest_panel(bt_c, "convert", cached.risk_model(view.version, view.as_of, horizon_c, view.definition_toml,
                                                           "conversion"))
        conv = cached.risk_scores(view.version, view.as_of, horizon_c, view.definition_toml, "conversion")
        if len(conv):
            st.markdown("**Free and trial customers most likely to pay**")
            likely = _named(conv.sort_values("conversion_probability", ascending=False, kind="stable"))
            likely["top_drivers"] = likely["top_drivers"].map(_say)
            st.dataframe(likely.head(50).assign(conversion_probability=likely["conversion_probability"] * 100),
                         hide_index=True, placeholder="n/a", width="stretch", column_config={
                             **LIST_COLUMNS,
                             "conversion_probability": st.column_config.ProgressColumn(
                                 "Probability", min_value=0, max_value=100, format="%.0f%%"),
                             "top_drivers": st.column_config.TextColumn("Why", width="large")})
            st.caption(f"The 50 most likely of {len(likely):,} free and trial customers; the download lists them all.")
            st.download_button("Download the likely-to-convert list (CSV)", csv_bytes(likely),
                               f"likely_to_convert_{view.as_of:%Y-%m-%d}.csv", "text/csv", icon=":material/download:",
                               key="download_convert")
