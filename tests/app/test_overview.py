"""The Overview shows the sample company's KPIs, findings and segment map, and follows the sidebar."""
from __future__ import annotations

from tests.app.conftest import figure_titles, figures, open_page


def test_overview_shows_kpis_with_changes_and_the_sample_banner():
    at = open_page()
    metrics = {m.label: m for m in at.metric}
    # churn pooled over the 12 complete months its tile's change compares (Nov 2025 - Oct 2026 with Oct 2025 - Sep 2026)
    assert {"Paying customers", "MRR", "NRR (12 months)", "GRR (12 months)", "Monthly churn (12 mo)",
            "Net LTV : CAC (blended)", "CAC payback", "Blended CAC"} <= set(metrics)
    assert "pooled over Nov 2025 – Oct 2026: the customer-weighted average month" in \
        metrics["Monthly churn (12 mo)"].help
    assert metrics["MRR"].value.startswith("$") and metrics["MRR"].delta
    assert any("Sample company" in i.value for i in at.info)
    assert any("last complete month **October 2026**" in c.value for c in at.caption)
    assert not any("not measured" in c.value for c in at.caption)   # tickets and events are loaded
    assert any(c.value.startswith("New: a customer's first paying month") for c in at.caption)  # movements


def test_overview_names_the_margin_draining_and_the_healthy_segment():
    at = open_page()
    assert any("Outbound sales** drains margin" in e.value for e in at.error)
    assert any("**Enterprise** pays" in s.value for s in at.success)


def test_segment_map_opens_on_the_cut_that_shows_the_hidden_drain_and_follows_the_scheme():
    at = open_page()
    # value tier has no margin-draining segment on the sample, value tier x channel has: the map opens there
    assert figure_titles(at)[0] == "Segment map: Value tier x channel"
    at.segmented_control(key="map_scheme").set_value("value_tier").run()
    assert figure_titles(at)[0] == "Segment map: Value tier (ARR)"
    labels = {t for trace in figures(at)[0]["data"] for t in trace["text"]}
    assert labels == {"Enterprise", "Mid-market", "SMB", "Self-serve"}
    at.selectbox(key="w_scheme").set_value("lifecycle").run()
    at.segmented_control(key="map_scheme").set_value("lifecycle").run()
    assert not at.exception
    assert figure_titles(at)[0] == "Segment map: Lifecycle (tenure)"
    labels = {t for trace in figures(at)[0]["data"] for t in trace["text"]}
    assert "Mature" in labels and "Enterprise" not in labels


def test_segment_map_by_value_tier_and_channel_shows_the_margin_draining_segment_in_red():
    at = open_page()
    at.segmented_control(key="map_scheme").set_value("value_tier+channel").run()
    assert not at.exception
    traces = {t["name"]: t["text"] for t in figures(at)[0]["data"]}
    assert "SMB · Outbound sales" in traces["margin-draining"]
    assert "Enterprise · Events" in traces["healthy"]


def test_board_pack_button_offers_the_pdf_and_html_under_the_title_typed():
    at = open_page()
    title = at.text_input(key="pack_title")
    assert title.placeholder == "Northwind Analytics (sample company)"   # what an empty title gives
    title.set_value("Acme & Co")
    next(b for b in at.button if b.label == "Build the board pack").click().run()
    assert not at.exception
    _, pack = at.session_state["board_pack"]
    assert pack["pdf"].startswith(b"%PDF")
    assert b"<h1>Acme &amp; Co: board pack</h1>" in pack["html"] and b"Northwind" not in pack["html"]
    assert [b.proto.label for b in at.get("download_button")] == ["Download PDF", "Download HTML"]


