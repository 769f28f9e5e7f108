"""Cohort retention: censoring, zero cells, the partial month, quarters, filters, activity and activation."""
from __future__ import annotations

from datetime import date

import ibis
import numpy as np
import pandas as pd
import pytest

from economics.cohorts import CohortParams, activation_cohorts, average_curve, cohort_retention
from economics.ledger import LedgerError

D = date
NAN = np.nan

# a: signs up Jan 3, pays $10 Jan, $5 Feb, nothing Mar, $20 Apr
# b: signs up Jan 20 on a trial, first pays Feb ($30), Mar ($30)
# c: signs up Mar 5, first pays Apr ($1)
LEDGER = pd.DataFrame({
    "customer_id": ["a", "a", "a", "b", "b", "c"],
    "month": [D(2024, 1, 1), D(2024, 2, 1), D(2024, 4, 1), D(2024, 2, 1), D(2024, 3, 1), D(2024, 4, 1)],
    "revenue_cents": [1000, 500, 2000, 3000, 3000, 100],
})
LEDGER["mrr_cents"] = LEDGER["revenue_cents"]
LEDGER["refund_cents"] = 0
CUSTOMERS = pd.DataFrame({"customer_id": ["a", "b", "c"],
                          "signup_date": [D(2024, 1, 3), D(2024, 1, 20), D(2024, 3, 5)]})
EVENTS = pd.DataFrame({"customer_id": ["a", "b", "c", "a"],
                       "timestamp": pd.to_datetime(["2024-01-05", "2024-03-01", "2024-03-06", "2024-05-02"]),
                       "event": ["invite", "invite", "invite", "invite"]})


def ledger():
    return ibis.memtable(LEDGER)


def customers():
    return ibis.memtable(CUSTOMERS)


def events():
    return ibis.memtable(EVENTS)


def cohort_frame(rows):
    return pd.DataFrame(rows, columns=["cohort", "period", "cohort_size", "active", "retention", "revenue",
                                       "revenue_retention", "gross_revenue_retention", "complete"]).assign(
        cohort=lambda f: pd.to_datetime(f["cohort"]).astype("datetime64[us]"))


def test_monthly_revenue_cohorts_match_the_hand_computed_table():
    # As of Apr 15: April is the partial last month (complete = False); cells after April are absent.
    # b's trial month does not count: b's cohort is its first paid month, February.
    actual = cohort_retention(ledger(), customers(), D(2024, 4, 15), CohortParams())
    expected = cohort_frame([
        ("2024-01-01", 0, 1, 1, 1.0, 10.0, 1.0, 1.0, True),
        ("2024-01-01", 1, 1, 1, 1.0, 5.0, 0.5, 0.5, True),
        ("2024-01-01", 2, 1, 0, 0.0, 0.0, 0.0, 0.0, True),     # zero cell inside the data: present
        ("2024-01-01", 3, 1, 1, 1.0, 20.0, 2.0, 1.0, False),   # a back at $20, capped at its $10
        ("2024-02-01", 0, 1, 1, 1.0, 30.0, 1.0, 1.0, True),
        ("2024-02-01", 1, 1, 1, 1.0, 30.0, 1.0, 1.0, True),
        ("2024-02-01", 2, 1, 0, 0.0, 0.0, 0.0, 0.0, False),
        ("2024-04-01", 0, 1, 1, 1.0, 1.0, 1.0, 1.0, False),    # c signed up in Mar, first paid in Apr
    ])
    pd.testing.assert_frame_equal(actual, expected)


def test_data_on_or_after_d_is_censored():
    # As of Mar 1: only Jan and Feb exist; April's revenue and the April cohort are invisible.
    actual = cohort_retention(ledger(), customers(), D(2024, 3, 1), CohortParams())
    assert list(zip(actual["cohort"].dt.strftime("%Y-%m"), actual["period"], actual["complete"])) == [
        ("2024-01", 0, True), ("2024-01", 1, True), ("2024-02", 0, True)]


def test_quarterly_cohorts_sum_revenue_over_whole_quarters_and_compare_it_at_a_full_quarters_rate():
    # Q1 cohort: a (first paid Jan) and b (Feb). Q1 revenue paid a 15 + b 60 = 75; Q2 (April only, partial): a 20.
    # Retention compares a full quarter's rate (cohorts module docstring): b's Q1 covers Feb and Mar, 2 months:
    # 60 x 3 / 2 = 90; a's 3 months: 15. Base 105. Q2 has one month of data: a 20 x 3 = 60.
    # net 60 / 105 = 0.5714 (the revenue paid, 20 / 75 = 0.27, read like a cliff); gross: a capped at its
    # Q1 rate 15 -> 15 / 105 = 0.1429.
    actual = cohort_retention(ledger(), customers(), D(2024, 5, 1), CohortParams(granularity="quarter"))
    expected = cohort_frame([
        ("2024-01-01", 0, 2, 2, 1.0, 75.0, 1.0, 1.0, True),
        ("2024-01-01", 1, 2, 1, 0.5, 20.0, 60 / 105, 15 / 105, False),
        ("2024-04-01", 0, 1, 1, 1.0, 1.0, 1.0, 1.0, False),
    ])
    pd.testing.assert_frame_equal(actual, expected)


