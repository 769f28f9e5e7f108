"""Features on tiny hand-made tables, computed by hand (see conftest.py for the story of A, B, C, Z)."""
from __future__ import annotations

import datetime as dt
import math

import ibis
import numpy as np
import pandas as pd
import pytest

from segmentation.features import (FeatureParams, current_customers, customer_features, customer_status,
                                   feature_params, without_activity)
from segmentation.definition import load_definition

from .conftest import D, tiny_frames

NAN = np.nan


def test_features_match_the_hand_computed_values(tiny_tables):
    f = customer_features(tiny_tables, D, FeatureParams(key_event="report_export", support_cost_per_minute=2.0))
    got = f[["customer_id", "tenure_days", "paying", "churned", "mrr", "arr", "mrr_3m_ago", "total_revenue",
             "recency_days", "frequency", "monetary", "events_30d", "events_prev_30d", "active_days_30d",
             "features_used_30d", "active_users_30d", "usage_trend", "days_to_key_event", "tickets_90d",
             "support_minutes_90d", "support_cost_90d", "nps_latest", "seat_pct_of_limit"]]
    expected = pd.DataFrame({
        "customer_id": ["A", "B", "C"],                      # Z signs up on D: excluded
        # D - signup: 2026-01-15 -> 290 days; 2025-06-01 -> 518; 2026-10-20 -> 12
        "tenure_days": [290.0, 518.0, 12.0],
        "paying": [True, False, False],
        # B paid until Aug 2026, nothing in Oct (the month of D - 1) -> churned
        "churned": [False, True, False],
        "mrr": [500.0, 0.0, 0.0],                           # ledger of Oct 2026; A's Nov row is not before D
        "arr": [6000.0, 0.0, 0.0],
        "mrr_3m_ago": [500.0, 100.0, 0.0],                  # July 2026
        "total_revenue": [5000.0, 1500.0, 0.0],             # A 10 x 500; B 15 months x 100
        # last event: A 2026-10-31 -> 1 day; B 2026-08-20 -> 73 days; C only ON D -> never active
        "recency_days": [1.0, 73.0, NAN],
        # distinct event days: A Oct 31, Oct 2, Oct 1, Feb 1 -> 4; B Aug 19, 20 -> 2
        "frequency": [4.0, 2.0, 0.0],
        "monetary": [5000.0, 1500.0, 0.0],                  # window "all": all net revenue before D
        # [2026-10-02, D): A has Oct 31 x2 and Oct 2 -> 3; [2026-09-02, 2026-10-02): Oct 1 -> 1
        "events_30d": [3.0, 0.0, 0.0],
        "events_prev_30d": [1.0, 0.0, 0.0],
        "active_days_30d": [2.0, 0.0, 0.0],
        "features_used_30d": [2.0, 0.0, 0.0],               # dashboard_view, api_call
        "active_users_30d": [2.0, 0.0, 0.0],                # u1, u2
        "usage_trend": [0.5, NAN, NAN],                     # (3 - 1) / (3 + 1)
        "days_to_key_event": [17.0, NAN, NAN],              # report_export 2026-02-01 - 2026-01-15
        # [2026-08-03, D): A's Oct 30 ticket (30 min; Aug 2 is out); B's Aug 3 00:00 (20 min) is in
        "tickets_90d": [1.0, 1.0, 0.0],
        "support_minutes_90d": [30.0, 20.0, 0.0],
        "support_cost_90d": [60.0, 40.0, 0.0],              # x $2.00 a minute
        "nps_latest": [9.0, NAN, NAN],                      # A's latest (Sep); B answered ON D: excluded
        "seat_pct_of_limit": [20.0, NAN, NAN],              # 2 users / 10 seats
    })
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert f.loc[0, "stated_goal"] == "Board-ready metrics"
    assert f["cohort"].tolist() == [pd.Timestamp("2026-01-01"), pd.Timestamp("2025-06-01"), pd.Timestamp("2026-10-01")]
    # every customers attribute is carried
    assert {"name", "plan", "industry", "channel", "country", "employees", "seat_limit", "usage_limit"} <= set(f.columns)


