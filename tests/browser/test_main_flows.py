"""The main flows in a real browser: first start, upload, a live slider, a deep link, the CRM export, two
users loading at once, and a screenshot of every page (artifacts/screenshots/<page>.png).

One Streamlit server serves the whole session (the `server` fixture; its first request loads the sample
company, about 10 s); the deep-link test starts a second, fresh one. The tests run in file order: the
upload replaces the sample by the same exports ("Your upload"), and the test after it loads the sample
again, so the session ends as it started.
"""
from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from tests.browser.conftest import ROOT, TIMEOUT_MS, open_page, page_url, rerun, shot, wait_ready
from ui.sidebar import PAGES

pytestmark = pytest.mark.browser

SAMPLE = ROOT / "sample_data"
SAMPLE_FILES = [*sorted(SAMPLE.glob("*.csv")), SAMPLE / "events.csv.gz"]
TABLE_OF_FILE = {"customers.csv": "customers", "revenue.csv": "revenue", "events.csv.gz": "events",
                 "tickets.csv": "tickets", "spend.csv": "spend", "nps.csv": "nps"}
KPI_LABELS = ["Paying customers", "MRR", "NRR (12 months)", "GRR (12 months)",
              "Monthly churn (12 mo)",
              "Net LTV : CAC (blended)", "CAC payback", "Blended CAC"]
SAMPLE_CUSTOMERS = 3_000  # sample_data/README.md: 3,000 customers
SAMPLE_PAYING = 1_549     # paying at 1 Nov 2026 (the Overview's tile): whom the Segments page counts by default


def _sample_row_counts() -> dict[str, int]:
    """Rows of each sample export, counted straight from the files (the oracle for what gets stored)."""
    return {TABLE_OF_FILE[f.name]: len(pd.read_csv(f, usecols=[0])) for f in SAMPLE_FILES}


def _kpis(page) -> dict[str, str]:
    """Label -> shown value of every metric tile on the page (the Overview has eight)."""
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(len(KPI_LABELS))
    out = {}
    for tile in page.locator('[data-testid="stMetric"]').all():
        label = tile.locator('[data-testid="stMetricLabel"]').inner_text().strip()
        out[label] = tile.locator('[data-testid="stMetricValue"]').inner_text().strip()
    return out


def _choose(page, label: str, option: str, where: str = '[data-testid="stSidebar"]') -> None:
    """Pick `option` in the selectbox labelled `label` and wait for the rerun."""
    box = page.locator(f'{where} [data-testid="stSelectbox"]').filter(has_text=label)
    box.locator("input").click()
    rerun(page, lambda: page.get_by_role("option", name=option, exact=True).click())


def _bars(page, chart: int = 0) -> dict[str, int]:
    """Category -> the bar text (a count like "1,174") of the first bar trace of a plotly chart."""
    plot = page.locator('[data-testid="stPlotlyChart"]').nth(chart)
    # the first trace's bars carry the counts as text; x tick labels name the categories, in order
    texts = plot.locator(".trace.bars").first.locator("text.bartext").evaluate_all(
        "els => els.map(e => e.textContent)")
    ticks = plot.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
    assert len(texts) == len(ticks), (texts, ticks)
    return {tick: int(text.replace(",", "")) for tick, text in zip(ticks, texts)}


def _grid(page, index: int = 0) -> list[list[str]]:
    """The visible cells of the index-th st.dataframe, row by row (glide grid's accessible cells)."""
    frame = page.locator('[data-testid="stDataFrame"]').nth(index)
    # the grid draws on a canvas and adds its accessible cells a moment after the run
    frame.locator('[data-testid="glide-cell-1-0"]').wait_for(state="attached")
    cells = frame.locator('[data-testid^="glide-cell-"]').evaluate_all(
        "els => els.map(e => [e.dataset.testid, e.textContent])")
    rows: dict[int, dict[int, str]] = {}
    for testid, text in cells:
        col, row = (int(x) for x in testid.removeprefix("glide-cell-").split("-"))
        rows.setdefault(row, {})[col] = text
    return [[r[c] for c in sorted(r)] for _, r in sorted(rows.items())]


def _workspace_counts(page) -> dict[str, int]:
    """Table -> rows from the Data page's "In the workspace now" table."""
    return {row[0]: int(row[1].replace(",", "")) for row in _grid(page, 0) if len(row) >= 2}


