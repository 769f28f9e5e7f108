"""The report command on the real public exports in ../shared/data, its numbers checked against plain
pandas sums of the raw files (an independent computation, not the product's code)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from economics.__main__ import EXIT_OK, main

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
pytestmark = [pytest.mark.skipif(not DATA.is_dir(), reason=f"real exports not found at {DATA}"), pytest.mark.slow]


def _report(tmp_path_factory, source: str, name: str, *options: str) -> tuple[Path, str]:
    data = tmp_path_factory.mktemp("data")
    (data / name).symlink_to(DATA / source)
    out = data.parent / f"{data.name}_report"
    err = io.StringIO()
    code = main(["report", "--data", str(data), "--out", str(out), *options], err=err)
    assert code == EXIT_OK, err.getvalue()
    return out, err.getvalue()


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, encoding="utf-8-sig", dtype={"customer_id": "str"})


@pytest.fixture(scope="module")
def retail(tmp_path_factory):
    return _report(tmp_path_factory, "online_retail.csv.gz", "revenue.csv.gz")


@pytest.fixture(scope="module")
def telco(tmp_path_factory):
    return _report(tmp_path_factory, "Telco-Customer-Churn.csv", "revenue.csv", "--snapshot-date", "2026-11-01")


def test_online_retail_monthly_revenue_and_refunds_equal_plain_sums_of_the_order_lines(retail):
    out, err = retail
    lines = pd.read_csv(DATA / "online_retail.csv.gz", dtype={"CustomerID": str, "InvoiceNo": str})
    lines = lines.dropna(subset=["CustomerID"])   # the warned-about lines without a customer
    lines["month"] = pd.to_datetime(lines["InvoiceDate"]).dt.strftime("%Y-%m")
    lines["cents"] = (lines["Quantity"] * lines["UnitPrice"] * 100).round().astype("int64")
    net = lines.groupby(["CustomerID", "month"])["cents"].sum()
    # DEFINITIONS.md "Ledger": a customer's negative month counts as 0 revenue, the excess as refunds
    expected = pd.DataFrame({"ending_mrr": net.clip(lower=0).groupby("month").sum() / 100,
                             "refunds": -net.clip(upper=0).groupby("month").sum() / 100}).loc[:"2011-11"]
    movements = _read(out / "mrr_movements.csv").set_index("month")
    assert list(movements.index) == list(expected.index)   # December 2011 is partial: not a complete month
    pd.testing.assert_series_equal(movements["ending_mrr"], expected["ending_mrr"], check_names=False)
    pd.testing.assert_series_equal(movements["refunds"], expected["refunds"], check_names=False)
    assert "December 2011, is incomplete" in err
    about = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert (about["revenue_model"], about["as_of"], about["last_complete_month"]) == \
        ("transactional", "2011-12-10", "2011-11")
    customers = _read(out / "customers.csv")
    assert len(customers) == lines["CustomerID"].str.removesuffix(".0").nunique() == 4372


def test_online_retail_cohort_sizes_are_the_customers_by_month_of_first_positive_revenue(retail):
    out, _ = retail
    lines = pd.read_csv(DATA / "online_retail.csv.gz", dtype={"CustomerID": str})
    lines = lines.dropna(subset=["CustomerID"])
    lines["month"] = pd.to_datetime(lines["InvoiceDate"]).dt.strftime("%Y-%m")
    lines["cents"] = (lines["Quantity"] * lines["UnitPrice"] * 100).round().astype("int64")
    net = lines.groupby(["CustomerID", "month"])["cents"].sum()
    first = net[net > 0].reset_index().groupby("CustomerID")["month"].min()
    cohorts = _read(out / "cohort_retention.csv")
    sizes = cohorts[cohorts["period"] == 0].set_index("cohort")["cohort_size"]
    pd.testing.assert_series_equal(sizes, first.value_counts().sort_index(), check_names=False)
    assert cohorts.loc[cohorts["cohort"] == "2011-12", "complete"].eq(False).all()


def test_telco_snapshot_churn_and_mrr_equal_the_export_totals(telco):
    out, _ = telco
    raw = pd.read_csv(DATA / "Telco-Customer-Churn.csv")
    movements = _read(out / "mrr_movements.csv").set_index("month")
    # A snapshot is a subscription ending at the snapshot date for churned customers (DEFINITIONS.md
    # "Ledger"): October ends with everyone who had a month of tenure, November loses the churned.
    october, november = movements.loc["2026-10"], movements.loc["2026-11"]
    assert october["ending_mrr"] == pytest.approx(raw.loc[raw["tenure"] >= 1, "MonthlyCharges"].sum(), abs=0.005)
    assert november["churned_customers"] == (raw["Churn"] == "Yes").sum() == 1869
    assert november["churned"] == pytest.approx(raw.loc[raw["Churn"] == "Yes", "MonthlyCharges"].sum(), abs=0.005)
    assert november["new"] == pytest.approx(raw.loc[raw["tenure"] == 0, "MonthlyCharges"].sum(), abs=0.005)
    customers = _read(out / "customers.csv")
    assert len(customers) == 7043
    at_risk = _read(out / "at_risk.csv")
    assert at_risk["customer_id"].isin(raw["customerID"]).all() and (at_risk["mrr"] > 0).all()


def test_online_retail_at_risk_lists_only_customers_who_bought_within_the_inactivity_days(retail):
    out, _ = retail
    lines = pd.read_csv(DATA / "online_retail.csv.gz", dtype={"CustomerID": str})
    lines = lines.dropna(subset=["CustomerID"])
    lines = lines[lines["Quantity"] * lines["UnitPrice"] > 0]
    last = pd.to_datetime(lines["InvoiceDate"]).dt.normalize().groupby(lines["CustomerID"].str.removesuffix(".0")).max()
    # DEFINITIONS.md "Churn", transactional: churned once 90 days pass without a purchase (as of 2011-12-10).
    lost = last[last + pd.Timedelta(days=90) < pd.Timestamp("2011-12-10")].index
    at_risk = _read(out / "at_risk.csv")
    assert len(at_risk) > 100 and not at_risk["customer_id"].isin(lost).any()
    assert not at_risk["top_drivers"].str.contains("MRR").any()   # order revenue is never called MRR


def test_online_retail_recent_buyers_never_churn_in_their_month_as_the_unit_economics_page_says(retail):
    """economics.ledger.recency_churn_note: churn comes 90 days after the last purchase, so at the start of the
    churn month the customer has not bought for 59+ days and is Dormant by behaviour (30 days); Power, Active
    and Light, whose customers bought in the last 30 days, have no churn event by construction."""
    out, _ = retail
    econ = _read(out / "segment_economics.csv")
    behavior = econ[econ["scheme"] == "behavior"].set_index("segment")
    assert (behavior.loc[["Power", "Active", "Light"], "churn_events"] == 0).all()
    assert behavior.loc["Dormant", "churn_events"] > 0
