"""Invoices, subscriptions and snapshots expand into the monthly ledger, to the cent (DEFINITIONS.md, Revenue)."""
from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.ledger import build_ledger, months_covered
from ingest.load import LoadOptions, prepare
from tests.ingest.conftest import TODAY, csv_upload


def _ledger(upload, **options) -> pd.DataFrame:
    result = prepare([upload], LoadOptions(today=TODAY, **options))
    assert result.ok, result.problems.text()
    ledger = result.tables["ledger"]
    return pd.DataFrame({"customer_id": ledger["customer_id"].astype(str),
                         "month": ledger["month"].astype(str),
                         "revenue_cents": ledger["revenue_cents"].astype(int)})


def _expected(rows) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "month", "revenue_cents"])


def test_an_annual_invoice_spreads_over_12_months_with_leftover_cents_in_the_last():
    # $1,000.00 = 100,000 cents over 12 months: 8,333 x 11 = 91,663; the last month gets 8,337.
    upload = csv_upload("invoices.csv", """
        customer_id,date,amount,period_start,period_end
        A,2025-03-14,1000.00,2025-03-14,2026-03-14
    """)
    months = [f"{y}-{m:02d}-01" for y, m in [(2025, i) for i in range(3, 13)] + [(2026, 1), (2026, 2)]]
    expected = _expected([("A", m, 8333) for m in months[:-1]] + [("A", months[-1], 8337)])
    pd.testing.assert_frame_equal(_ledger(upload), expected)


def test_monthly_invoices_refunds_and_a_negative_month():
    # B pays 49.00 in Jan; in Feb 49.00 and a refund of 98.00: net -49.00, so MRR 0 and refund 49.00.
    upload = csv_upload("invoices.csv", """
        customer_id,date,amount,period_start,period_end
        B,2026-01-05,49.00,2026-01-05,2026-02-05
        B,2026-02-05,49.00,2026-02-05,2026-03-05
        B,2026-02-20,-98.00,,
    """)
    result = prepare([upload], LoadOptions(today=TODAY))
    ledger = result.tables["ledger"]
    assert list(ledger["month"].astype(str)) == ["2026-01-01", "2026-02-01"]
    assert list(ledger["revenue_cents"]) == [4900, -4900]
    assert list(ledger["mrr_cents"]) == [4900, 0]
    assert list(ledger["refund_cents"]) == [0, 4900]


def test_a_subscription_row_contributes_its_mrr_to_each_month_it_covers():
    # C: 2026-01-15 to 2026-04-15 (exclusive) = 3 whole months: Jan, Feb, Mar at 299.00.
    # D: open since 2026-09-01; the data ends with the load day 2026-11-26, so Sep, Oct and Nov (partial).
    upload = csv_upload("subscriptions.csv", """
        customer_id,start_date,end_date,mrr
        C,2026-01-15,2026-04-15,299.00
        D,2026-09-01,,1500.00
    """)
    expected = _expected([("C", "2026-01-01", 29900), ("C", "2026-02-01", 29900), ("C", "2026-03-01", 29900),
                          ("D", "2026-09-01", 150000), ("D", "2026-10-01", 150000), ("D", "2026-11-01", 150000)])
    pd.testing.assert_frame_equal(_ledger(upload), expected)


def test_a_stripe_subscription_export_priced_per_year_becomes_monthly_mrr():
    # 1,200.00 a year = 100.00 a month, from 2026-07-01 to 2026-10-01: Jul, Aug, Sep.
    upload = csv_upload("subscriptions.csv", """
        id,Customer ID,Plan,Interval,Amount,Created (UTC),Start (UTC),Ended At (UTC)
        sub_1,cus_9,Pro,year,1200.00,2026-06-20,2026-07-01,2026-10-01
    """)
    expected = _expected([("cus_9", "2026-07-01", 10000), ("cus_9", "2026-08-01", 10000),
                          ("cus_9", "2026-09-01", 10000)])
    pd.testing.assert_frame_equal(_ledger(upload), expected)


