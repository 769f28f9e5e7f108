"""AppTest fixtures: every page runs against one workspace holding the sample company."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 180


@pytest.fixture(scope="session", autouse=True)
def sample_workspace(tmp_path_factory):
    """A workspace of its own, loaded with the sample company on the app's first start."""
    path = tmp_path_factory.mktemp("workspace") / "app.duckdb"
    old = os.environ.get("SEGMENTS_WORKSPACE")
    os.environ["SEGMENTS_WORKSPACE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("SEGMENTS_WORKSPACE", None)
    else:
        os.environ["SEGMENTS_WORKSPACE"] = old


@pytest.fixture
def crm_snapshot(sample_workspace):
    """The workspace holding a CRM snapshot (Telco style: billing alone, no events; every churner dated at
    the snapshot), 400 customers; the sample company is loaded back afterwards."""
    import random
    from datetime import date

    from ingest.load import LoadOptions, Upload, load, load_sample
    from ingest.store import Workspace

    rng = random.Random(7)
    rows = ["customerID,tenure,MonthlyCharges,Churn"] + [
        f"C{i:04d},{rng.randint(1, 60)},{rng.uniform(20, 110):.2f},{'Yes' if rng.random() < 0.25 else 'No'}"
        for i in range(400)]
    ws = Workspace(sample_workspace)
    try:
        result = load(ws, [Upload("crm_snapshot.csv", "\n".join(rows).encode())],
                      LoadOptions(snapshot_date=date(2026, 11, 1)))
        assert result.ok, result.problems.text()
        yield ws
    finally:
        load_sample(ws)


def open_page(page: str | None = None) -> AppTest:
    """Run the Overview, then switch to `page` (as a user arriving on the app would)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    if page:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def figures(at: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def figure_titles(at: AppTest) -> list[str]:
    return [f["layout"]["title"]["text"] for f in figures(at)]
