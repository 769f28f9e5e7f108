"""The Segments page's controls: sliders and inputs that edit the segment definition of one scheme.

Every control edits the one declarative definition (TOML) that the sidebar carries, the report command
reads and a team keeps in version control; an invalid combination is explained, never applied.
"""
from __future__ import annotations

import math
from collections.abc import Collection

import pandas as pd
import streamlit as st

from segmentation.definition import Definition, DefinitionError, dump_definition, with_updates
from segmentation.schemes import NO_USAGE

__all__ = ["edit_scheme", "edit_assumptions", "assumptions_sidebar", "assumptions_text", "default_costs_note", "apply",
           "store", "is_editable", "generation", "bump_generation", "honest_name"]

_EDITABLE = {"value_tier", "behavior", "lifecycle", "health_band", "rfm_segment", "size_band", "custom"}


def generation() -> int:
    """Widget keys carry this number; loading another definition bumps it so the controls resync."""
    return st.session_state.setdefault("p_definition_generation", 0)


def bump_generation() -> None:
    st.session_state["p_definition_generation"] = generation() + 1


def _key(name: str) -> str:
    return f"def::{generation()}::{name}"


def _band_edges(section: str, field: str, bands, unit: str, step: float, fmt: str, help_text: str) -> dict:
    """Number inputs for the inner edges of a band list; labels kept. Returns the section change."""
    st.caption(help_text)
    cols = st.columns(max(1, len(bands) - 1))
    edges = []
    for i, band in enumerate(bands[1:]):
        value = cols[i].number_input(f"{band.label} from ({unit})", value=float(band.lower), step=step,
                                     min_value=0.0, format=fmt, key=_key(f"{section}.{field}.{i}"))
        edges.append(value)
    out = []
    for i, band in enumerate(bands):
        lower = float(bands[0].lower) if i == 0 else edges[i - 1]
        upper = edges[i] if i < len(bands) - 1 else math.inf
        out.append({"label": band.label, "lower": lower, **({} if math.isinf(upper) else {"upper": upper})})
    return {section: {field: out}}


HEALTH_NAMES = {"usage": "Usage", "recency": "Recency", "trend": "Usage trend", "support": "Support load",
                "nps": "NPS"}