def test_the_overview_shows_the_sample_company_with_its_kpi_tiles(server, tab):
    open_page(tab, server.url + "/")
    main = tab.locator('[data-testid="stMain"]')
    assert tab.locator("h1").first.inner_text() == "Overview"
    assert "Sample company" in main.locator('[data-testid="stAlert"]').first.inner_text()
    kpis = _kpis(tab)
    assert list(kpis) == KPI_LABELS
    # every tile shows a number, not n/a: the sample has 24 months of data
    for label, value in kpis.items():
        assert re.search(r"\d", value), f"{label} shows {value!r}"
    assert re.fullmatch(r"\d{1,3}(,\d{3})*", kpis["Paying customers"])
    assert int(kpis["Paying customers"].replace(",", "")) <= SAMPLE_CUSTOMERS
    # the segment map is drawn, with its title and one labelled bubble per paying segment
    segment_map = tab.locator('[data-testid="stPlotlyChart"]').first
    assert "Segment map" in segment_map.locator(".gtitle").text_content()
    assert segment_map.locator(".scatterlayer .point").count() >= 2
    # the URL already reproduces the view
    assert "scheme=value_tier" in tab.url and "as_of=" in tab.url


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


@pytest.mark.parametrize(("script", "label"), [(p[0], p[1]) for p in PAGES], ids=[_slug(p[1]) for p in PAGES])
def test_every_page_renders_and_is_saved_as_a_screenshot(server, tab, script, label):
    if not (ROOT / script).exists():
        pytest.skip(f"{script} does not exist yet")
    open_page(tab, page_url(server, script))  # fails on an exception shown on the page
    assert tab.locator("h1").first.inner_text().strip()
    path = shot(tab, _slug(label))
    assert path.stat().st_size > 10_000


def test_moving_the_power_users_slider_changes_the_behaviour_distribution(server, tab):
    open_page(tab, server.url + "/Segments")
    _choose(tab, "Segment by", "Behaviour")
    assert "scheme=behavior" in tab.url
    before = _bars(tab)
    assert {"Power", "Active", "Light", "Dormant", "New"} <= set(before), before
    assert next(iter(before)) == "Power"  # the first bar, which the wait below watches

    slider = tab.locator('[data-testid="stSlider"]').filter(has_text="Power users")
    thumb = slider.get_by_role("slider")
    assert thumb.get_attribute("aria-valuetext") == "20"  # the default: top 20% by active days

    def press() -> None:
        thumb.focus()
        for _ in range(10):
            thumb.press("ArrowRight")

    rerun(tab, press)  # the slider sends its value once the key presses pause: one run, then st.rerun()
    assert thumb.get_attribute("aria-valuetext") == "30"
    # wait for the chart to show a different Power count (it fails here if the chart never changes)
    tab.wait_for_function(
        """n => [...document.querySelector('[data-testid="stPlotlyChart"]').querySelectorAll('text.bartext')]
                 .map(e => e.textContent)[0] !== n""", arg=f"{before['Power']:,}", timeout=30_000)
    wait_ready(tab)
    after = _bars(tab)
    # top 30% instead of top 20%: more Power users, taken from Active; the other segments do not move
    assert after["Power"] > before["Power"]
    assert after["Power"] + after["Active"] == before["Power"] + before["Active"]
    for segment in ("Light", "Dormant", "New"):
        assert after[segment] == before[segment], segment
    assert sum(after.values()) == sum(before.values()) == SAMPLE_PAYING


def test_a_deep_link_on_a_fresh_server_shows_the_linked_view(make_server, tab):
    fresh = make_server()
    open_page(tab, fresh.url + "/Segments?scheme=behavior&as_of=2026-10-01")
    assert tab.locator("h1").first.inner_text() == "Segments"
    sidebar = tab.locator('[data-testid="stSidebar"]')
    scheme = sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Segment by").locator("input")
    assert scheme.input_value() == "Behaviour"
    as_of = sidebar.locator('[data-testid="stDateInput"]').filter(has_text="As of")
    # st.date_input draws year / month / day spin buttons: 2026 / 10 / 01
    parts = as_of.get_by_role("spinbutton").all_inner_texts()
    assert "/".join(p.strip() for p in parts) == "2026/10/01"
    caption = tab.locator('[data-testid="stMain"] [data-testid="stCaptionContainer"]').first.inner_text()
    assert "Behaviour" in caption and "01 Oct 2026" in caption
    # the behaviour thresholds are the ones on screen, and the URL keeps the link's parameters
    assert tab.get_by_text("Power users: top % by active days").is_visible()
    assert "/Segments?" in tab.url
    assert "scheme=behavior" in tab.url and "as_of=2026-10-01" in tab.url
    # the linked scheme and date stay on the pages opened next from the menu (the scheme fell back to Value
    # tier on the first change after a link, on the second otherwise)
    for label in ("Unit economics", "Transitions", "Risk and opportunities"):
        rerun(tab, lambda: sidebar.get_by_role("link", name=label).click())
        wait_ready(tab)
        assert f"/{label.replace(' ', '_')}?" in tab.url
        assert scheme.input_value() == "Behaviour", label
        assert "scheme=behavior" in tab.url and "as_of=2026-10-01" in tab.url, label


