"""Overview: the state of the business by segment, on one screen."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import cached
from ui.page import start_page

view = start_page("Overview", ":material/space_dashboard:")
if view is None:
    st.stop()

status = cached.workspace_status()
st.caption(
    f"Data from **{view.meta.get('min_date')}** to **{view.meta.get('max_date')}** · as of "
    f"**{view.as_of:%d %b %Y}** · last complete month **{status['last_complete_month'] or 'none'}** · "
    f"{status['model_label']}"
)

with st.expander("Tables in the workspace", expanded=False):
    st.dataframe(pd.DataFrame({"table": list(status["tables"]), "rows": list(status["tables"].values())}),
                 hide_index=True)
