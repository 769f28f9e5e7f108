"""Tiny hand-made workspace tables for the segmentation tests (contract names and dtypes)."""
from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pytest

D = dt.date(2026, 11, 1)  # the as-of date of the hand-computed examples


def _date(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def tiny_frames() -> dict[str, pd.DataFrame]:
    """Three customers and one not yet signed up at D.

    A: signed up 2026-01-15, pays 500.00/month Jan..Oct 2026, busy user.
    B: signed up 2025-06-01, paid 100.00/month until Aug 2026 then churned; last event 2026-08-20.
    C: signed up 2026-10-20 (new), free, one event on D itself (excluded).
    Z: signs up on D (excluded: signup_date >= D).
    """
    customers = pd.DataFrame({
        "customer_id": ["A", "B", "C", "Z"],
        "signup_date": [_date("2026-01-15"), _date("2025-06-01"), _date("2026-10-20"), _date("2026-11-01")],
        "name": ["Acme", "Bolt", "Cato", "Zed"],
        "plan": ["Business", "Starter", None, "Team"],
        "industry": ["Software", "Retail", None, "Retail"],
        "channel": ["Outbound sales", "Organic", "Organic", "Organic"],
        "country": ["US", "DE", "US", "US"],
        "employees": [120.0, 8.0, None, 50.0],
        "seat_limit": [10.0, None, None, None],
        "usage_limit": [None, None, None, None],
    })
    customers["usage_limit"] = customers["usage_limit"].astype("float64")
    customers["signup_date"] = pd.to_datetime(customers["signup_date"]).dt.date
    a_months = pd.date_range("2026-01-01", "2026-10-01", freq="MS")
    b_months = pd.date_range("2025-06-01", "2026-08-01", freq="MS")
    ledger = pd.concat([
        pd.DataFrame({"customer_id": "A", "month": a_months, "revenue_cents": 50_000}),
        pd.DataFrame({"customer_id": "B", "month": b_months, "revenue_cents": 10_000}),
        # A's November row is after D and must not count.
        pd.DataFrame({"customer_id": ["A"], "month": [pd.Timestamp("2026-11-01")], "revenue_cents": [70_000]}),
    ], ignore_index=True)
    ledger["month"] = ledger["month"].dt.date
    ledger["revenue_cents"] = ledger["revenue_cents"].astype("int64")
    ledger["mrr_cents"] = ledger["revenue_cents"].clip(lower=0).astype("int64")
    ledger["refund_cents"] = (-ledger["revenue_cents"]).clip(lower=0).astype("int64")
    events = pd.DataFrame({
        "customer_id": ["A", "A", "A", "A", "A", "B", "B", "C"],
        "timestamp": pd.to_datetime([
            "2026-10-31 23:59:00",  # A: last 30 days (D - 1)
            "2026-10-31 09:00:00",  # A: same day, another event
            "2026-10-02 10:00:00",  # A: 2026-10-02 >= D - 30 = 2026-10-02: in the last 30 days
            "2026-10-01 10:00:00",  # A: previous 30 days [2026-09-02, 2026-10-02)
            "2026-02-01 10:00:00",  # A: first event (key event 'report_export')
            "2026-08-20 10:00:00",  # B
            "2026-08-19 10:00:00",  # B
            "2026-11-01 00:00:00",  # C: ON D -> excluded
        ]),
        "event": ["dashboard_view", "api_call", "api_call", "dashboard_view", "report_export",
                  "dashboard_view", "dashboard_view", "dashboard_view"],
        "user_id": ["u1", "u2", "u1", "u1", "u1", "u9", "u9", "u7"],
    })
    tickets = pd.DataFrame({
        "customer_id": ["A", "A", "B"],
        "created_at": pd.to_datetime(["2026-10-30 12:00", "2026-08-02 12:00", "2026-08-03 00:00"]),
        "minutes": [30.0, 45.0, 20.0],
        "cost": [float("nan")] * 3, "category": ["bug", "how-to", "billing"], "csat": [5.0, 4.0, 3.0],
    })
    # D - 90 days = 2026-08-03: A's 2026-08-02 ticket is outside; B's 2026-08-03 00:00 is inside.
    nps = pd.DataFrame({
        "customer_id": ["A", "A", "B"],
        "date": [_date("2026-03-01"), _date("2026-09-01"), _date("2026-11-01")],
        "score": [6, 9, 2],
        "comment": ["", "", ""], "goal": ["Replace spreadsheets", "Board-ready metrics", "Save time"],
    })
    nps["score"] = nps["score"].astype("int32")
    return {"customers": customers, "ledger": ledger, "events": events, "tickets": tickets, "nps": nps}


def ibis_tables(frames: dict[str, pd.DataFrame]) -> dict[str, ibis.Table]:
    con = ibis.duckdb.connect()
    # create_table(name, pandas_df) fails on ibis 12 + duckdb 2.0 (DROP VIEW of an unnamed view); a memtable works.
    return {name: con.create_table(name, ibis.memtable(frame)) for name, frame in frames.items()}


@pytest.fixture
def tiny_tables() -> dict[str, ibis.Table]:
    return ibis_tables(tiny_frames())