def test_an_event_on_the_as_of_date_is_excluded_and_one_just_before_is_included(tiny_tables):
    on_d = customer_features(tiny_tables, D, FeatureParams())
    assert on_d.set_index("customer_id").loc["C", "events_30d"] == 0
    next_day = customer_features(tiny_tables, D + dt.timedelta(days=1), FeatureParams())
    assert next_day.set_index("customer_id").loc["C", "events_30d"] == 1
    assert next_day.set_index("customer_id").loc["C", "recency_days"] == 1


def test_lookback_window_limits_frequency_and_monetary(tiny_tables):
    d = load_definition("[features]\nlookback_days = 45")
    f = customer_features(tiny_tables, D, feature_params(d)).set_index("customer_id")
    # window [2026-09-17, D): A's event days Oct 31, Oct 2, Oct 1 -> 3; B none
    assert f.loc["A", "frequency"] == 3 and f.loc["B", "frequency"] == 0
    # ledger months from September 2026 (the window's first month): A Sep + Oct = 1000
    assert f.loc["A", "monetary"] == 1000.0 and f.loc["B", "monetary"] == 0.0


def test_missing_optional_tables_give_missing_features(tiny_tables):
    only = {k: tiny_tables[k] for k in ("customers", "ledger")}
    f = customer_features(only, D, FeatureParams()).set_index("customer_id")
    assert f["events_30d"].isna().all() and f["tickets_90d"].isna().all() and f["nps_latest"].isna().all()
    # RFM falls back to the days of paying ledger months: A paid in Oct 2026, active until 31 Oct -> 1 day
    # (not 31: a subscriber paying this month is not dormant), 10 months
    assert f.loc["A", "recency_days"] == 1 and f.loc["A", "frequency"] == 10
    assert f.loc["B", "recency_days"] == 62                 # last paid Aug 2026: 2026-08-31 -> D
    # Within a paying month, the day before D: as of 15 Oct, A (paying Oct) was active on 14 Oct.
    mid = customer_features(only, dt.date(2026, 10, 15), FeatureParams()).set_index("customer_id")
    assert mid.loc["A", "recency_days"] == 1