def test_a_pack_built_for_another_date_or_definition_is_no_longer_offered():
    """The pack built as of 1 Nov stayed downloadable after the as-of date moved to 1 Sep, named
    board_pack_2026-09-01 with November's numbers in it."""
    from datetime import date

    at = open_page()
    next(b for b in at.button if b.label == "Build the board pack").click().run()
    assert len(at.get("download_button")) == 2
    at.date_input(key="w_as_of").set_value(date(2026, 10, 1)).run()
    assert not at.exception
    assert not at.get("download_button")
    assert "The pack built before was for another as-of date (as of 01 Nov 2026, Default): build it again for " \
        "what this page shows." in [c.value for c in at.caption]
    at.date_input(key="w_as_of").set_value(date(2026, 11, 1)).run()
    assert len(at.get("download_button")) == 2   # the same view again: the same pack
    at.text_input(key="pack_title").set_value("Acme").run()
    assert "another title (as of 01 Nov 2026, Default)" in " ".join(c.value for c in at.caption)


def test_overview_repeats_what_the_load_noted_about_the_data(crm_snapshot):
    """A CRM snapshot's churn caveat reads on the Overview beside the churn tile, not only on the Data page;
    the sample company, loaded without notes, shows none."""
    at = open_page()
    note = next(w.value for w in at.warning if "Noted when these files were loaded" in w.value)
    assert "records churn only in its own month (November 2026)" in note
    assert "pooled over the snapshot month alone" in note


def test_on_a_crm_snapshot_the_default_definition_pools_churn_over_the_snapshot_month(sample_workspace):
    """A session that opened on the sample company (churn pooled over 12 months, as of 1 Nov) and then holds a
    snapshot: "Default" and the dates follow the data, so the churn tile reads the snapshot month (its
    churners over the customers at its start), not that month's churn spread over 12 months of survivors."""
    from datetime import date

    from ingest.load import LoadOptions, Upload, load, load_sample
    from ingest.store import Workspace

    at = open_page()
    assert "churn_window_months" not in at.session_state["p_definition_toml"]
    rows = ["customerID,tenure,MonthlyCharges,Churn"] + [f"C{i},{12 + i},40.00,{'Yes' if i < 5 else 'No'}"
                                                         for i in range(20)]
    ws = Workspace(sample_workspace)
    try:
        assert load(ws, [Upload("snap.csv", "\n".join(rows).encode())], LoadOptions(snapshot_date=date(2026, 11, 1))).ok
        at.run()
        assert not at.exception
        assert "churn_window_months = 1" in at.session_state["p_definition_toml"]
        assert at.session_state["p_definition_name"] == "Default"
        # the dates start again at the new data's defaults: the sample's 1 Nov would leave November open
        assert at.session_state["p_as_of"] == date(2026, 12, 1)
        churn = next(m for m in at.metric if m.label == "Monthly churn")
        assert churn.value == "25%", churn.value                      # 5 of the 20 paying on 1 Nov
        at.switch_page("pages/4_Unit_economics.py").run()
        assert any("churn pooled over Nov 2026." in c.value for c in at.caption)
    finally:
        load_sample(ws)


def test_overview_without_load_notes_shows_no_note_and_says_what_the_tiles_compare_with():
    at = open_page()
    assert not any("Noted when these files were loaded" in w.value for w in at.warning)
    assert any("changes against the month before, **September 2026**, as the data reads it now (a refund dated "
               "later restates its month)" in c.value for c in at.caption)


def test_a_first_small_export_gets_no_empty_segment_map_but_a_sentence_saying_why(sample_workspace):
    """A founder's first try is often a small export: no segment has 30 paying customers, and an empty frame
    of axes read as a broken chart."""
    from ingest.load import LoadOptions, Upload, load, load_sample
    from ingest.store import Workspace

    rows = ["customer_id,date,amount"] + [f"C{i},2026-0{1 + i % 9}-15,{100 + i}.00" for i in range(12)]
    ws = Workspace(sample_workspace)
    try:
        assert load(ws, [Upload("orders.csv", "\n".join(rows).encode())], LoadOptions()).ok
        at = open_page()
        assert "Segment map" not in " ".join(figure_titles(at))
        assert any(c.value.startswith("No segment map yet: it places segments with at least 30 paying customers")
                   for c in at.caption)
        assert not any(c.value.startswith("Verdict: **healthy**") for c in at.caption)
    finally:
        load_sample(ws)
