"""MRR movements, pooled churn, revenue churn, NRR / GRR and ARPA against hand-computed values."""
from __future__ import annotations

import math
from datetime import date

import ibis
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from economics.ledger import LedgerError, add_months, last_complete_month, month_span, months_between
from economics.mrr import arpa, logo_churn, mrr_movements, nrr_grr, revenue_churn

D = date


def ledger_table(rows: list[tuple[str, date, int]]) -> ibis.Table:
    """A contract ledger (integer cents) from (customer_id, month, net revenue cents) rows."""
    df = pd.DataFrame(rows, columns=["customer_id", "month", "revenue_cents"])
    df["revenue_cents"] = df["revenue_cents"].astype("int64")
    df["mrr_cents"] = df["revenue_cents"].clip(lower=0)
    df["refund_cents"] = (-df["revenue_cents"]).clip(lower=0)
    return ibis.memtable(df, schema={"customer_id": "string", "month": "date", "revenue_cents": "int64",
                                     "mrr_cents": "int64", "refund_cents": "int64"})


# a: $10 Jan, $20 Feb, nothing Mar, $5 Apr (expansion, churn, reactivation)
# b: $30 Jan, -$1 Feb (refund month: MRR 0, churn, $1 refund)
# c: $7 Feb, $7 Mar (new in Feb, churns in Apr)
TINY = [("a", D(2024, 1, 1), 1000), ("a", D(2024, 2, 1), 2000), ("a", D(2024, 4, 1), 500),
        ("b", D(2024, 1, 1), 3000), ("b", D(2024, 2, 1), -100),
        ("c", D(2024, 2, 1), 700), ("c", D(2024, 3, 1), 700)]


def test_month_helpers_follow_the_complete_month_rule():
    # D on the 1st: the month of D-1 is complete. D mid-month: the month of D-1 is partial.
    assert last_complete_month(D(2024, 5, 1)) == D(2024, 4, 1)
    assert last_complete_month(D(2024, 5, 15)) == D(2024, 4, 1)
    assert last_complete_month(D(2024, 1, 1)) == D(2023, 12, 1)
    assert add_months(D(2024, 11, 1), 3) == D(2025, 2, 1)
    assert months_between(D(2023, 12, 31), D(2024, 2, 1)) == 2
    assert month_span((D(2025, 12, 1), D(2026, 11, 1))) == "Dec 2025 – Nov 2026"
    assert month_span((D(2026, 11, 1), D(2026, 11, 1))) == "Nov 2026"    # a one-month window
    assert month_span((None, None)) == "no complete month" and month_span(None, "n/a") == "n/a"


def test_subscription_movements_match_the_hand_computed_table():
    actual = mrr_movements(ledger_table(TINY), D(2024, 5, 1), "subscription")
    expected = pd.DataFrame({
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]),
        "starting_mrr": [0.0, 40.0, 27.0, 7.0],
        "new": [40.0, 7.0, 0.0, 0.0],            # Jan a 10 + b 30; Feb c 7
        "expansion": [0.0, 10.0, 0.0, 0.0],      # a 10 -> 20
        "contraction": [0.0, 0.0, 0.0, 0.0],
        "churned": [0.0, 30.0, 20.0, 7.0],       # b in Feb (refund month), a in Mar, c in Apr
        "reactivation": [0.0, 0.0, 0.0, 5.0],    # a back at $5 in Apr
        "refunds": [0.0, 1.0, 0.0, 0.0],
        "ending_mrr": [40.0, 27.0, 7.0, 5.0],
        "quick_ratio": [math.nan, 17 / 30, 0.0, 0.0],  # Feb (7 + 10) / (0 + 30); Jan 0/0 = n/a
        "customers_start": [0, 2, 2, 1],
        "customers_end": [2, 2, 1, 1],
        "new_customers": [2, 1, 0, 0],
        "churned_customers": [0, 1, 1, 1],
        "reactivated_customers": [0, 0, 0, 1],
    })
    pd.testing.assert_frame_equal(actual, expected)