def test_transactional_model_uses_orders_and_the_inactivity_rule():
    frames = tiny_frames()
    orders = pd.DataFrame({
        "customer_id": ["A", "A", "A", "B"],
        "date": [dt.date(2026, 10, 30), dt.date(2026, 10, 30), dt.date(2026, 5, 3), dt.date(2026, 8, 2)],
        "amount_cents": [12_000, 3_000, 6_000, 5_000],
    })
    for col in ("period_start", "period_end", "start_date", "end_date"):
        orders[col] = pd.Series([None] * 4, dtype="datetime64[s]").dt.date
    orders["mrr_cents"] = pd.Series([None] * 4, dtype="Int64")
    orders["plan"], orders["currency"] = "x", "USD"
    ledger = pd.DataFrame({"customer_id": ["A", "A", "B"],
                           "month": [dt.date(2026, 10, 1), dt.date(2026, 5, 1), dt.date(2026, 8, 1)],
                           "revenue_cents": [15_000, 6_000, 5_000]})
    ledger["mrr_cents"] = ledger["revenue_cents"]
    ledger["refund_cents"] = 0
    con = ibis.duckdb.connect()
    tables = {"customers": con.create_table("customers", ibis.memtable(frames["customers"])),
              "revenue": con.create_table("revenue", ibis.memtable(orders)),
              "ledger": con.create_table("ledger", ibis.memtable(ledger))}
    f = customer_features(tables, D, FeatureParams(inactivity_days=90), "transactional").set_index("customer_id")
    # last purchase A 2026-10-30 (2 days), B 2026-08-02 (91 days): 2026-08-02 + 90 = 2026-10-31 < D -> churned
    assert f.loc["A", "recency_days"] == 2 and f.loc["B", "recency_days"] == 91
    assert not f.loc["A", "churned"] and f.loc["B", "churned"]
    # purchase days: A Oct 30 and May 3 -> 2; monetary A 120 + 30 + 60 = 210
    assert f.loc["A", "frequency"] == 2 and f.loc["A", "monetary"] == 210.0
    # monthly revenue = 12 months ending Oct 2026 / 12: A (150 + 60) / 12 = 17.5; B 50 / 12
    assert f.loc["A", "mrr"] == 17.5 and abs(f.loc["B", "mrr"] - 50 / 12) < 1e-9
    # At D = 31 Oct 2026 (inside October) the 12 complete months end with September: A's October orders
    # (dated before D, but October is not complete) wait for the month to close; recency reads them.
    late = customer_features(tables, dt.date(2026, 10, 31), FeatureParams(inactivity_days=90),
                             "transactional").set_index("customer_id")
    assert late.loc["A", "mrr"] == 5.0 and late.loc["A", "recency_days"] == 1
    # Without the activity tables the order-based churn and revenue stand (schemes.REVENUE_ONLY_SCHEMES).
    tables["events"] = ibis.memtable(frames["events"])
    lean = customer_features(without_activity(tables), D, FeatureParams(inactivity_days=90), "transactional")
    lean = lean.set_index("customer_id")
    for col in ("mrr", "arr", "churned", "tenure_days", "paying"):
        pd.testing.assert_series_equal(lean[col], f[col])
    # B paid this year (12-month revenue > 0) but the inactivity rule churned it: not a current customer.
    assert f.loc["B", "paying"] and current_customers(f.reset_index())["customer_id"].tolist() == ["A"]
    # ... and its status says so: churned, not paying (C has no order: never paid).
    assert customer_status(f).to_dict() == {"A": "Paying", "B": "Churned", "C": "Never paid"}
    with pytest.raises(ValueError, match="churned"):
        current_customers(f.reset_index().drop(columns="churned"))
    # A day whose orders net to zero or less is no purchase day: B's refund of its Aug 2 order that very day
    # leaves it without purchases (no recency, frequency 0, net revenue 0); A's May 3 order stands.
    refund = orders.iloc[[3]].assign(amount_cents=-5_000)
    tables = {**without_activity(tables), "revenue": ibis.memtable(pd.concat([orders, refund], ignore_index=True))}
    netted = customer_features(tables, D, FeatureParams(inactivity_days=90), "transactional").set_index("customer_id")
    assert math.isnan(netted.loc["B", "recency_days"]) and netted.loc["B", "frequency"] == 0
    assert netted.loc["B", "monetary"] == 0.0 and netted.loc["A", "frequency"] == 2


def test_inside_a_month_the_ledger_columns_read_the_last_complete_month(tiny_tables):
    """DEFINITIONS.md "Months": a month still running at D is not complete. An export taken on 17 October
    lacks the renewals of the 18th to the 31st: reading October as "now" called them churned (a billing
    export of the sample company taken so put 479 paying customers and a fifth of MRR in Not paying). At
    D = 17 Oct 2026 the columns read September; A's October row (revenue not all in at D) is left out."""
    mid = dt.date(2026, 10, 17)
    f = customer_features(tiny_tables, mid, FeatureParams()).set_index("customer_id")
    assert (f.loc["A", "mrr"], f.loc["A", "mrr_3m_ago"], f.loc["A", "total_revenue"]) == (500.0, 500.0, 4500.0)
    assert f.loc["A", "paying"] and not f.loc["A", "churned"]            # Sep paid: paying at D
    assert f.loc["A", "first_paid_month"] == pd.Timestamp("2026-01-01")
    assert f.loc["B", "churned"] and f.loc["B", "mrr"] == 0.0            # last paid Aug: churned by Sep
    # Statuses at D (DEFINITIONS.md "Churn"); C signs up after D.
    assert customer_status(f).to_dict() == {"A": "Paying", "B": "Churned"}
    assert list(customer_status(f).cat.categories) == ["Paying", "Never paid", "Churned"]
    # Without events, a customer paying in the last complete month is active through D - 1 (not dormant
    # since 30 September); B's last paying day is 31 August: 47 days.
    lean = customer_features(without_activity(tiny_tables), mid, FeatureParams()).set_index("customer_id")
    assert (lean.loc["A", "recency_days"], lean.loc["B", "recency_days"]) == (1.0, 47.0)
    assert lean.loc["A", "frequency"] == 9.0                             # paying months Jan..Sep
    # On the first of a month the month of D - 1 is complete and read whole (as before).
    whole = customer_features(tiny_tables, dt.date(2026, 10, 1), FeatureParams()).set_index("customer_id")
    assert whole.loc["A", "total_revenue"] == 4500.0 and whole.loc["A", "mrr_3m_ago"] == 500.0


