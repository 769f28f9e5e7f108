"""What every page does first: page config, the shared sidebar, and the missing-table message."""
from __future__ import annotations

import streamlit as st

from ui.sidebar import View, sidebar

__all__ = ["start_page", "needs_table", "TABLE_PURPOSE"]

TABLE_PURPOSE = {
    "events": "product usage (behaviour segments, health scores, feature adoption, infra cost)",
    "tickets": "support load and its cost per segment",
    "spend": "CAC, LTV:CAC and payback by segment",
    "nps": "NPS per segment and customers' stated goals",
    "customers": "signup dates, firmographics and acquisition channels",
}


def start_page(title: str, icon: str = ":material/analytics:", needs_data: bool = True) -> View | None:
    """Configure the page, draw the title and the sidebar. None when there is no data yet."""
    st.set_page_config(page_title=f"{title} · Segment economics", page_icon=icon, layout="wide")
    st.title(title)
    return sidebar(needs_data)


def needs_table(view: View, table: str, what: str) -> bool:
    """True when `table` is loaded; else say which table is missing and what it would show."""
    from ui import cached

    if table in cached.workspace_status()["tables"]:
        return True
    st.info(
        f"**{what}** needs the **{table}** table ({TABLE_PURPOSE.get(table, table)}), which is not "
        f"loaded. Upload it on the Data page to see this.",
        icon=":material/table_view:",
    )
    return False