def test_the_partial_month_of_d_is_left_out():
    # D = 2024-04-15: April is partial, so the table stops at March.
    actual = mrr_movements(ledger_table(TINY), D(2024, 4, 15), "subscription")
    assert list(actual["month"].dt.strftime("%Y-%m")) == ["2024-01", "2024-02", "2024-03"]


def test_months_without_any_movement_are_present_with_zeros():
    rows = [("a", D(2024, 1, 1), 1000), ("a", D(2024, 2, 1), 1000), ("a", D(2024, 3, 1), 1000)]
    actual = mrr_movements(ledger_table(rows), D(2024, 4, 1), "subscription")
    assert list(actual["starting_mrr"]) == [0.0, 10.0, 10.0]
    assert list(actual["ending_mrr"]) == [10.0, 10.0, 10.0]
    assert actual["quick_ratio"].isna().tolist() == [True, True, True]


# Orders for the transactional model (N = 90 days):
# a buys Jan 5 ($10), Feb 10 ($20, 36 days later: same run), Jun 1 ($5, 112 days after Feb 10: reactivation)
#   -> churn of the first run dated Feb 10 + 90 = May 10; the Jun run is open at D = Aug 1 (Jun 1 + 90 = Aug 30)
# b buys Jan 2 ($30) only -> churn dated Jan 2 + 90 = Apr 1
ORDERS = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                       "date": [D(2024, 1, 5), D(2024, 2, 10), D(2024, 6, 1), D(2024, 1, 2)],
                       "amount_cents": [1000, 2000, 500, 3000]})
ORDER_LEDGER = [("a", D(2024, 1, 1), 1000), ("a", D(2024, 2, 1), 2000), ("a", D(2024, 6, 1), 500),
                ("b", D(2024, 1, 1), 3000)]


def test_transactional_movements_follow_the_inactivity_rule():
    revenue = ibis.memtable(ORDERS, schema={"customer_id": "string", "date": "date", "amount_cents": "int64"})
    actual = mrr_movements(ledger_table(ORDER_LEDGER), D(2024, 8, 1), "transactional", revenue=revenue,
                           inactivity_days=90)
    expected = pd.DataFrame({
        "month": pd.to_datetime([f"2024-0{m}-01" for m in range(1, 8)]),
        "starting_mrr": [0.0, 40.0, 20.0, 0.0, 0.0, 0.0, 5.0],
        "new": [40.0, 0, 0, 0, 0, 0, 0],
        "expansion": [0.0, 10.0, 0, 0, 0, 0, 0],   # a 10 -> 20
        "contraction": [0.0, 0, 0, 0, 0, 0, 5.0],  # a bought nothing in Jul but is inside its 90 days
        "churned": [0.0, 30.0, 20.0, 0, 0, 0, 0],  # revenue lost the month after a run's last purchase
        "reactivation": [0.0, 0, 0, 0, 0, 5.0, 0],
        "refunds": [0.0] * 7,
        "ending_mrr": [40.0, 20.0, 0.0, 0.0, 0.0, 5.0, 0.0],
        "quick_ratio": [math.nan, 10 / 30, 0.0, math.nan, math.nan, math.nan, 0.0],
        "customers_start": [0, 2, 2, 2, 1, 0, 1],
        "customers_end": [2, 2, 2, 1, 0, 1, 1],
        "new_customers": [2, 0, 0, 0, 0, 0, 0],
        "churned_customers": [0, 0, 0, 1, 1, 0, 0],   # b dated Apr 1, a dated May 10
        "reactivated_customers": [0, 0, 0, 0, 0, 1, 0],
    })
    pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