def test_query_results_added_by_position_equal_a_left_merge_on_customer_id():
    # Per-customer query results added to the customers frame through the engine's join (features._Rows):
    # empty, partial (an unknown id, missing values), complete in another order, and for a subset of the
    # customers; each equals DataFrame.merge(how="left"), dtypes included.
    from segmentation.features import _Rows, fetch

    base = pd.DataFrame({"customer_id": ["a", "b", "c"], "x": [1, 2, 3]})
    parts = [
        pd.DataFrame({"customer_id": pd.Series([], dtype="str"), "n": pd.Series([], dtype="int64"),
                      "t": pd.Series([], dtype="datetime64[us]")}),
        pd.DataFrame({"customer_id": ["c", "z"], "n": [5, 6], "b": [True, None],
                      "s": pd.Series(["q", None], dtype="str"), "t": pd.to_datetime(["2026-01-01", None])}),
        pd.DataFrame({"customer_id": ["c", "a", "b"], "n": [5, 6, 7], "f": [True, False, True]}),
    ]
    rows = _Rows(base["customer_id"])
    subset = rows.at(np.array([True, False, True]))
    for part in parts:
        expr = ibis.memtable(part)
        # joined by the engine in the query, or (join=False) fetched, then joined in a second query: alike
        for got in (rows.add(base, expr), rows.add(base, rows.positioned(expr, join=False))):
            pd.testing.assert_frame_equal(got, base.merge(fetch(expr), on="customer_id", how="left"))
        some = base.iloc[[0, 2]].reset_index(drop=True)
        for got in (subset.add(some, expr), subset.add(some, subset.positioned(expr, join=False))):
            pd.testing.assert_frame_equal(got, some.merge(fetch(expr), on="customer_id", how="left"))
    # A customer id listed twice gets its result in both rows, as a merge gives it, both ways.
    twice = pd.DataFrame({"customer_id": ["a", "b", "a"], "x": [1, 2, 3]})
    expr = ibis.memtable(parts[2])
    both = _Rows(twice["customer_id"])
    for got in (both.add(twice, expr), both.add(twice, both.positioned(expr, join=False))):
        pd.testing.assert_frame_equal(got, twice.merge(fetch(expr), on="customer_id", how="left"))


