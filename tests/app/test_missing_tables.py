"""With only revenue loaded, pages say which table is missing and what it would show, never an error."""
from __future__ import annotations

import pandas as pd
import pytest

from ingest.load import LoadOptions, Upload, load, load_sample
from ingest.store import Workspace
from tests.app.conftest import figure_titles, figures, open_page

ORDERS = b"""customer_id,date,amount
A,2025-01-10,100.00
A,2025-02-10,100.00
B,2025-01-20,80.00
B,2025-03-20,80.00
C,2025-02-02,30.00
"""


def _orders_loaded(sample_workspace, data: bytes):
    """The workspace holding `data` as an order export; the sample company is loaded back afterwards (the
    other page tests expect it)."""
    ws = Workspace(sample_workspace)
    result = load(ws, [Upload("orders.csv", data)], LoadOptions())
    assert result.ok, result.problems.text()
    yield ws
    load_sample(ws)


@pytest.fixture
def revenue_only(sample_workspace):
    yield from _orders_loaded(sample_workspace, ORDERS)


def test_pages_name_the_missing_tables_instead_of_failing(revenue_only):
    at = open_page()
    assert any("Support and infra costs not measured" in c.value for c in at.caption)   # beside the findings
    at.switch_page("pages/5_Cost_to_serve.py").run()
    infos = " ".join(i.value for i in at.info)
    assert "needs the **tickets** table" in infos and "needs the **events** table" in infos
    at.switch_page("pages/4_Unit_economics.py").run()
    assert not at.exception
    assert "needs the **spend** table" in " ".join(i.value for i in at.info)
    at.switch_page("pages/3_Cohorts.py").run()
    assert not at.exception
    assert "needs the **events** table" in " ".join(i.value for i in at.info)
    # one pair of brackets at most, and no claim that behaviour or health need events (they do without)
    assert "needs the **events** table, which is not loaded. It brings product usage: behaviour and health by " \
           "usage" in " ".join(i.value for i in at.info)
    assert any("first purchase" in c.value and "buying in the period" in c.value for c in at.caption)
    for page in ("pages/2_Segments.py", "pages/6_Transitions.py", "pages/7_Risk_and_opportunities.py"):
        at.switch_page(page).run()
        assert not at.exception, page


@pytest.fixture
def cleared(sample_workspace):
    ws = Workspace(sample_workspace)
    ws.clear()
    yield ws
    load_sample(ws)


def test_an_empty_workspace_points_every_page_to_the_data_page(cleared):
    at = open_page()
    assert any("workspace is empty" in i.value for i in at.info)
    for page in ("pages/2_Segments.py", "pages/4_Unit_economics.py", "pages/7_Risk_and_opportunities.py"):
        at.switch_page(page).run()
        assert not at.exception, page
        assert any("workspace is empty" in i.value for i in at.info), page
    at.switch_page("pages/1_Data.py").run()
    assert not at.exception and any("empty" in i.value for i in at.info)


def test_unit_economics_without_spend_data_draws_what_can_be_measured_and_no_empty_cac_charts(
        orders_with_a_churn):
    at = open_page("pages/4_Unit_economics.py")
    titles = figure_titles(at)
    assert titles[:2] == ["Net LTV per customer by Value tier (annual revenue)",
                          "Contribution per customer-month by Value tier (annual revenue)"]
    assert titles[2].endswith("from lifetime revenue to net LTV (CAC needs spend data)")
    assert not any("payback" in t.lower() or "quadrant" in t.lower() for t in titles)
    cards = " ".join(m.value for m in at.markdown)
    assert "Net LTV **" in cards and "Net LTV:CAC **n/a**" not in cards
    # No tickets or events: support and infra are said to be unmeasured, and not drawn as costs of 0.
    assert any(c.value.startswith("Support and infra costs not measured") for c in at.caption)
    waterfall = next(f for f in figures(at) if "from lifetime revenue" in f["layout"]["title"]["text"])
    assert list(waterfall["data"][0]["x"]) == ["Revenue over lifetime", "Cost of goods", "Onboarding", "Net LTV"]