def test_an_order_cancelled_the_same_day_is_no_purchase():
    """A purchase day is a day with positive net revenue (DEFINITIONS.md RFM "positive revenue"). c buys $50
    on Jan 8 and cancels it that day, then buys $20 on Mar 4: its first purchase is Mar 4 (new in March,
    not January, and no churn dated Apr 7); d's Jan 9 day nets $15 (a $25 line, a $10 return)."""
    orders = pd.DataFrame({"customer_id": ["c", "c", "c", "d", "d"],
                           "date": [D(2024, 1, 8), D(2024, 1, 8), D(2024, 3, 4), D(2024, 1, 9), D(2024, 1, 9)],
                           "amount_cents": [5000, -5000, 2000, 2500, -1000]})
    revenue = ibis.memtable(orders, schema={"customer_id": "string", "date": "date", "amount_cents": "int64"})
    ledger = [("c", D(2024, 3, 1), 2000), ("d", D(2024, 1, 1), 1500)]
    mv = mrr_movements(ledger_table(ledger), D(2024, 6, 1), "transactional", revenue=revenue,
                       inactivity_days=90).set_index(pd.Index(["Jan", "Feb", "Mar", "Apr", "May"]))
    assert mv["new_customers"].tolist() == [1, 0, 1, 0, 0]          # d in January, c in March
    assert mv["churned_customers"].tolist() == [0, 0, 0, 1, 0]      # d: Jan 9 + 90 = Apr 8


def test_the_first_revenue_after_an_order_cancelled_in_full_later_is_new_not_expansion():
    """Online Retail's 16801: an order on Mar 11 cancelled on Mar 31 (March nets 0), then $726.98 in May. Its
    run of purchases starts in March (Mar 11 nets positive): it is a new customer in March. Its May revenue
    is its first (DEFINITIONS.md "Paying customer": MRR > 0; ChartMogul's new business): new, where it read
    as expansion of a customer buying nothing."""
    orders = pd.DataFrame({"customer_id": ["e", "e", "e"], "date": [D(2024, 3, 11), D(2024, 3, 31), D(2024, 5, 6)],
                           "amount_cents": [75190, -75190, 72698]})
    revenue = ibis.memtable(orders, schema={"customer_id": "string", "date": "date", "amount_cents": "int64"})
    ledger = [("e", D(2024, 3, 1), 0), ("e", D(2024, 5, 1), 72698)]
    mv = mrr_movements(ledger_table(ledger), D(2024, 7, 1), "transactional", revenue=revenue,
                       inactivity_days=90).set_index(pd.Index(["Mar", "Apr", "May", "Jun"]))
    assert mv["new"].tolist() == [0, 0, 726.98, 0] and mv["expansion"].tolist() == [0, 0, 0, 0]
    assert mv["new_customers"].tolist() == [1, 0, 0, 0]   # the customer count follows its run, as before
    assert mv["contraction"].tolist() == [0, 0, 0, 726.98]   # inside its 90 days, bought nothing in June


def test_transactional_model_without_the_revenue_table_is_refused():
    with pytest.raises(LedgerError, match="revenue"):
        mrr_movements(ledger_table(ORDER_LEDGER), D(2024, 8, 1), "transactional")


@st.composite
def ledgers(draw):
    rows = {}
    for cid in "abcde"[: draw(st.integers(1, 5))]:
        for k in draw(st.sets(st.integers(0, 8), max_size=9)):
            cents = draw(st.integers(-5000, 50000).filter(lambda v: v != 0))
            rows[(cid, add_months(D(2023, 1, 1), k))] = cents
    return [(c, m, v) for (c, m), v in rows.items()]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers())
def test_mrr_movements_reconcile_on_generated_ledgers(rows):
    if not rows:
        return
    mv = mrr_movements(ledger_table(rows), D(2023, 10, 1), "subscription")
    cents = (mv[["starting_mrr", "new", "expansion", "reactivation", "contraction", "churned",
                 "ending_mrr"]] * 100).round().astype("int64")
    assert (cents["starting_mrr"] + cents["new"] + cents["expansion"] + cents["reactivation"]
            - cents["contraction"] - cents["churned"] == cents["ending_mrr"]).all()
    # each month ends where the next one starts, and the end is the ledger's MRR of that month
    assert (cents["ending_mrr"].iloc[:-1].to_numpy() == cents["starting_mrr"].iloc[1:].to_numpy()).all()
    df = pd.DataFrame(rows, columns=["customer_id", "month", "cents"])
    for _, row in mv.iterrows():
        in_month = df[pd.to_datetime(df["month"]) == row["month"]]
        assert round(row["ending_mrr"] * 100) == in_month["cents"].clip(lower=0).sum()
        assert row["customers_end"] == (in_month["cents"] > 0).sum()