def test_event_names_counted_by_bitmap_skip_missing_names_like_count_distinct(monkeypatch):
    import segmentation.features as features

    events = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "b", "c"],
        "timestamp": pd.to_datetime(["2026-05-20 10:00", "2026-05-20 11:00", "2026-05-25 00:00", "2026-05-28 00:00",
                                     "2026-05-30 00:00", "2026-05-30 08:00", "2026-03-01 00:00"]),
        "event": ["x", "x", None, "y", None, None, "z"]})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "signup_date": pd.to_datetime(["2026-01-01"] * 3)})
    tables = {"events": ibis.memtable(events), "customers": ibis.memtable(customers)}
    fast = features.customer_features(tables, dt.date(2026, 6, 1), features.FeatureParams())
    monkeypatch.setattr(features, "BITMAPS", False)
    portable = features.customer_features(tables, dt.date(2026, 6, 1), features.FeatureParams())
    pd.testing.assert_frame_equal(fast, portable)
    # a: x, y (the unnamed event is not a feature) on 3 days; b: no named event, 1 day; c: nothing in 30 days
    assert fast["features_used_30d"].tolist() == [2.0, 0.0, 0.0]
    assert fast["active_days_30d"].tolist() == [3.0, 1.0, 0.0]


def test_last_and_previous_30_days_count_only_their_own_window(monkeypatch):
    """Names, days and events of the 30 days before the last 30 never count in the last 30 days, with many
    event names (a bitstring over 70 names, not a 63-bit word), at one date and at several, as
    COUNT(DISTINCT) counts them."""
    import segmentation.features as features

    names = [f"e{i:02d}" for i in range(70)]
    # a: 65 names on 2 days in the last 30 days before Jun 1, 5 others (and 3 more days) only before that.
    last = [("a", f"2026-05-{10 + i % 2:02d} 10:00", n) for i, n in enumerate(names[:65])]
    earlier = [("a", f"2026-04-{10 + i:02d} 10:00", n) for i, n in enumerate(names[65:])]
    other = [("b", "2026-04-20 00:00", "e00"), ("b", "2026-05-31 23:59", None), ("c", "2026-05-02 00:00", "e01")]
    rows = last + earlier + other
    events = pd.DataFrame({"customer_id": [r[0] for r in rows], "timestamp": pd.to_datetime([r[1] for r in rows]),
                           "event": [r[2] for r in rows]})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "signup_date": pd.to_datetime(["2026-01-01"] * 3)})
    tables = {"events": ibis.memtable(events), "customers": ibis.memtable(customers)}
    dates = [dt.date(2026, 5, 1), dt.date(2026, 6, 1)]
    params = features.FeatureParams()
    fast = features.customer_features(tables, dates[1], params)
    several = dict(features.customer_features_at(tables, dates, params))
    monkeypatch.setattr(features, "BITMAPS", False)
    portable = {d: features.customer_features(tables, d, params) for d in dates}
    pd.testing.assert_frame_equal(fast, portable[dates[1]])
    for d in dates:
        pd.testing.assert_frame_equal(several[d], portable[d], obj=str(d))
    assert fast["features_used_30d"].tolist() == [65.0, 0.0, 1.0]
    assert fast["active_days_30d"].tolist() == [2.0, 1.0, 1.0]
    assert fast["events_30d"].tolist() == [65.0, 1.0, 1.0]
    assert fast["events_prev_30d"].tolist() == [5.0, 1.0, 0.0]
    # At May 1 the last 30 days are Apr 1 - Apr 30: a's 5 earlier names, on 5 days; b's one event.
    assert several[dates[0]]["features_used_30d"].tolist() == [5.0, 1.0, 0.0]
    assert several[dates[0]]["active_days_30d"].tolist() == [5.0, 1.0, 0.0]