def test_segments_page_of_an_order_export_says_revenue_and_has_no_blank_nps_column(revenue_only):
    at = open_page("pages/2_Segments.py")
    assert not at.exception
    assert figure_titles(at)[0] == "Customers and revenue by segment: Value tier (annual revenue)"
    metrics = at.dataframe[0].value
    assert "nps" not in metrics.columns and "mrr" in metrics.columns
    # order revenue's month-on-month increases alone would read like growth (833% for Online Retail's Dormant)
    assert "expansion_rate" not in metrics.columns
    # Revenue by segment is February's (the last complete month), as on Unit economics: A $100 + C $30;
    # not the customers' 12-month averages (their value tier's basis).
    assert metrics["mrr"].sum() == 130
    assert not any("NPS" in c.value for c in at.caption)
    # The value tier reads annual order revenue: its edges and help say so, not ARR / MRR.
    assert [n.label for n in at.number_input][:1] == ["SMB from (annual revenue)"]   # no currency stated
    assert any("Tiers by annual revenue" in c.value for c in at.caption)
    # Ten weeks of orders: no month has the 90 days of data before it that churn by inactivity needs.
    not_yet = "Churn is not measured yet: on order data a month counts once 90 days of data came before it"
    assert not_yet in " ".join(c.value for c in at.caption)
    at.switch_page("pages/4_Unit_economics.py").run()
    assert not at.exception and not_yet in " ".join(i.value for i in at.info)
    # Until then nothing is spread over a lifetime: no net LTV chart (all n/a) and no waterfall.
    titles = figure_titles(at)
    assert not any(t.startswith("Net LTV per customer") or "from lifetime revenue" in t for t in titles), titles
    # Custom rules: the example on events matches nobody without events, and the page says why and which
    # columns a rule can use.
    at.switch_page("pages/2_Segments.py").run()
    at.selectbox(key="w_scheme").set_value("custom").run()
    assert not at.exception
    captions = " ".join(c.value for c in at.caption)
    assert "No customer is labelled **Engaged power users**" in captions and "without product events" in captions
    assert "A rule can use:" in captions and "`health_score`" in captions and "`recency_days`" in captions
    # the churn model's probability, which the Risk page suggests; no cross scheme's name, which is no column
    assert "`churn_probability`" in captions and "+" not in captions.split("A rule can use:")[1].split(".")[0]


def test_on_billing_alone_behaviour_and_rfm_say_what_their_activity_is(crm_snapshot):
    at = open_page("pages/2_Segments.py")
    at.selectbox(key="w_scheme").set_value("behavior").run()
    assert not at.exception
    assert any("Dormant means no payment for 30 days: churned" in i.value for i in at.info)
    # and the thresholds say the same: ranked by paying months (they read "by active days")
    assert [s.label for s in at.slider][:2] == ["Power users: top % by paying months",
                                                "Light users: bottom % by paying months"]
    assert "Dormant: no payment for (days)" in [n.label for n in at.number_input]
    counts = dict(zip(*(at.dataframe[0].value[c] for c in ("segment", "customers"))))
    assert counts.get("Dormant", 0) < sum(counts.values()) / 2   # paying subscribers are not dormant
    at.selectbox(key="w_scheme").set_value("rfm_segment").run()
    assert any("recency only tells paying from churned customers" in i.value for i in at.info)
    # Health: the inputs a billing export lacks (usage trend, support, NPS) have their weights disabled.
    at.selectbox(key="w_scheme").set_value("health_band").run()
    assert not at.exception
    weights = {s.label: s for s in at.slider if s.label in ("Usage", "Recency", "Usage trend", "Support load", "NPS")}
    assert [k for k, s in weights.items() if s.disabled] == ["Usage trend", "Support load", "NPS"]
    assert any("No data for Usage trend, Support load, NPS" in c.value for c in at.caption)