def test_a_crm_snapshot_becomes_subscriptions_ending_at_the_snapshot_date():
    # Snapshot on 2026-11-01. E: tenure 3, active: from 2026-08-01, still paying in the snapshot's month:
    # Aug, Sep, Oct, Nov at 50.00. F: tenure 2, churned: subscription 2026-09-01 to 2026-11-01: Sep, Oct at
    # 20.50 (so F churns in November). G: tenure 0, active: starts paying in November at 70.00.
    upload = csv_upload("crm.csv", """
        customerID,tenure,MonthlyCharges,Churn
        E,3,50.00,No
        F,2,20.50,Yes
        G,0,70.00,No
    """)
    expected = _expected([("E", "2026-08-01", 5000), ("E", "2026-09-01", 5000), ("E", "2026-10-01", 5000),
                          ("E", "2026-11-01", 5000), ("F", "2026-09-01", 2050), ("F", "2026-10-01", 2050),
                          ("G", "2026-11-01", 7000)])
    pd.testing.assert_frame_equal(_ledger(upload, snapshot_date=date(2026, 11, 1)), expected)
    result = prepare([upload], LoadOptions(today=TODAY, snapshot_date=date(2026, 11, 1)))
    revenue = result.tables["revenue"].set_index("customer_id")
    assert str(revenue.loc["F", "end_date"]) == "2026-11-01" and pd.isna(revenue.loc["E", "end_date"])


def test_order_lines_are_quantity_times_unit_price_with_cancellations_negative():
    # 6 x 2.55 = 15.30 and 3 x 1.10 = 3.30 in Dec; a cancellation of 2 x 2.55 = -5.10 in Dec too.
    upload = csv_upload("orders.csv", """
        InvoiceNo,StockCode,Quantity,InvoiceDate,UnitPrice,CustomerID
        536365,85123A,6,2010-12-01 08:26:00,2.55,17850.0
        536366,22633,3,2010-12-01 08:28:00,1.10,17850.0
        C536379,85123A,-2,2010-12-02 09:41:00,2.55,17850.0
    """)
    pd.testing.assert_frame_equal(_ledger(upload), _expected([("17850", "2010-12-01", 1530 + 330 - 510)]))


def test_months_covered_counts_whole_months_and_a_partial_remainder():
    start = pd.to_datetime(pd.Series(["2025-03-14", "2025-01-01", "2025-01-15", "2025-01-01", "2025-05-10"]))
    end = pd.to_datetime(pd.Series(["2025-04-14", "2025-12-31", "2025-03-01", "2026-01-01", "2025-05-10"]))
    assert list(months_covered(start, end)) == [1, 12, 2, 12, 0]


cents = st.integers(min_value=-10_000_000, max_value=10_000_000)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(cents, st.integers(0, 30), st.integers(1, 36)), min_size=1, max_size=12))
def test_spreading_invoices_never_creates_or_loses_a_cent(rows):
    starts = [pd.Timestamp("2024-01-01") + pd.Timedelta(days=d) for _, d, _ in rows]
    revenue = pd.DataFrame({
        "customer_id": ["X"] * len(rows),
        "date": starts,
        "period_start": starts,
        "period_end": [s + pd.DateOffset(months=n) for s, (_, _, n) in zip(starts, rows)],
        "start_date": pd.NaT, "end_date": pd.NaT,
        "amount_cents": pd.array([c for c, _, _ in rows], dtype="Int64"),
        "mrr_cents": pd.array([None] * len(rows), dtype="Int64"),
    })
    ledger = build_ledger(revenue, pd.Timestamp("2030-01-01"))
    assert int(ledger["revenue_cents"].sum()) == sum(c for c, _, _ in rows)
    assert (ledger["mrr_cents"] - ledger["refund_cents"] == ledger["revenue_cents"]).all()
