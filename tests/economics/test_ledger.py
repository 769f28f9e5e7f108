"""The tables as known on an as-of date: revenue dated on or after it is left out, the ledger rebuilt."""
from __future__ import annotations

from datetime import date

import pandas as pd

from economics.cohorts import CohortParams, cohort_retention
from economics.ledger import late_revenue, tables_as_of
from economics.mrr import mrr_movements
from ingest.ledger import build_ledger
from ingest.load import _storage_types
from ingest.scan import memory_tables

D = date
AS_OF = D(2024, 3, 15)


def _revenue(rows: list[tuple]) -> pd.DataFrame:
    """(customer, date, dollars, period_start, period_end) invoices and (customer, start, None, mrr) subs."""
    out = []
    for cid, day, dollars, start, end in rows:
        invoice = dollars is not None
        out.append({"customer_id": cid, "date": pd.Timestamp(day), "amount_cents": dollars * 100 if invoice else None,
                    "period_start": pd.Timestamp(start) if invoice and start else pd.NaT,
                    "period_end": pd.Timestamp(end) if invoice and end else pd.NaT,
                    "start_date": pd.NaT if invoice else pd.Timestamp(day), "end_date": pd.NaT,
                    "mrr_cents": None if invoice else start * 100, "plan": None, "currency": None})
    frame = pd.DataFrame(out).astype({"customer_id": "string", "amount_cents": "Int64", "mrr_cents": "Int64",
                                      "plan": "string", "currency": "string"})
    for c in ("date", "period_start", "period_end", "start_date", "end_date"):
        frame[c] = frame[c].astype("datetime64[ns]")
    return frame


REVENUE = _revenue([
    # a pays monthly in advance on the 10th: its April invoice is dated after D.
    ("a", "2024-01-10", 100, "2024-01-10", "2024-02-10"),
    ("a", "2024-02-10", 100, "2024-02-10", "2024-03-10"),
    ("a", "2024-03-10", 100, "2024-03-10", "2024-04-10"),
    ("a", "2024-04-10", 100, "2024-04-10", "2024-05-10"),
    # b is billed in arrears on the 1st: February's invoice (dated March 1) is known on D, March's is not.
    ("b", "2024-03-01", 300, "2024-02-01", "2024-03-01"),
    ("b", "2024-04-01", 300, "2024-03-01", "2024-04-01"),
    # c paid February and was refunded in full on March 20, after D.
    ("c", "2024-02-05", 50, "2024-02-05", "2024-03-05"),
    ("c", "2024-03-20", -50, "2024-02-05", "2024-03-05"),
    # d subscribed on January 20 at $40 a month, still open: as of March 15 its March month has not begun.
    ("d", "2024-01-20", None, 40, None),
    # e's first order, without a service period, is dated the day after D.
    ("e", "2024-03-16", 70, None, None),
])


def _tables() -> dict:
    """As the store keeps them (ingest.load): dates as DuckDB DATE."""
    ledger = build_ledger(REVENUE, pd.Timestamp("2024-05-01"))
    return memory_tables({"revenue": _storage_types("revenue", REVENUE), "ledger": _storage_types("ledger", ledger)})


def test_the_ledger_as_of_a_date_holds_only_revenue_dated_before_it_as_hand_computed():
    known = tables_as_of(_tables(), AS_OF)
    got = known["ledger"].order_by(["customer_id", "month"]).execute()
    expected = pd.DataFrame({
        "customer_id": ["a", "a", "a", "b", "c", "d", "d"],
        "month": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 2, 1), D(2024, 2, 1), D(2024, 1, 1),
                  D(2024, 2, 1)],
        "revenue_cents": [10000, 10000, 10000, 30000, 5000, 4000, 4000],
    })
    pd.testing.assert_frame_equal(got[["customer_id", "month", "revenue_cents"]].astype({"customer_id": str}),
                                  expected.astype({"month": got["month"].dtype}))
    assert (got["mrr_cents"] == got["revenue_cents"]).all() and (got["refund_cents"] == 0).all()
    assert known["ledger"].schema() == _tables()["ledger"].schema()
    assert known["revenue"].count().execute() == 6   # 10 rows, 4 dated on or after D


def test_it_equals_the_stored_ledger_built_from_the_revenue_before_the_date():
    before = REVENUE[REVENUE["date"] < pd.Timestamp(AS_OF)]
    stored = build_ledger(before, pd.Timestamp(AS_OF))
    got = tables_as_of(_tables(), AS_OF)["ledger"].order_by(["customer_id", "month"]).execute()
    assert got["revenue_cents"].tolist() == stored["revenue_cents"].tolist()
    assert got["customer_id"].astype(str).tolist() == stored["customer_id"].astype(str).tolist()


def test_late_revenue_counts_rows_dated_on_or_after_the_date_and_those_for_earlier_service():
    # a's April invoice, b's March arrears invoice, c's refund, e's order; b's and c's pay for service before D.
    assert late_revenue(_tables()["revenue"], AS_OF) == (4, 2)
    assert late_revenue(_tables()["revenue"], D(2024, 5, 1)) == (0, 0)


def test_as_of_a_date_the_refund_and_the_arrears_invoice_dated_later_do_not_move_february():
    stored, known = _tables(), tables_as_of(_tables(), AS_OF)
    feb = {name: mrr_movements(t["ledger"], AS_OF, "subscription").set_index("month").loc["2024-02-01"]
           for name, t in (("stored", stored), ("known", known))}
    # Known on D: a 100 + b 300 + c 50 + d 40. The stored ledger already nets c's later refund out.
    assert feb["known"]["ending_mrr"] == 490.0
    assert feb["stored"]["ending_mrr"] == 440.0
    # Cohorts' partial month (March) counts a (paid March 10) but not d, whose March began after D.
    cohorts = cohort_retention(known["ledger"], None, AS_OF, CohortParams()).set_index(["cohort", "period"])
    assert cohorts.loc[("2024-01-01", 2), "active"] == 1
    assert not cohorts.loc[("2024-01-01", 2), "complete"]
