"""Every page on the real public exports in ../shared/data (an order export, a CRM snapshot): no
exception, no error box, and the numbers the user reads first are there."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.load import LoadOptions, Upload, load, load_sample
from ingest.store import Workspace
from tests.app.conftest import figure_titles, open_page

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [pytest.mark.skipif(not DATA.is_dir(), reason=f"real exports not found at {DATA}"), pytest.mark.slow]

PAGES = ["pages/1_Data.py", "pages/2_Segments.py", "pages/3_Cohorts.py", "pages/4_Unit_economics.py",
         "pages/5_Cost_to_serve.py", "pages/6_Transitions.py", "pages/7_Risk_and_opportunities.py"]


@pytest.mark.parametrize("source, options, model", [
    ("online_retail.csv.gz", LoadOptions(), "transactional"),
    ("Telco-Customer-Churn.csv", LoadOptions(snapshot_date=date(2026, 11, 1)), "subscription"),
])
def test_every_page_runs_on_a_real_export(sample_workspace, source, options, model):
    ws = Workspace(sample_workspace)
    try:
        result = load(ws, [Upload.from_path(DATA / source)], options)
        assert result.ok, result.problems.text()
        at = open_page()
        assert all("drains margin" in e.value for e in at.error), [e.value for e in at.error]  # findings only
        assert model in " ".join(c.value for c in at.caption)
        metrics = {m.label: m for m in at.metric}
        customers = "Active customers" if model == "transactional" else "Paying customers"   # inactivity rule
        assert metrics[customers].value not in ("", "nan", "n/a")
        if options.snapshot_date is not None:   # a snapshot's rebuilt history: no month-on-month change
            assert (metrics["NRR (12 months)"].value, metrics["NRR (12 months)"].delta) == \
                ("n/a", "not from a snapshot")
            assert not metrics[customers].delta and not metrics["Monthly churn"].delta
            assert any("a CRM snapshot taken 01 Nov 2026 (its month counts in full" in c.value for c in at.caption)
        # without spend data the CAC tiles say so instead of a bare n/a
        assert (metrics["Blended CAC"].value, metrics["Blended CAC"].delta) == ("n/a", "needs spend data")
        # findings without spend data: from contribution and churn, never "not enough customers"
        assert any("pays its way" in s.value and "CAC needs spend data" in s.value for s in at.success)
        assert any("churns fastest" in i.value for i in at.info)
        if model == "transactional":   # the movements say where the inactivity rule dates churn
            assert any("counts as churned the month after its last purchase" in c.value for c in at.caption)
        for page in PAGES:
            at.switch_page(page).run()
            assert not at.exception, (page, at.exception)
            if page == "pages/1_Data.py" and model == "transactional":   # the load's warnings stay in view
                assert any(r"without customer\_id were skipped. They hold" in m.value for m in at.markdown)
            assert all("drains margin" in e.value for e in at.error), (page, [e.value for e in at.error])
            if page == "pages/2_Segments.py":   # order data counts those still buying ("Active" is a segment)
                counting = next(c.value for c in at.caption if c.value.startswith("Counting"))
                assert ("(buying)" if model == "transactional" else "(paying)") in counting, counting
            if model == "transactional":   # order revenue is never called MRR (DEFINITIONS.md "Revenue")
                assert not [t for t in figure_titles(at) if "MRR" in t], (page, figure_titles(at))
                texts = [str(v) for frame in (d.value for d in at.dataframe)
                         for column in frame.select_dtypes(exclude="number") for v in frame[column]]
                assert not [t for t in texts if "MRR" in t], (page, [t for t in texts if "MRR" in t][:3])
                said = [c.value for c in [*at.caption, *at.info, *at.markdown]
                        if "MRR" in c.value or "arr >=" in c.value or "ARR" in c.value]
                assert not said, (page, said[:3])
        if model == "transactional":   # the clusters' overlay offers attributes that tell customers apart
            at.session_state["risk_tab"] = "Clusters"
            at.run()
            assert not at.exception
            assert at.selectbox(key="overlay_attr").options == ["Country"]   # every size band "Unknown size"
    finally:
        load_sample(ws)  # the other page tests expect the sample company