def test_an_order_export_loaded_with_a_currency_shows_its_symbol_and_without_one_names_none(sample_workspace):
    """A revenue file without a currency column: the currency chosen on the Data page is stored with the data
    and every amount shows its symbol; without one, no page claims dollars (the value-tier sliders and the
    assumptions name no currency, as the tiles show none)."""
    ws = Workspace(sample_workspace)
    try:
        at = open_page("pages/1_Data.py")
        at.file_uploader(key="uploads").set_value(("orders.csv", ORDERS, "text/csv")).run()
        at.selectbox(key="load_currency").set_value("GBP").run()
        next(b for b in at.button if b.label == "Load into the workspace").click().run()
        assert not at.exception
        assert any("**Currency:** GBP" in m.value for m in at.markdown)   # the workspace says what it holds
        at.switch_page("app.py").run()
        assert not at.exception
        revenue = next(m for m in at.metric if m.label == "Monthly revenue")
        assert revenue.value.startswith("£"), revenue.value
        rules = " ".join(c.value for c in open_page("pages/4_Unit_economics.py").caption
                         if "contribution per customer-month" in c.value)   # the verdict cards' rules
        assert "£" in rules and "$" not in rules, rules

        load(ws, [Upload("orders.csv", ORDERS)], LoadOptions())   # no currency stated
        at = open_page("pages/2_Segments.py")
        labels = " ".join(s.label for s in at.number_input) + " ".join(s.label for s in at.slider)
        assert "annual revenue" in labels and "$" not in labels
        assert "$" not in " ".join(c.value for c in at.caption if "Assumptions" in c.value)
        at = open_page("pages/4_Unit_economics.py")
        assert not at.exception
        rules = " ".join(c.value for c in at.caption if "contribution per customer-month" in c.value)
        assert rules and "$" not in rules, rules
    finally:
        load_sample(ws)


def test_a_workbook_with_a_sheet_per_table_is_listed_sheet_by_sheet_and_loads_them_all(sample_workspace):
    """A founder's one workbook (customers, invoices, tickets): each sheet is recognised and mapped as a file
    of its own, and a table chosen for one sheet applies to that sheet."""
    from tests.ingest.test_read import _company_workbook

    ws = Workspace(sample_workspace)
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    try:
        at = open_page("pages/1_Data.py")
        at.file_uploader(key="uploads").set_value(("company.xlsx", _company_workbook(orders_2025=True), xlsx)).run()
        assert not at.exception
        titles = [e.label for e in at.expander]
        for sheet, table in (("Customers", "customers"), ("Invoices", "revenue"), ("Tickets", "tickets")):
            assert f"**company.xlsx (sheet {sheet})** → {table}" in titles, titles
        assert any("Put their rows in one sheet" in str(v) for v in at.table[-1].value.iloc[:, 2])
        # the second orders sheet set to another table by hand: the rest loads
        at.selectbox(key="table::company.xlsx (sheet Orders 2025)").set_value("spend").run()
        assert not at.exception
        assert "**company.xlsx (sheet Orders 2025)** → spend" in [e.label for e in at.expander]
    finally:
        load_sample(ws)


def test_cohorts_of_an_order_export_say_the_first_cohort_may_hold_customers_older_than_the_data(revenue_only):
    """An order export cannot tell a customer who first bought in its first month from one who bought for
    years before it: the first cohort says so. The sample company's signup dates start with its data: no
    such note there (tests/app/test_pages.py)."""
    at = open_page("pages/3_Cohorts.py")
    assert not at.exception
    assert any("The first cohort, **2025-01**, starts with the data" in c.value for c in at.caption)


def test_cohorts_and_transitions_of_a_crm_snapshot_say_their_history_is_rebuilt(crm_snapshot):
    for page in ("pages/3_Cohorts.py", "pages/6_Transitions.py"):
        at = open_page(page)
        assert not at.exception
        note = next(i.value for i in at.info if "CRM snapshot taken 01 Nov 2026" in i.value)
        assert "rebuilt from each customer's tenure" in note
    at = open_page("pages/3_Cohorts.py")
    assert any("starts with the data" in c.value for c in at.caption)   # tenure is all it knows


