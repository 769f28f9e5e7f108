"""A workspace file the app cannot open (another dashboard holds it) is a message, never a traceback."""
from __future__ import annotations

from tests.app.conftest import open_page
from ui import cached


def test_every_page_says_the_workspace_is_held_by_another_program_and_what_to_do(held_by_another_process,
                                                                                  monkeypatch):
    path, pid = held_by_another_process
    monkeypatch.setenv("SEGMENTS_WORKSPACE", str(path))
    cached.workspace.clear()
    try:
        for page in (None, "pages/1_Data.py", "pages/4_Unit_economics.py"):
            at = open_page(page)   # asserts no exception
            assert [e.value for e in at.error] == [
                f"The workspace file {path} is open in another program (process {pid}), most likely a second "
                f"copy of this dashboard. Stop that one and reload this page, or give this one a workspace of "
                f"its own: `SEGMENTS_WORKSPACE=/path/to/another.duckdb streamlit run app.py`."]
            assert not at.metric
    finally:
        cached.workspace.clear()   # the other tests' workspace again