@pytest.mark.parametrize("wide", [True, False])
def test_active_days_over_all_history_counted_by_blocks_equal_count_distinct(monkeypatch, wide):
    """On DuckDB the all-history active days are summed over blocks of 127 (or 63) days
    (features._history_expr): days on both sides of a block edge, far apart, before 2000 (negative day
    numbers) and twice on one day are each counted once, as COUNT(DISTINCT day) counts them; first and last
    event and first key event too."""
    import segmentation.features as features
    from segmentation.features import fetch

    # 2000-01-01 is day 0; day 63 (2000-03-04) opens a 63-day block, day 127 (2000-05-07) a 127-day one.
    stamps = ["1999-12-31 23:00", "2000-01-01 01:00", "2000-03-04 00:00", "2000-05-06 00:00", "2000-05-07 00:00",
              "2000-05-07 09:00", "2025-01-01 00:00", "2026-05-30 12:00"]
    events = pd.DataFrame({"customer_id": ["a"] * 8 + ["b"], "timestamp": pd.to_datetime(stamps + ["2026-05-30 00:00"]),
                           "event": ["x", "k", "x", "x", "k", "x", "x", "x", "x"]})
    params = features.FeatureParams(key_event="k")
    expr = features._history_expr(ibis.memtable(events), params, dt.date(2026, 6, 1), wide=wide)
    assert "_block" in ibis.to_sql(expr)  # the DuckDB path
    fast = fetch(expr).sort_values("customer_id", ignore_index=True)
    monkeypatch.setattr(features, "BITMAPS", False)
    portable = fetch(features._history_expr(ibis.memtable(events), params, dt.date(2026, 6, 1)))
    pd.testing.assert_frame_equal(fast, portable.sort_values("customer_id", ignore_index=True), check_dtype=False)
    assert fast["event_days_window"].tolist() == [7, 1]
    assert fast["first_key_event"].iloc[0] == pd.Timestamp("2000-01-01 01:00")
    assert fast["first_event"].iloc[0] == pd.Timestamp("1999-12-31 23:00")
    assert fast["last_event"].iloc[0] == pd.Timestamp("2026-05-30 12:00")


def test_history_falls_back_to_narrow_blocks_when_the_engine_runs_out_of_memory(tiny_tables, monkeypatch):
    """DuckDB does not spill the 127-day blocks' states: out of memory, the history is computed again with
    63-day blocks (features._history_result), with the same features; any other error is raised."""
    import segmentation.features as features

    class OutOfMemoryException(Exception):
        pass

    expected = customer_features(tiny_tables, D, FeatureParams())
    original = features._Rows.positioned
    seen = []

    def positioned(self, expr, join=True):
        wide = "FACTORIAL" in ibis.to_sql(expr).upper()
        seen.append(wide)
        if wide:
            raise OutOfMemoryException("Out of Memory Error: could not allocate block")
        return original(self, expr, join)

    monkeypatch.setattr(features._Rows, "positioned", positioned)
    pd.testing.assert_frame_equal(customer_features(tiny_tables, D, FeatureParams()), expected)
    assert True in seen and seen.count(True) == 1
    monkeypatch.setattr(features, "_history_expr", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("other")))
    with pytest.raises(RuntimeError, match="other"):
        customer_features(tiny_tables, D, FeatureParams())


def test_a_customer_whose_first_revenue_is_in_the_month_still_running_is_paying_not_never_paid():
    # Online Retail as of 10 Dec 2011: a first order on 3 December is no paying complete month yet (its MRR
    # reads November), but the customer pays: 40 such buyers read "Never paid". A customer whose orders were
    # all returned (net revenue 0) has never paid.
    f = pd.DataFrame({"customer_id": ["paying", "december", "returned", "trial", "gone"],
                      "paying": [True, False, False, False, True], "churned": [False, False, False, False, True],
                      "monetary": [300.0, 120.0, 0.0, np.nan, 80.0]})
    assert customer_status(f).tolist() == ["Paying", "Paying", "Never paid", "Never paid", "Churned"]
    # without a monetary column (a frame of the ledger columns alone) paying decides
    assert customer_status(f.drop(columns="monetary")).tolist()[:2] == ["Paying", "Never paid"]