def edit_scheme(scheme: str, defn: Definition, currency_symbol: str, revenue_model: str = "subscription",
                no_data: Collection[str] = (), billing_only: bool = False) -> dict:
    """Draw the controls of `scheme`; return the section changes (empty when nothing is editable). On order
    data (revenue_model "transactional") the value tier is explained as annual revenue, not ARR. `no_data`:
    health components without any input (schemes.health_inputs_without_data): their weights are disabled.
    `billing_only`: subscription revenue without product events, where behaviour ranks by paying months."""
    if scheme == "value_tier":
        # In the data's currency; none named when the data states none (as the tiles show it).
        unit = f", {currency_symbol}" if currency_symbol else ""
        if revenue_model == "transactional":
            return _band_edges("value_tier", "bands", defn.value_tier.bands, f"annual revenue{unit}", 1000.0,
                               "%.0f", "Tiers by annual revenue: net order revenue of the 12 complete calendar "
                               "months up to the as-of date. Each tier includes its lower edge; customers without "
                               "net revenue in those months are Not paying.")
        return _band_edges("value_tier", "bands", defn.value_tier.bands, f"ARR{unit}",
                           1000.0, "%.0f", "Tiers by ARR: 12 x MRR of the last complete month before the as-of "
                           "date. Each tier includes its lower edge; customers without MRR are Not paying.")
    if scheme == "behavior":
        b = defn.behavior
        c1, c2 = st.columns(2)
        ranked, idle = ("paying months", "payment") if billing_only else ("active days", "activity")
        power = c1.slider(f"Power users: top % by {ranked}", 1, 60, int(b.power_top_pct), key=_key("power"),
                          help=f"Among customers who are neither New nor Dormant, ranked by {ranked}"
                               + ("." if billing_only else " in the last 30 days."))
        light = c2.slider(f"Light users: bottom % by {ranked}", 1, 80, int(b.light_bottom_pct),
                          key=_key("light"))
        c3, c4 = st.columns(2)
        new_days = c3.number_input("New: tenure under (days)", 1, 365, int(b.new_days), key=_key("new"))
        dormant = c4.number_input(f"Dormant: no {idle} for (days)", 1, 365, int(b.dormant_days),
                                  key=_key("dormant"))
        return {"behavior": {"power_top_pct": float(power), "light_bottom_pct": float(light),
                             "new_days": int(new_days), "dormant_days": int(dormant)}}
    if scheme == "lifecycle":
        return _band_edges("lifecycle", "bands", defn.lifecycle.bands, "days", 1.0, "%.0f",
                           "Stages by tenure in days; churned customers are Lapsed.")
    if scheme == "health_band":
        st.caption("Health score 0-100: a weighted mean of components, each a percentile rank among "
                   "customers (NPS as score x 10). A missing input is re-weighted away, not counted as zero.")
        weights = dict(defn.health.weights)
        missing = [HEALTH_NAMES.get(name, name) for name in weights if name in no_data]
        if missing:
            st.caption(f"No data for {', '.join(missing)} in this workspace (load events, tickets or NPS "
                       "answers): those weights are set aside for every customer.")
        cols = st.columns(len(weights))
        new_weights = {name: float(cols[i].slider(
            HEALTH_NAMES.get(name, name.capitalize()), 0.0, 1.0, float(w), 0.05, key=_key(f"w.{name}"),
            disabled=name in no_data,
            help="No data for this input: set aside for every customer." if name in no_data else None))
                       for i, (name, w) in enumerate(weights.items())}
        weighted = [HEALTH_NAMES.get(name, name) for name, w in new_weights.items() if w > 0 and name not in no_data]
        if weighted:   # which customers the no-score segment holds under these weights (NPS alone: no answer)
            st.caption(f"A customer with none of the inputs weighted here ({', '.join(weighted)}) has no score and "
                       f"counts in “{NO_USAGE}”.")
        changes = _band_edges("health", "bands", defn.health.bands, "score", 1.0, "%.0f", "Band edges:")
        changes["health"]["weights"] = new_weights
        return changes
    if scheme == "size_band":
        return _band_edges("firmographic", "size_bands", defn.firmographic.size_bands, "employees", 1.0,
                           "%.0f", "Company size bands by number of employees.")
    if scheme == "rfm_segment":
        st.caption("Every RFM code (recency, frequency, monetary scores 1-5) names a segment. Edit any name.")
        table = pd.DataFrame(list(defn.rfm.segments), columns=["code", "segment"])
        edited = st.data_editor(table, hide_index=True, disabled=["code"], height=260, key=_key("rfm"),
                                width="stretch")
        return {"rfm": {"segments": dict(zip(edited["code"].astype(str), edited["segment"].astype(str)))}}
    if scheme == "custom":
        st.caption("Named segments from conditions on customer features, e.g. `events_30d >= 20 AND "
                   "features_used_30d >= 5`. The first rule that matches wins.")
        rules = pd.DataFrame([{"name": r.name, "expr": r.expr} for r in defn.custom.rules],
                             columns=["name", "expr"])
        edited = st.data_editor(rules, num_rows="dynamic", hide_index=True, width="stretch", key=_key("rules"),
                                column_config={"name": st.column_config.TextColumn("Segment name", required=True),
                                               "expr": st.column_config.TextColumn("Condition", width="large",
                                                                                   required=True)})
        default = st.text_input("Everyone else is", defn.custom.default_label, key=_key("default"))
        rows = [r for r in edited.to_dict("records") if str(r.get("name") or "").strip()
                and str(r.get("expr") or "").strip()]
        return {"custom": {"rules": [{"name": str(r["name"]).strip(), "expr": str(r["expr"]).strip()}
                                     for r in rows], "default_label": default}}
    return {}