def test_a_customers_column_chosen_on_the_segments_page_becomes_a_scheme_on_every_page(sample_workspace):
    """A CRM column such as a contract type (not one of industry, plan, channel, country): offered on the
    Segments page, saved with the definition, then in Segment by, with a segment per value."""
    ws = Workspace(sample_workspace)
    customers = b"customer_id,signup_date,contract,name\nA,2025-01-01,Monthly,Ann\nB,2025-01-05,Annual,Bob\n" \
                b"C,2025-02-01,Monthly,Cy\n"
    try:
        result = load(ws, [Upload("orders.csv", ORDERS), Upload("customers.csv", customers)], LoadOptions())
        assert result.ok, result.problems.text()
        at = open_page("pages/2_Segments.py")
        choice = at.multiselect(key="attribute_schemes")
        assert choice.options == ["contract"]   # the names are no segmentation
        choice.set_value(["contract"]).run()
        assert not at.exception
        assert "Contract" in at.selectbox(key="w_scheme").options   # its column name, as a scheme name
        from segmentation.definition import load_definition
        assert load_definition(at.session_state["p_definition_toml"]).firmographic.attributes == ("contract",)
        at.selectbox(key="w_scheme").set_value("contract").run()
        assert not at.exception
        counts = dict(zip(*(at.dataframe[0].value[c] for c in ("segment", "customers"))))
        assert counts == {"Monthly": 2, "Annual": 1}
        for page in ("pages/4_Unit_economics.py", "pages/6_Transitions.py", "app.py"):
            at.switch_page(page).run()
            assert not at.exception, page
    finally:
        load_sample(ws)


def _default_costs_note(at) -> list[str]:
    return [w.value for w in at.warning if "Costs are still the defaults" in w.value]


def test_on_uploaded_data_the_pages_say_the_costs_are_the_saas_defaults_until_they_are_kept(revenue_only):
    """An order export's verdicts rest on costs nobody set: the Overview, Unit economics and Cost to serve
    say so, naming only the costs that apply (no tickets, no events: no support or infra cost; nobody is
    onboarded on order data, where 1,500 per SMB customer made Online Retail's Self-serve
    "margin-draining"), until the user sets them or keeps them; kept, they are written into the definition
    and nothing else changes."""
    at = open_page()
    note = _default_costs_note(at)
    assert len(note) == 1 and "gross margin 80%; no onboarding cost." in note[0], note
    assert 'SMB = 0' in at.session_state["p_definition_toml"]    # the default definition for order data
    assert "ticket-minute" not in note[0] and "per event" not in note[0]
    assert "$" not in note[0]                                       # the export states no currency
    for page in ("pages/4_Unit_economics.py", "pages/5_Cost_to_serve.py"):
        at.switch_page(page).run()
        assert not at.exception and _default_costs_note(at), page
    at.switch_page("pages/4_Unit_economics.py").run()
    before = at.dataframe[0].value
    at.button(key="keep_default_costs").click().run()
    assert not at.exception and not _default_costs_note(at)
    assert "gross_margin = 0.8" in at.session_state["p_definition_toml"]
    assert at.session_state["p_definition_name"].endswith("(edited)")
    pd.testing.assert_frame_equal(at.dataframe[0].value, before)    # the same numbers, now the user's own
    at.switch_page("app.py").run()
    assert not at.exception and not _default_costs_note(at)


def test_the_sample_company_has_no_default_costs_note():
    """The defaults describe the sample company's costs: no note there."""
    at = open_page()
    assert not at.exception and not _default_costs_note(at)
    assert not _default_costs_note(open_page("pages/4_Unit_economics.py"))