def test_equal_support_minutes_tie_whatever_order_they_were_added_in():
    """0.1 + 0.2 minutes is 0.30000000000000004 as doubles: summed per customer it must still equal a single
    0.3-minute ticket, so both customers share one percentile rank in the health score."""
    from segmentation.definition import default_definition
    from segmentation.schemes import health_components

    tickets = pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                            "created_at": pd.to_datetime(["2026-05-10", "2026-05-11", "2026-05-12", "2026-05-12"]),
                            "minutes": [0.1, 0.2, 0.3, 5.0]})
    customers = pd.DataFrame({"customer_id": ["a", "b", "c"], "signup_date": pd.to_datetime(["2026-01-01"] * 3)})
    f = customer_features({"tickets": ibis.memtable(tickets), "customers": ibis.memtable(customers)},
                          dt.date(2026, 6, 1), FeatureParams())
    assert f["support_minutes_90d"].tolist() == [0.3, 0.3, 5.0]
    support = health_components(f, default_definition())["support"].tolist()
    # less is better: c is worse than both; a and b tie (share worse 1/3 plus half the 2/3 tied = 2/3)
    assert support[0] == support[1] == pytest.approx(100 * (1 / 3 + 1 / 3)) and support[2] == pytest.approx(100 / 6)


def _order_tables(orders: pd.DataFrame) -> dict:
    """The tiny customers with an order table (contract columns) and its monthly ledger."""
    frames = tiny_frames()
    orders = orders.copy()
    for col in ("period_start", "period_end", "start_date", "end_date"):
        orders[col] = pd.Series([None] * len(orders), dtype="datetime64[s]").dt.date
    orders["mrr_cents"] = pd.Series([None] * len(orders), dtype="Int64")
    orders["plan"], orders["currency"] = "x", "USD"
    ledger = (orders.assign(month=[d.replace(day=1) for d in orders["date"]])
              .groupby(["customer_id", "month"], as_index=False)["amount_cents"].sum()
              .rename(columns={"amount_cents": "revenue_cents"}))
    ledger["mrr_cents"] = ledger["revenue_cents"].clip(lower=0)
    ledger["refund_cents"] = 0
    con = ibis.duckdb.connect()
    return {"customers": con.create_table("customers", ibis.memtable(frames["customers"])),
            "revenue": con.create_table("revenue", ibis.memtable(orders)),
            "ledger": con.create_table("ledger", ibis.memtable(ledger))}


def test_an_order_on_d_is_excluded_from_the_order_features():
    """DEFINITIONS.md "Time": as of D uses data strictly before D. C's only order is dated D (2026-11-01): as of
    D it has no purchase (recency n/a, frequency 0, monetary 0); A's Oct 30 order gives recency 2, not 0."""
    orders = pd.DataFrame({"customer_id": ["A", "A", "C"],
                           "date": [dt.date(2026, 10, 30), D, D],
                           "amount_cents": [12_000, 4_000, 7_000]})
    f = customer_features(_order_tables(orders), D, FeatureParams(inactivity_days=90),
                          "transactional").set_index("customer_id")
    assert f.loc["A", "recency_days"] == 2 and f.loc["A", "frequency"] == 1 and f.loc["A", "monetary"] == 120.0
    assert math.isnan(f.loc["C", "recency_days"]) and f.loc["C", "frequency"] == 0
    assert f.loc["C", "monetary"] == 0.0


def test_a_customer_whose_last_purchase_is_exactly_n_days_before_d_is_not_yet_churned():
    """DEFINITIONS.md "Churn" (transactional): churned once N days pass without a purchase, dated at the last
    purchase + N days; as of D only dates before D are known (economics.mrr counts p + N < D). D = 2026-11-01,
    N = 90: B's last purchase 2026-08-03 + 90 = D: not churned yet (recency 90); A's 2026-08-02 + 90 =
    2026-10-31 < D: churned."""
    orders = pd.DataFrame({"customer_id": ["A", "B"], "date": [dt.date(2026, 8, 2), dt.date(2026, 8, 3)],
                           "amount_cents": [5_000, 5_000]})
    f = customer_features(_order_tables(orders), D, FeatureParams(inactivity_days=90),
                          "transactional").set_index("customer_id")
    assert (f.loc["A", "recency_days"], f.loc["B", "recency_days"]) == (91, 90)
    assert f.loc["A", "churned"] and not f.loc["B", "churned"]