def _download(tab, button):
    """Click a download button and return the download; once more when the first click brought none (a
    click landing while a rerun replaces the button; the CSVs are handed over as bytes since a deferred,
    made-on-click download stayed disabled after such a click)."""
    for attempt in (1, 2):
        try:
            with tab.expect_download(timeout=20_000) as info:
                button.click()
            return info.value
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            wait_ready(tab)


def test_the_membership_csv_downloads_with_one_row_per_customer(server, tab):
    open_page(tab, server.url + "/Segments")
    # The CSV is made when its popover opens: open it, then download.
    tab.get_by_role("button", name=re.compile("Membership CSV", re.I)).click()
    button = tab.locator('[data-testid="stDownloadButton"]').get_by_role(
        "button", name=re.compile(f"all {SAMPLE_CUSTOMERS:,} customers as CSV", re.I))
    button.wait_for(timeout=TIMEOUT_MS)
    download = _download(tab, button)
    assert download.suggested_filename.startswith("segments_") and download.suggested_filename.endswith(".csv")
    frame = pd.read_csv(io.BytesIO(Path(download.path()).read_bytes()), dtype=str)
    assert "customer_id" in frame.columns
    assert len(frame) == SAMPLE_CUSTOMERS
    assert frame["customer_id"].is_unique
    assert "value_tier" in frame.columns
    # a spreadsheet must not run any cell as a formula
    text_cells = frame.select_dtypes(include="object").stack().astype(str)
    assert not text_cells.str.match(r"^[=+\-@\t\r]").any()


def test_uploading_the_sample_exports_recognises_each_file_and_loads_them(server, tab):
    open_page(tab, server.url + "/")
    before = _kpis(tab)

    open_page(tab, server.url + "/Data")
    uploader = tab.locator('[data-testid="stFileUploader"] input[type="file"]')
    rerun(tab, lambda: uploader.set_input_files([str(f) for f in SAMPLE_FILES]))
    tab.get_by_text("Files read and checked.").wait_for()
    titles = tab.locator('[data-testid="stExpander"] summary').all_inner_texts()
    for name, table in TABLE_OF_FILE.items():
        assert any(f"{name} → {table}" in t for t in titles), (name, titles)
    assert tab.get_by_text("No problems found.").is_visible()

    rerun(tab, lambda: tab.get_by_role("button", name="Load into the workspace").click())
    tab.get_by_text(f"Loaded {len(SAMPLE_FILES)} files. Every page now uses them.").wait_for()
    wait_ready(tab)
    assert "Source: Your upload" in tab.locator('[data-testid="stMain"]').inner_text()
    expected = _sample_row_counts()
    counts = _workspace_counts(tab)
    assert {t: counts.get(t) for t in expected} == expected

    # the same exports give the same numbers as the built-in sample, now without the sample banner
    open_page(tab, server.url + "/")
    assert _kpis(tab) == before
    assert "Sample company" not in tab.locator('[data-testid="stMain"]').inner_text()


def test_two_users_loading_at_the_same_time_leave_a_consistent_workspace(server, new_tab):
    first, second = new_tab(), new_tab()
    for pg in (first, second):
        open_page(pg, server.url + "/Data")
    for pg in (first, second):   # asked first: it replaces what is loaded
        pg.get_by_role("button", name="Load the sample company").click()
    buttons = [pg.get_by_role("button", name="Yes, load the sample") for pg in (first, second)]
    # both clicks go out before either load has finished (a load takes seconds)
    buttons[0].click()
    buttons[1].click()
    expected = _sample_row_counts()
    for pg in (first, second):
        pg.get_by_text("Sample company loaded.").wait_for()
        wait_ready(pg)
        assert not pg.get_by_text("could not be loaded").count()
        # each tab's rerun after its load shows what the workspace holds now: one whole sample, not two
        counts = _workspace_counts(pg)
        assert {t: counts.get(t) for t in expected} == expected
        assert counts["ledger"] > 0
        assert "Source: Sample company" in pg.locator('[data-testid="stMain"]').inner_text()
    overview = new_tab()
    open_page(overview, server.url + "/")
    kpis = _kpis(overview)
    assert list(kpis) == KPI_LABELS
    assert all(re.search(r"\d", v) for v in kpis.values()), kpis


def test_clicking_a_segment_bar_lists_that_segments_customers(server, tab):
    open_page(tab, server.url + "/Segments?scheme=value_tier")
    listed = tab.locator('[data-testid="stSelectbox"]').filter(has_text="Segment").filter(
        has_not_text="Segment by").first.locator("input")
    assert listed.input_value() == "Enterprise"  # the first segment until a bar is clicked
    plot = tab.locator('[data-testid="stPlotlyChart"]').first
    smb_bar = plot.locator(".trace.bars").first.locator(".point path").nth(2)  # Enterprise, Mid-market, SMB
    rerun(tab, lambda: smb_bar.click(force=True))
    assert listed.input_value() == "SMB"