def movements_frame(start, churned, mrr_start=None) -> pd.DataFrame:
    n = len(start)
    return pd.DataFrame({"month": pd.date_range("2024-01-01", periods=n, freq="MS"),
                         "customers_start": start, "churned_customers": churned,
                         "starting_mrr": mrr_start or [0.0] * n, "churned": [0.0] * n,
                         "contraction": [0.0] * n, "expansion": [0.0] * n, "reactivation": [0.0] * n})


def test_logo_churn_is_pooled_not_a_mean_of_monthly_rates():
    # months: 1/10 lost and 9/90 lost -> pooled (1 + 9) / (10 + 90) = 0.10 (the mean of 10% and 10% agrees);
    # with 1/10 and 1/90: pooled 2 / 100 = 0.02, while the mean of rates would be (0.1 + 0.0111) / 2 = 0.0556
    r = logo_churn(movements_frame([10, 90], [1, 1]), window=12)
    assert r.rate == pytest.approx(0.02)
    assert (r.events, r.exposure, r.months) == (2.0, 100.0, 2)


def test_logo_churn_uses_the_trailing_window_only():
    # 14 months; window 12 drops the first two (which had 5 churns each)
    frame = movements_frame([100] * 14, [5, 5] + [1] * 12)
    r = logo_churn(frame, window=12)
    assert r.rate == pytest.approx(12 / 1200)
    assert r.first_month == pd.Timestamp("2024-03-01") and r.last_month == pd.Timestamp("2025-02-01")


def test_revenue_churn_gross_and_net_follow_chartmogul():
    frame = movements_frame([1, 1], [0, 0], mrr_start=[1000.0, 1000.0])
    frame["churned"] = [50.0, 30.0]
    frame["contraction"] = [10.0, 10.0]
    frame["expansion"] = [20.0, 0.0]
    frame["reactivation"] = [0.0, 5.0]
    gross, net = revenue_churn(frame)
    assert gross.rate == pytest.approx((50 + 30 + 10 + 10) / 2000)        # 100 / 2000 = 0.05
    assert net.rate == pytest.approx((100 - 20 - 5) / 2000)               # 75 / 2000 = 0.0375


def _thirteen_months(extra_now: list) -> list:
    # a pays $100 from Jan 2023 to Jan 2024 (13 complete months as of 2024-02-01)
    rows = [("a", add_months(D(2023, 1, 1), k), 10000) for k in range(13)]
    return rows + extra_now


def test_nrr_and_grr_cap_each_customer_at_its_earlier_mrr():
    # base month Jan 2023: a $100, b $50, c $50. Jan 2024: a $100, b $80 (expanded), c gone.
    rows = _thirteen_months([("b", D(2023, 1, 1), 5000), ("b", D(2024, 1, 1), 8000),
                             ("c", D(2023, 1, 1), 5000), ("d", D(2024, 1, 1), 9999)])  # d is new: ignored
    nrr, grr = nrr_grr(ledger_table(rows), D(2024, 2, 1))
    assert nrr == pytest.approx((100 + 80 + 0) / 200)      # 0.90
    assert grr == pytest.approx((100 + 50 + 0) / 200)      # b capped at 50 -> 0.75


def test_nrr_is_not_available_with_fewer_than_13_complete_months():
    rows = _thirteen_months([])[1:]  # 12 months only
    nrr, grr = nrr_grr(ledger_table(rows), D(2024, 2, 1))
    assert math.isnan(nrr) and math.isnan(grr)


def test_arpa_is_mrr_over_paying_customers():
    assert arpa(30000, 4) == 75.0  # $300 / 4
    assert math.isnan(arpa(0, 0))