# Orders from September 2024: on order data churn is measured once 90 days of data have passed, from
# December (economics.ledger.first_churn_month). B's only order (20 Sep) churns on 19 Dec; A buys monthly
# and C twice 69 days apart: 7 customer-months at risk (Dec: A, B, C; Jan, Feb: A, C) and 1 churn.
ORDERS_WITH_A_CHURN = b"""customer_id,date,amount
A,2024-09-10,50.00
A,2024-10-10,50.00
A,2024-11-10,50.00
A,2024-12-10,50.00
A,2025-01-10,50.00
A,2025-02-10,50.00
B,2024-09-20,80.00
C,2024-11-25,60.00
C,2025-02-02,70.00
A,2025-03-10,50.00
"""


@pytest.fixture
def orders_with_a_churn(sample_workspace):
    yield from _orders_loaded(sample_workspace, ORDERS_WITH_A_CHURN)


def test_a_small_segment_s_net_ltv_reads_as_its_interval_not_one_figure(orders_with_a_churn):
    """Two paying customers and one churn: the card gives net LTV over the churn interval (issue 4: an
    interval instead of a falsely precise figure), the table both ends beside the point figure."""

    at = open_page("pages/4_Unit_economics.py")
    assert not at.exception
    cards = [m.value for m in at.markdown if m.value.startswith("Net LTV **")]
    row = at.dataframe[0].value.set_index("segment").dropna(subset=["net_ltv_low"]).iloc[0]
    # February: A $50 + C $70 from 2 paying customers; churn 1 / 7; LTV = 60 x 80% x 7 months.
    assert (row["paying_customers"], row["mrr"], row["arpa"]) == (2, 120.0, 60.0)
    assert row["logo_churn"] == pytest.approx(1 / 7) and row["ltv"] == pytest.approx(336.0)
    assert "small sample (2 paying customers, 1 churn event)" in row["note"]
    # On order data the churn caption says what the inactivity rule does to churn by segment.
    assert "counts as churned 90 days after its last purchase" in " ".join(c.value for c in at.caption)
    at.switch_page("pages/2_Segments.py").run()
    captions = " ".join(c.value for c in at.caption)
    assert "counts as churned 90 days after its last purchase" in captions and "Dormant" in captions
    # Unit economics by a scheme that reads recency: why its recent buyers show no churn and a capped lifetime
    at.switch_page("pages/4_Unit_economics.py").run()
    assert not any("churns 90 days after its last purchase" in i.value for i in at.info)   # value tier
    at.selectbox(key="w_scheme").set_value("behavior").run()
    assert not at.exception
    assert any(i.value.startswith("On order data a customer churns 90 days after its last purchase, so at the "
                                  "start of its churn month it has not bought for 59 days or more") for i in at.info)
    assert row["net_ltv_low"] < row["net_ltv"] < row["net_ltv_high"]
    # Over the Wilson interval 2.57%-51.3% (1 churn in 7): 48 / 0.5131 = 93.54 to 48 / 0.02568 = 1,869.
    assert any(c.startswith("Net LTV **93.54 to 1,869** per customer") for c in cards), cards


def test_counts_of_one_read_in_the_singular(revenue_only):
    """Three customers, one of them on the first date: Transitions says "1 customer on ...", and "1 customer"
    over a single mover."""
    at = open_page("pages/6_Transitions.py")
    assert not at.exception
    captions = [c.value for c in at.caption]
    assert "1 customer on 11 Jan 2025 + 2 new - 0 churned = 3 on 21 Mar 2025." in captions, captions
    assert any(c.startswith("2 customers; ") for c in captions)      # (new) -> Self-serve
    at.selectbox(key="move_from").set_value("Not paying").run()      # A, paying nothing in Dec 2024
    assert not at.exception
    assert any(c.value.startswith("1 customer; Avg monthly revenue (12 mo), summed: ") for c in at.caption)
    assert not [c.value for c in at.caption if "1 customers" in c.value]
    # A combination's revenue is its customers' 12-month averages summed: the header says so.
    at.switch_page("pages/2_Segments.py").run()
    at.selectbox(key="cross_with").set_value("lifecycle").run()
    assert not at.exception
    crossed = next(d for d in at.dataframe if "Combination" in str(d.proto.columns))
    assert "Avg monthly revenue (12 mo), summed" in str(crossed.proto.columns)