def edit_assumptions(defn: Definition, symbol: str) -> dict:
    """Sidebar controls for the unit-economics assumptions; returns the [economics] change."""
    from economics.assumptions import assumptions_to_dict, parse_assumptions

    a = parse_assumptions(defn.economics)
    unit = f" ({symbol})" if symbol else ""   # the data's currency; none named when the data states none
    with st.sidebar.expander("Assumptions", icon=":material/calculate:"):
        st.caption("Saved with the definition; every chart that uses them prints them.")
        margin = st.slider("Gross margin (%)", 0, 100, int(round(a.gross_margin * 100)), key=_key("a.margin"),
                           help="Revenue minus cost of goods (hosting, third-party fees), before support and "
                                "onboarding.")
        per_minute = st.number_input(f"Support cost per ticket-minute{unit}", 0.0, 100.0,
                                     float(a.support_cost_per_minute), 0.25, key=_key("a.support"))
        per_event = st.number_input(f"Infra cost per event{unit}", 0.0, 10.0, float(a.infra_cost_per_event),
                                    0.0005, format="%.4f", key=_key("a.infra"))
        st.markdown("Onboarding cost per new customer, by value tier at acquisition")
        onboarding = {tier: st.number_input(f"{tier}{unit}", 0.0, 1e7, float(cost), 250.0,
                                            key=_key(f"a.onb.{tier}"))
                      for tier, cost in a.onboarding_cost.items()}
        window = st.slider("Churn window (complete months)", 1, 24, a.churn_window_months, key=_key("a.window"))
        cap = st.slider("LTV lifetime cap (months)", 12, 120, a.lifetime_cap_months, 6, key=_key("a.cap"))
        healthy = st.number_input("Healthy: net LTV:CAC at least", 0.5, 20.0, float(a.healthy_ltv_cac), 0.5,
                                  key=_key("a.healthy"))
        payback = st.number_input("Healthy: payback at most (months)", 1.0, 120.0,
                                  float(a.healthy_payback_months), 1.0, key=_key("a.payback"))
        draining = st.number_input("Margin-draining: net LTV:CAC below", 0.0, 20.0, float(a.draining_ltv_cac), 0.25,
                                   key=_key("a.draining"))
    wanted = assumptions_to_dict(a) | {
        "gross_margin": margin / 100, "support_cost_per_minute": per_minute, "infra_cost_per_event": per_event,
        "onboarding_cost": onboarding, "churn_window_months": int(window), "lifetime_cap_months": int(cap),
        "healthy_ltv_cac": healthy, "healthy_payback_months": payback, "draining_ltv_cac": draining}
    return {} if wanted == assumptions_to_dict(a) else {"economics": wanted}


def assumptions_sidebar(view, defn: Definition, symbol: str) -> None:
    """Draw the assumptions in the sidebar; an edit becomes the session's definition (and reruns)."""
    edited, problem = apply(defn, edit_assumptions(defn, symbol))
    if problem:
        st.sidebar.error(f"Not applied: {problem}")
    else:
        store_edit(view, edited)


def store_edit(view, edited: Definition) -> None:
    """An edit of the session's definition: stored as "<name> (edited)" and rerun; nothing when unchanged."""
    if dump_definition(edited) != view.definition_toml:
        name = view.definition_name
        store(edited, name if name.endswith("(edited)") else f"{name} (edited)")
        st.rerun()


