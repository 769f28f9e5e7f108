"""The workspace: atomic replace, versions, concurrent loads, saved definitions."""
from __future__ import annotations

import threading

import pandas as pd
import pytest

from ingest.store import Workspace, WorkspaceUnavailable


def _revenue(n: int, tag: str) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [f"{tag}{i}" for i in range(n)], "amount_cents": range(n)})


@pytest.fixture
def workspace(tmp_path):
    return Workspace(tmp_path / "ws.duckdb")


def test_a_new_workspace_is_empty_and_never_loaded(workspace):
    assert workspace.is_empty()
    assert workspace.never_loaded()
    assert workspace.data_version == "empty"


def test_replace_stores_tables_and_meta_and_changes_the_version(workspace):
    v1 = workspace.replace({"revenue": _revenue(3, "a")}, {"source": "upload"})
    assert workspace.row_counts() == {"revenue": 3}
    assert workspace.meta()["source"] == "upload"
    v2 = workspace.replace({"revenue": _revenue(3, "a")}, {"source": "upload"})
    assert v1 != v2 == workspace.data_version


def test_replace_drops_tables_the_new_load_does_not_have(workspace):
    workspace.replace({"revenue": _revenue(2, "a"), "events": pd.DataFrame({"x": [1]})}, {})
    workspace.replace({"revenue": _revenue(2, "b")}, {})
    assert workspace.tables() == ["revenue"]


def test_a_failing_replace_leaves_the_previous_load_intact(workspace):
    workspace.replace({"revenue": _revenue(4, "a"), "events": pd.DataFrame({"x": [1, 2]})}, {"source": "sample"})
    before = workspace.data_version

    class Boom:  # not a frame: registering it fails after the DROPs ran inside the transaction
        pass

    with pytest.raises(Exception):
        workspace.replace({"revenue": _revenue(1, "b"), "events": Boom()}, {"source": "upload"})
    assert workspace.data_version == before
    assert workspace.row_counts() == {"revenue": 4, "events": 2}
    assert workspace.table("revenue")["customer_id"].tolist() == ["a0", "a1", "a2", "a3"]


def test_two_concurrent_loads_leave_one_whole_load(workspace):
    def load(tag: str) -> None:
        workspace.replace({"revenue": _revenue(500, tag), "events": _revenue(50, tag)}, {"source": tag})

    threads = [threading.Thread(target=load, args=(tag,)) for tag in ("a", "b", "a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winner = workspace.meta()["source"]
    revenue, events = workspace.table("revenue"), workspace.table("events")
    assert len(revenue) == 500 and len(events) == 50
    assert revenue["customer_id"].str[0].eq(winner).all()
    assert events["customer_id"].str[0].eq(winner).all()


def test_clear_empties_the_workspace_and_remembers_it_was_cleared(workspace):
    workspace.replace({"revenue": _revenue(2, "a")}, {})
    workspace.clear()
    assert workspace.is_empty()
    assert not workspace.never_loaded()


def test_saved_definitions_survive_loads_and_clears(workspace):
    workspace.save_definition("Board Q3", "name = 'Board Q3'")
    workspace.replace({"revenue": _revenue(1, "a")}, {})
    workspace.clear()
    workspace.save_definition("Board Q3", "name = 'Board Q3 v2'")
    assert workspace.saved_definitions() == {"Board Q3": "name = 'Board Q3 v2'"}


def test_a_definition_needs_a_name(workspace):
    with pytest.raises(ValueError, match="needs a name"):
        workspace.save_definition("  ", "x = 1")


def test_unknown_tables_are_refused(workspace):
    with pytest.raises(ValueError, match="Unknown tables"):
        workspace.replace({"orders": _revenue(1, "a")}, {})
    with pytest.raises(ValueError, match="Unknown table"):
        workspace.table("orders")


def test_a_workspace_another_process_holds_names_the_file_the_process_and_what_to_do(held_by_another_process):
    path, pid = held_by_another_process
    with pytest.raises(WorkspaceUnavailable) as error:
        Workspace(path).cursor()
    message = str(error.value)
    assert f"The workspace file {path} is open in another program (process {pid})" in message
    assert "SEGMENTS_WORKSPACE=" in message


def test_a_file_that_is_not_a_workspace_is_named_and_left_as_it_is(tmp_path):
    path = tmp_path / "workspace.duckdb"
    path.write_bytes(b"not a database " * 1000)
    with pytest.raises(WorkspaceUnavailable, match=f"The workspace file {path} cannot be opened: .*It was left"):
        Workspace(path).cursor()
    assert path.read_bytes() == b"not a database " * 1000