def test_a_one_month_churn_window_reads_1_complete_month_on_cost_to_serve(crm_snapshot):
    at = open_page("pages/5_Cost_to_serve.py")   # a CRM snapshot's churn window is 1 month (its default)
    assert not at.exception
    assert any("over the last 1 complete month, from each customer's first paid month" in c.value
               for c in at.caption), [c.value for c in at.caption]


def test_on_order_data_the_upsell_tab_names_the_table_it_needs_instead_of_a_list_of_zeros(revenue_only):
    """Upsell readiness reads usage against the plan: an order export has no events, and its list scored
    every customer 0 under "call the top of the list first"."""
    at = open_page("pages/7_Risk_and_opportunities.py")
    at.session_state["risk_tab"] = "Upsell"   # what a click on the tab does (AppTest cannot click a tab)
    at.run()
    assert not at.exception
    assert any("Who is ready to upsell" in i.value and "needs the **events** table" in i.value for i in at.info)
    assert not any("Call the top of the list first" in c.value for c in at.caption)


def test_stated_goal_is_no_scheme_to_choose_when_nobody_stated_one(revenue_only):
    """An order export has no NPS goals nor a goal column: "Stated goal" offered one segment, Not stated,
    100%. The sample company's NPS answers state goals: it is offered there."""
    options = open_page("pages/2_Segments.py").selectbox(key="w_scheme").options
    assert "Stated goal" not in options and "Value tier (annual revenue)" in options, options
    load_sample(revenue_only)
    assert "Stated goal" in open_page("pages/2_Segments.py").selectbox(key="w_scheme").options


CUSTOMERS = b"""customer_id,signup_date,name,plan
A,2025-01-01,Acme,Team
B,2025-01-15,Bolt,Pro
C,2025-02-01,Cove,Team
"""


def test_a_load_says_which_stored_tables_it_would_replace_and_waits_for_a_yes(sample_workspace):
    """A load replaces the whole workspace: uploading only the revenue over a load that had a customers file
    dropped its names and plans (the plan, industry and channel schemes went with them), silently. The page
    now names what would be lost and loads only once the user agrees; the sample company is replaced
    without that question, and a file uploaded twice is refused in a sentence (it raised Streamlit's
    duplicate-key error)."""
    ws = Workspace(sample_workspace)
    try:
        assert load(ws, [Upload("orders.csv", ORDERS), Upload("customers.csv", CUSTOMERS)], LoadOptions()).ok
        at = open_page("pages/1_Data.py")
        at.file_uploader(key="uploads").set_value([("orders.csv", ORDERS, "text/csv"),
                                                   ("orders.csv", ORDERS, "text/csv")]).run()
        assert not at.exception
        assert [e.value for e in at.error] == ["1 file name appears twice: orders.csv. Remove the copy (the × beside "
                                               "it), or rename one of the files if both are needed, and upload again."]
        at.file_uploader(key="uploads").set_value(("orders.csv", ORDERS, "text/csv")).run()
        assert not at.exception
        warning = next(w.value for w in at.warning if w.value.startswith("Loading replaces the whole workspace"))
        assert "**customers** (3 rows), rebuilt from the revenue without its names, plans and other columns" in warning
        button = next(b for b in at.button if b.label == "Load into the workspace")
        assert button.disabled
        at.checkbox(key="replace_tables").check().run()
        assert not next(b for b in at.button if b.label == "Load into the workspace").disabled
        # Asked before the sample company replaces someone's exports, as before clearing.
        assert any(b.label == "Yes, load the sample" for b in at.button)
    finally:
        load_sample(ws)
