"""Cost to serve: per-ticket support cost rules, usage over the window, support burden by segment."""
from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from economics.assumptions import parse_assumptions
from economics.costs import (customer_usage, priced_usage, support_burden, unmeasured_costs, unmeasured_steps,
                             usage_scan, usage_window)

# As of 2024-05-01 with a 3-month window: Feb 1 to May 1 (exclusive).
TICKETS = pd.DataFrame({
    "customer_id": ["a", "a", "b", "c", "c"],
    "created_at": pd.to_datetime(["2024-03-02", "2024-04-10", "2024-04-11", "2024-04-20", "2024-01-05"]),
    "minutes": [10.0, None, 30.0, None, 5.0],
    "cost": [None, None, None, 12.5, None],
})
EVENTS = pd.DataFrame({"customer_id": ["a", "a", "b"],
                       "timestamp": pd.to_datetime(["2024-03-01", "2024-04-01", "2024-05-01"]),
                       "event": ["x", "x", "x"], "user_id": ["u1", "u2", "u3"]})


def test_usage_window_is_the_trailing_complete_months():
    assert usage_window(date(2024, 5, 1), 3) == (date(2024, 2, 1), date(2024, 5, 1))
    assert usage_window(date(2024, 5, 20), 3) == (date(2024, 2, 1), date(2024, 5, 1))


def test_support_cost_uses_ticket_cost_then_minutes_then_the_team_cost():
    a = parse_assumptions({"support_team_monthly_cost": 300.0, "support_cost_per_minute": 2.0})
    usage = customer_usage({"tickets": ibis.memtable(TICKETS), "events": ibis.memtable(EVENTS)},
                           date(2024, 5, 1), 3, a)
    expected = pd.DataFrame({
        "customer_id": ["a", "b", "c"],
        "tickets": [2, 1, 1],                  # c's January ticket is before the window
        "support_minutes": [10.0, 30.0, float("nan")],
        # a: 10 min x $2 = 20 + an April ticket without minutes: $300 / 3 April tickets = 100 -> 120
        # b: 30 min x $2 = 60; c: its own cost 12.5
        "support_cost": [120.0, 60.0, 12.5],
        "events": [2, 0, 0],                   # b's event on D itself is excluded
        "seats": [2.0, 0.0, 0.0],              # distinct users in the window
    })
    pd.testing.assert_frame_equal(usage, expected, check_dtype=False)


def test_usage_joins_tickets_events_and_seat_limits_over_every_customer_found_in_any():
    """The three parts (tickets, events, the customers' seat limits) are joined over every customer found
    in any of them, in id order: a customer with only a seat limit, or only tickets, keeps its row; seats
    are the distinct users, else the seat limit."""
    customers = pd.DataFrame({"customer_id": ["d", "a", "b"], "seat_limit": [7, 4, None]})
    usage = customer_usage({"tickets": ibis.memtable(TICKETS), "events": ibis.memtable(EVENTS),
                            "customers": ibis.memtable(customers)}, date(2024, 5, 1), 3, parse_assumptions({}))
    assert usage["customer_id"].tolist() == ["a", "b", "c", "d"]
    assert usage["tickets"].tolist() == [2, 1, 1, 0] and usage["events"].tolist() == [2, 0, 0, 0]
    assert usage["seats"].tolist() == [2.0, 0.0, 0.0, 7.0]   # a: 2 users (its limit of 4 unused); d: its limit


def test_the_scan_keeps_cost_parts_so_new_rates_need_no_rescan():
    scan = usage_scan({"tickets": ibis.memtable(TICKETS), "events": ibis.memtable(EVENTS)}, date(2024, 5, 1), 3)
    parts = scan.set_index("customer_id")[["own_cost", "priced_minutes", "team_share"]]
    # a: 10 priced minutes and 1/3 of April's team cost; b: 30 minutes; c: its own $12.50
    assert parts.loc["a"].tolist() == pytest.approx([0.0, 10.0, 1 / 3])
    assert parts.loc["b"].tolist() == [0.0, 30.0, 0.0] and parts.loc["c"].tolist() == [12.5, 0.0, 0.0]
    for per_minute, team in ((2.0, 300.0), (0.5, 900.0)):
        a = parse_assumptions({"support_team_monthly_cost": team, "support_cost_per_minute": per_minute})
        fresh = customer_usage({"tickets": ibis.memtable(TICKETS), "events": ibis.memtable(EVENTS)},
                               date(2024, 5, 1), 3, a)
        pd.testing.assert_frame_equal(priced_usage(scan, a), fresh)
    a = parse_assumptions({"support_team_monthly_cost": 900.0, "support_cost_per_minute": 0.5})
    assert priced_usage(scan, a).set_index("customer_id")["support_cost"].tolist() == [305.0, 15.0, 12.5]


def test_support_burden_shares_and_per_customer_month_rates():
    usage = pd.DataFrame({"customer_id": ["a", "b", "c"], "tickets": [2, 1, 1],
                          "support_minutes": [10.0, 30.0, None], "support_cost": [120.0, 60.0, 12.5]})
    at_d = pd.DataFrame({"customer_id": ["a", "b", "c", "d"],
                         "segment": ["SMB", "SMB", "Enterprise", "Enterprise"]})
    out = support_burden(usage, at_d, 3).set_index("segment")
    # SMB: 3 tickets, $180 over 2 customers x 3 months; Enterprise: 1 ticket, $12.5 over 2 x 3
    assert out.loc["SMB", "tickets"] == 3 and out.loc["SMB", "support_cost"] == 180.0
    assert out.loc["SMB", "ticket_share"] == pytest.approx(3 / 4)
    assert out.loc["SMB", "cost_share"] == pytest.approx(180 / 192.5)
    assert out.loc["SMB", "tickets_pcm"] == pytest.approx(3 / 6)
    assert out.loc["Enterprise", "cost_pcm"] == pytest.approx(12.5 / 6)
    assert out.loc["Enterprise", "support_minutes"] != out.loc["Enterprise", "support_minutes"]  # NaN: unknown


def test_support_burden_counts_a_young_customer_only_from_its_first_paid_month():
    usage = pd.DataFrame({"customer_id": ["a"], "tickets": [4], "support_minutes": [40.0],
                          "support_cost": [40.0]})
    at_d = pd.DataFrame({"customer_id": ["a"], "segment": ["SMB"]})
    acq = pd.DataFrame({"customer_id": ["a"], "first_paid_month": pd.to_datetime(["2024-04-01"])})
    out = support_burden(usage, at_d, 3, acquisition=acq, as_of=date(2024, 5, 1))
    assert out["cost_pcm"].tolist() == [40.0]   # one month (April) observed, not three


def test_costs_no_loaded_table_measures_are_named_with_what_they_do_to_the_numbers():
    assert unmeasured_costs(["revenue", "customers"]) == (
        "Support and infra costs not measured (no tickets or events table loaded): counted as 0, so contribution "
        "and net LTV read high by what they cost.")
    assert unmeasured_costs(["revenue", "events"]).startswith("Support cost not measured (no tickets table loaded)")
    assert unmeasured_costs(["revenue", "tickets", "events"]) == "" and unmeasured_steps(["tickets", "events"]) == {}
    assert unmeasured_steps(["tickets"]) == {"Infra": "events"}