@st.composite
def order_books(draw):
    rows = []
    for cid in "abcd"[: draw(st.integers(1, 4))]:
        for day in draw(st.sets(st.integers(0, 330), min_size=1, max_size=6)):
            rows.append((cid, D(2023, 1, 1) + pd.Timedelta(days=day).to_pytimedelta(),
                         draw(st.integers(1, 90000))))
    return rows


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_books(), st.sampled_from([30, 45, 90]))
def test_transactional_movements_reconcile_on_generated_orders(orders, n_days):
    df = pd.DataFrame(orders, columns=["customer_id", "date", "amount_cents"])
    df["month"] = pd.to_datetime(df["date"]).dt.to_period("M").dt.to_timestamp().dt.date
    monthly = df.groupby(["customer_id", "month"], as_index=False)["amount_cents"].sum()
    ledger = ledger_table(list(monthly.itertuples(index=False, name=None)))
    revenue = ibis.memtable(df[["customer_id", "date", "amount_cents"]],
                            schema={"customer_id": "string", "date": "date", "amount_cents": "int64"})
    mv = mrr_movements(ledger, D(2024, 1, 1), "transactional", revenue=revenue, inactivity_days=n_days)
    cents = (mv[["starting_mrr", "new", "expansion", "reactivation", "contraction", "churned",
                 "ending_mrr"]] * 100).round().astype("int64")
    assert (cents["starting_mrr"] + cents["new"] + cents["expansion"] + cents["reactivation"]
            - cents["contraction"] - cents["churned"] == cents["ending_mrr"]).all()
    # customers carried from one month to the next; every customer is new exactly once
    assert (mv["customers_end"].iloc[:-1].to_numpy() == mv["customers_start"].iloc[1:].to_numpy()).all()
    assert mv["new_customers"].sum() == df["customer_id"].nunique()
    assert (mv["customers_end"] >= 0).all()


def test_kpis_gather_the_headline_numbers_of_the_last_complete_month():
    from economics.mrr import kpis

    k = kpis(ledger_table(TINY), D(2024, 5, 1), "subscription")
    # April: a reactivated at $5 is the only paying customer; churn pooled over Jan-Apr: 3 lost / 5 at start
    assert k["last_complete_month"] == pd.Timestamp("2024-04-01")
    assert (k["mrr"], k["paying_customers"], k["arpa"]) == (5.0, 1, 5.0)
    assert k["logo_churn"].rate == pytest.approx(3 / 5)
    assert k["gross_revenue_churn"].rate == pytest.approx((30 + 20 + 7) / (40 + 27 + 7))
    assert math.isnan(k["nrr"])          # 4 complete months < 13


def test_a_churn_falling_on_d_is_not_yet_observed():
    """DEFINITIONS.md "Time" and "Churn": as of D means data strictly before D; a customer churns once N days
    pass without a purchase, dated at last purchase + N (economics.mrr: counted only when p + N < D).
    N = 90, D = 2024-08-01. a buys $50 on May 3: May 3 + 90 = Aug 1 = D, not yet churned, so June's drop is
    contraction. b buys $30 on May 2: May 2 + 90 = Jul 31 < D, churned (in July); its revenue is lost in June."""
    orders = pd.DataFrame({"customer_id": ["a", "b"], "date": [date(2024, 5, 3), date(2024, 5, 2)],
                           "amount_cents": [5000, 3000]})
    revenue = ibis.memtable(orders, schema={"customer_id": "string", "date": "date", "amount_cents": "int64"})
    ledger = [("a", date(2024, 5, 1), 5000), ("b", date(2024, 5, 1), 3000)]
    mv = mrr_movements(ledger_table(ledger), date(2024, 8, 1), "transactional", revenue=revenue,
                       inactivity_days=90).set_index(pd.Index(["May", "Jun", "Jul"]))
    assert mv.loc["Jun", "contraction"] == 50.0 and mv.loc["Jun", "churned"] == 30.0
    assert mv["churned_customers"].tolist() == [0, 0, 1]
