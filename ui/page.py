"""What every page does first: page config, the shared sidebar, and the missing-table message."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from economics.glossary import snapshot_history
from ingest.store import WorkspaceUnavailable
from ui.sidebar import View, sidebar

__all__ = ["start_page", "needs_table", "hidden_drain_hint", "kept", "with_names", "TABLE_PURPOSE"]

TABLE_PURPOSE = {
    "events": "product usage: behaviour and health by usage, feature adoption, infra cost",
    "tickets": "support load and its cost per segment",
    "spend": "sales and marketing spend by month and channel, from which CAC is measured",
    "nps": "NPS per segment and customers' stated goals",
    "customers": "signup dates, firmographics and acquisition channels",
}


def kept(kind, label: str, key: str, default, **kwargs):
    """A widget whose value outlives the runs that do not draw it (a closed tab, another page): Streamlit
    forgets a widget's state in such a run, so the value is kept under "p_<key>" and handed back when the
    widget is drawn again. `default` is the first value; pass no `value` / `index` in kwargs."""
    ss = st.session_state
    if key not in ss:
        ss[key] = ss.get(f"p_{key}", default)
    ss[f"p_{key}"] = value = kind(label, key=key, **kwargs)
    return value


def with_names(frame: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """A customer list (customer_id first) with each customer's name beside its id, when the customers file
    has names (a features column): a team works a list by name, not by id."""
    out = frame.assign(customer_id=frame["customer_id"].astype(str))
    if "name" in features:
        names = features.set_index(features["customer_id"].astype(str))["name"]
        out.insert(1, "name", out["customer_id"].map(names).to_numpy())
    return out


def start_page(title: str, icon: str = ":material/analytics:", needs_data: bool = True) -> View | None:
    """Configure the page, draw the title and the sidebar. None when there is no data yet."""
    st.set_page_config(page_title=f"{title} · Segment economics", page_icon=icon, layout="wide")
    st.title(title)
    try:
        return sidebar(needs_data)
    except WorkspaceUnavailable as exc:
        st.error(str(exc), icon=":material/lock:")
        st.stop()


def needs_table(view: View, table: str, what: str) -> bool:
    """True when `table` is loaded; else say which table is missing and what it would show."""
    from ui import cached

    if table in cached.workspace_status()["tables"]:
        return True
    st.info(
        f"**{what}** needs the **{table}** table, which is not loaded. It brings "
        f"{TABLE_PURPOSE.get(table, table)}: upload it on the Data page to see this.",
        icon=":material/table_view:",
    )
    return False


def hidden_drain_hint(view: View, schemes: dict[str, str]) -> None:
    """When the chosen scheme shows no margin-draining segment but value tier x channel does, say so and
    offer to switch (a sales-led segment hides inside a tier that also holds self-serve customers)."""
    from ui import cached
    from ui.format import verdict_ratio

    cross = cached.CROSS_SCHEME
    if view.scheme == cross or cross not in schemes:
        return
    from economics.findings import draining_segments

    econ = cached.economics(view.version, view.as_of, view.scheme, view.definition_toml)
    if not draining_segments(econ.table, econ.assumptions.min_customers).empty:
        return
    split = cached.economics(view.version, view.as_of, cross, view.definition_toml)
    drains = draining_segments(split.table, split.assumptions.min_customers)
    if drains.empty:
        return
    worst = drains.iloc[0]
    left, right = st.columns([4, 1])
    left.warning(f"Hidden inside {schemes[view.scheme]}: **{worst['segment']}** drains margin (net LTV:CAC "
                 f"{verdict_ratio(worst['net_ltv_cac'], split.assumptions)}, support "
                 f"{worst['support_share_of_revenue']:.0%} of revenue).", icon=":material/visibility:")
    if right.button("Show value tier x channel", key="switch_to_cross"):
        st.session_state["p_scheme"] = cross
        st.rerun()


def snapshot_note(view: View, what: str) -> None:
    """On a CRM snapshot (one row per customer: tenure, MRR, churned), say what the history behind `what` is:
    rebuilt from tenure, every churn in the snapshot month."""
    if view.meta.get("revenue_shape") != "snapshot":
        return
    month = pd.Timestamp(view.meta.get("snapshot_date") or view.meta.get("max_date"))
    st.info(f"{snapshot_history(f'{month:%d %b %Y}')} {what}", icon=":material/photo_camera:")
