"""The real public exports in ../shared/data load through the same code, quirks and all."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ingest.load import LoadOptions, Upload, prepare

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"real exports not found at {DATA}")


@pytest.fixture(scope="module")
def retail():
    return prepare([Upload.from_path(DATA / "online_retail.csv.gz")], LoadOptions(today=date(2026, 11, 26)))


@pytest.fixture(scope="module")
def telco():
    return prepare([Upload.from_path(DATA / "Telco-Customer-Churn.csv")],
                   LoadOptions(today=date(2026, 11, 26), snapshot_date=date(2026, 11, 1)))


def test_online_retail_loads_as_transactional_order_lines(retail):
    assert retail.ok, retail.problems.text()
    assert retail.recognised == {"online_retail.csv.gz": "revenue"}
    assert retail.meta["revenue_model"] == "transactional"
    revenue = retail.tables["revenue"]
    assert len(revenue) == 541_909 - 135_080  # lines with a CustomerID
    assert (revenue["amount_cents"] < 0).sum() >= 8_900  # cancellations stay as negative lines


def test_online_retail_float_ids_become_plain_ids_and_country_an_attribute(retail):
    customers = retail.tables["customers"].set_index("customer_id")
    assert "17850" in customers.index and "17850.0" not in customers.index
    assert customers.loc["12583", "country"] == "France"


def test_online_retail_warns_about_rows_without_a_customer_and_the_partial_last_month(retail):
    warnings = {p.column: p for p in retail.problems.items if p.severity == "warning"}
    assert warnings["CustomerID"].count == 135_080
    partial = next(p for p in retail.problems.items if "incomplete" in p.message)
    assert "December 2011" in partial.message and "November 2011" in partial.message
    assert retail.meta["last_complete_month"] == "2011-11"


def test_online_retail_ledger_matches_a_plain_sum_of_order_lines(retail):
    revenue = retail.tables["revenue"]
    assert int(retail.tables["ledger"]["revenue_cents"].sum()) == int(revenue["amount_cents"].sum())


def test_telco_loads_as_a_crm_snapshot_with_attributes(telco):
    assert telco.ok, telco.problems.text()
    assert telco.meta["revenue_shape"] == "snapshot" and telco.meta["revenue_model"] == "subscription"
    customers = telco.tables["customers"]
    assert len(customers) == 7_043
    assert {"contract", "payment_method", "senior_citizen", "total_charges"} <= set(customers.columns)
    # customers still paying on the snapshot: their October MRR is their MonthlyCharges
    ledger = telco.tables["ledger"]
    october = ledger[ledger["month"].astype(str) == "2026-10-01"]
    assert october["customer_id"].nunique() == 7_043 - 11 - 0  # all but the 11 with tenure 0 (none churned at 0)
    # the snapshot's month: those still active pay, the 1,869 churners do not (their churn month)
    november = ledger[ledger["month"].astype(str) == "2026-11-01"]
    assert november["customer_id"].nunique() == 7_043 - 1_869
    assert telco.meta["default_as_of"] == "2026-12-01"


def test_telco_blank_total_charges_are_a_warning_naming_the_rows(telco):
    blank = next(p for p in telco.problems.items if p.column == "TotalCharges")
    assert blank.severity == "warning" and blank.count == 11 and blank.rows[0] == 490


def test_telco_warns_that_a_snapshot_only_records_churn_in_its_own_month(telco):
    note = next(p for p in telco.problems.items if "records churn only" in p.message)
    assert note.severity == "warning" and "November 2026" in note.message and note.column == "Churn"