def default_costs_note(view, symbol: str, tables: Collection[str], where: str = "in the sidebar") -> None:
    """On the user's own data, while the definition sets no cost, say that net LTV and the verdicts rest on
    the SaaS defaults (onboarding 1,500 per SMB customer reads "margin-draining" on an order export), with
    a button that keeps them (written into the definition: the note goes). Nothing on the sample company,
    whose costs the defaults describe."""
    from economics.assumptions import assumptions_to_dict, costs_are_defaults, default_costs, parse_assumptions
    from economics.pipeline import data_defaults

    defn = view.definition
    data = data_defaults(defn, view.meta)   # what the data decides (no onboarding on order data)
    if view.is_sample or not costs_are_defaults(defn.economics, data):
        return
    a = parse_assumptions({})
    text, keep = st.columns([5, 1], vertical_alignment="center")
    text.warning("**Costs are still the defaults**, made for a B2B SaaS company, not read from your data: "
                 + default_costs(symbol, tables, data) + ". Net LTV, contribution and every verdict depend on them: "
                 f"set yours under **Assumptions** {where} (saved with the definition).", icon=":material/calculate:")
    if keep.button("Keep the defaults", key="keep_default_costs",
                   help="Write these costs into the definition as yours: this note goes."):
        edited, problem = apply(defn, {"economics": assumptions_to_dict(a) | dict(defn.economics)})
        if problem is None:
            store_edit(view, edited)


def assumptions_text(defn: Definition, symbol: str, name: str) -> str:
    """One line naming the assumptions, printed under the charts that use them. `name` is the definition's
    name as the sidebar shows it (View.definition_name: "Default (edited)" once edited), not the name saved
    in the definition, which an edit keeps."""
    from economics.assumptions import describe_assumptions, parse_assumptions

    return f"Assumptions ({name}): " + describe_assumptions(parse_assumptions(defn.economics), symbol)


def apply(defn: Definition, changes: dict) -> tuple[Definition, str | None]:
    """The edited definition, or the old one and the reason it was refused, in the words of the controls
    (the definition's own check names file keys: "'value_tier.bands[1]' (SMB): upper 500.0 must be above
    lower 1000.0" for a Mid-market start moved under SMB's)."""
    if not changes:
        return defn, None
    if problem := _control_problem(changes):
        return defn, f"{problem} The thresholds in use are still the last ones that were."
    try:
        edited = with_updates(defn, **changes)
    except DefinitionError as exc:
        return defn, str(exc)
    return edited, None


def _control_problem(changes: dict) -> str | None:
    """What the editor's controls ask that a definition cannot hold, said as the controls name it."""
    for section in changes.values():
        for value in section.values():
            bands = value if isinstance(value, list) and value and isinstance(value[0], dict) else []
            for before, band in zip(bands, bands[1:]):
                if "lower" in band and band["lower"] <= before["lower"]:
                    return (f"{band['label']} must start above {before['label']}, which starts at "
                            f"{before['lower']:,.0f}; it was set to {band['lower']:,.0f}.")
    behavior = changes.get("behavior", {})
    if behavior.get("power_top_pct", 0) + behavior.get("light_bottom_pct", 0) > 100:
        return (f"Power users (top {behavior['power_top_pct']:.0f}%) and Light users (bottom "
                f"{behavior['light_bottom_pct']:.0f}%) would overlap: together they can be at most 100%.")
    weights = changes.get("health", {}).get("weights")
    if weights is not None and not any(w > 0 for w in weights.values()):
        return "Every health weight is 0: give at least one input a weight above 0."
    return None


def is_editable(scheme: str) -> bool:
    return scheme in _EDITABLE


def honest_name(name: str, toml_text: str, default_toml: str) -> str:
    """A definition's name on screen: "Default (edited)" for one named Default whose thresholds or
    assumptions are not the default's (a downloaded Default edited by hand, then uploaded or linked:
    the board pack would stamp it "Default")."""
    if name.casefold() != "default":
        return name
    from segmentation.definition import definition_to_dict, load_definition

    def numbers(text: str) -> dict:   # all but [meta] (its name and date)
        return {k: v for k, v in definition_to_dict(load_definition(text)).items() if k != "meta"}
    return "Default" if numbers(toml_text) == numbers(default_toml) else "Default (edited)"


def store(defn: Definition, name: str) -> None:
    """Make `defn` the session's definition (the sidebar, the URL and every page follow)."""
    ss = st.session_state
    text = dump_definition(defn)
    if text != ss.get("p_definition_toml"):
        ss["p_definition_toml"] = text
        ss["p_definition_name"] = name