def test_a_steady_subscriber_who_joined_mid_quarter_retains_100_percent_of_revenue_every_quarter():
    # $10 a month from Feb to Oct 2024, as of 15 Oct: revenue paid Q1 20 (Feb, Mar), Q2 30, Q3 30, Q4 10
    # (October so far); at a full quarter's rate every quarter is 30: 100%, the partial one included.
    steady = pd.DataFrame({"customer_id": "s", "month": [D(2024, m, 1) for m in range(2, 11)],
                           "revenue_cents": 1000, "refund_cents": 0})
    steady["mrr_cents"] = steady["revenue_cents"]
    signup = pd.DataFrame({"customer_id": ["s"], "signup_date": [D(2024, 2, 1)]})
    actual = cohort_retention(ibis.memtable(steady), ibis.memtable(signup), D(2024, 10, 15),
                              CohortParams(granularity="quarter"))
    assert actual["revenue"].tolist() == [20.0, 30.0, 30.0, 10.0]
    assert actual["revenue_retention"].tolist() == actual["gross_revenue_retention"].tolist() == [1.0] * 4
    assert actual["complete"].tolist() == [True, True, True, False]


def test_a_segment_filter_keeps_only_its_customers():
    actual = cohort_retention(ledger(), customers(), D(2024, 5, 1),
                              CohortParams(customers=pd.Series(["b"])))
    assert actual["cohort"].dt.strftime("%Y-%m").unique().tolist() == ["2024-02"]
    assert actual["active"].tolist() == [1, 1, 0]


def test_activity_cohorts_start_at_signup_and_count_events():
    # Jan cohort (a, b): events Jan a, Mar b -> active 1, 0, 1, 0 in Jan..Apr; Mar cohort (c): Mar event.
    # a's May event is after D and does not count.
    actual = cohort_retention(ledger(), customers(), D(2024, 5, 1), CohortParams(basis="activity"),
                              events=events())
    assert actual["active"].tolist() == [1, 0, 1, 0, 1, 0]
    assert actual["cohort_size"].tolist() == [2, 2, 2, 2, 1, 1]
    # the Mar cohort had no revenue in its month 0: revenue retention is undefined, not infinite
    assert actual["revenue_retention"].iloc[4:].isna().all()


def test_the_activity_basis_without_events_is_refused():
    with pytest.raises(LedgerError, match="events"):
        cohort_retention(ledger(), customers(), D(2024, 5, 1), CohortParams(basis="activity"))


def test_the_average_curve_is_weighted_by_cohort_size():
    table = cohort_frame([
        ("2024-01-01", 0, 10, 10, 1.0, 100.0, 1.0, 1.0, True),
        ("2024-01-01", 1, 10, 5, 0.5, 60.0, 0.6, 0.5, True),
        ("2024-02-01", 0, 30, 30, 1.0, 300.0, 1.0, 1.0, True),
        ("2024-02-01", 1, 30, 27, 0.9, 240.0, 0.8, 0.8, True),
        ("2024-03-01", 0, 5, 5, 1.0, 50.0, 1.0, 1.0, False),   # partial: left out
    ])
    curve = average_curve(table)
    assert curve["period"].tolist() == [0, 1]
    assert curve["customers"].tolist() == [40, 40]
    assert curve["retention"].iloc[1] == pytest.approx((5 + 27) / 40)                 # 0.8
    assert curve["revenue_retention"].iloc[1] == pytest.approx((0.6 * 10 + 0.8 * 30) / 40)   # 0.75
    assert curve["gross_revenue_retention"].iloc[1] == pytest.approx((0.5 * 10 + 0.8 * 30) / 40)


def test_activation_counts_the_event_within_n_days_of_signup():
    # within 30 days: a (Jan 3 -> Jan 5) yes, b (Jan 20 -> Mar 1, 41 days) no, c (Mar 5 -> Mar 6) yes.
    actual = activation_cohorts(customers(), events(), "invite", 30, D(2024, 3, 20))
    expected = pd.DataFrame({
        "cohort": pd.to_datetime(["2024-01-01", "2024-03-01"]).astype("datetime64[us]"),
        "cohort_size": [2, 1], "activated": [1, 1], "share": [0.5, 1.0],
        "complete": [True, False],      # c's 30 days run past D
    })
    pd.testing.assert_frame_equal(actual, expected)


def test_cohort_params_refuse_an_unknown_granularity():
    with pytest.raises(ValueError, match="granularity"):
        CohortParams(granularity="week")
