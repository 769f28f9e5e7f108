"""From workspace tables to EconomicsInputs: segments over time and at acquisition (DEFINITIONS.md
"Segments over time"), checked on a tiny company whose value tiers change month by month."""
from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from economics.ledger import add_months
from economics.pipeline import economics_for, economics_inputs, shared_inputs
from segmentation.definition import default_definition, with_updates
from segmentation.schemes import value_tier

D = date
AS_OF = D(2026, 7, 1)
# Monthly MRR in dollars from January to June 2026 (0 = not paying).
MRR = {
    "a": [0, 0, 500, 500, 5000, 5000],      # first paid in March as SMB ($6k ARR), Enterprise ($60k) from May
    "b": [50, 50, 50, 50, 50, 50],          # first paid in January, before the 3-month window: segment at D
    "c": [0, 0, 0, 0, 0, 2000],             # first paid in June: labelled at D (July 1), Mid-market
    "d": [0, 0, 0, 0, 0, 0],                # never paid
}
MONTHS = [D(2026, m, 1) for m in range(1, 7)]


def tables(mrr: dict[str, list[int]] = MRR) -> dict[str, ibis.Table]:
    rows = [(c, m, v * 100) for c, values in mrr.items() for m, v in zip(MONTHS, values) if v]
    ledger = pd.DataFrame(rows, columns=["customer_id", "month", "revenue_cents"])
    ledger["mrr_cents"] = ledger["revenue_cents"]
    ledger["refund_cents"] = 0
    customers = pd.DataFrame({"customer_id": list(MRR), "signup_date": [D(2025, 12, 1)] * 4,
                              "channel": ["ads", "sales", None, "ads"]})
    tickets = pd.DataFrame({"customer_id": ["a", "a", "c"], "minutes": [10.0, 20.0, None],
                            "created_at": pd.to_datetime(["2026-05-03", "2026-06-10", "2026-06-11"])})
    return {"ledger": ibis.memtable(ledger), "customers": ibis.memtable(customers),
            "tickets": ibis.memtable(tickets)}


def features_at(d: date) -> pd.DataFrame:
    """Only what value_tier reads: MRR at d is the ledger MRR of the month containing d - 1."""
    month = add_months(d, -1)
    mrr = [MRR[c][MONTHS.index(month)] if month in MONTHS else 0 for c in MRR]
    return pd.DataFrame({"customer_id": list(MRR), "mrr": [float(v) for v in mrr],
                         "arr": [12.0 * v for v in mrr]})


DEFN = with_updates(default_definition(), economics={"churn_window_months": 3})


def test_segments_over_time_and_at_acquisition():
    inputs = economics_inputs(tables(), AS_OF, "value_tier", DEFN, features_at=features_at)
    hist = inputs.segment_history.assign(segment=inputs.segment_history["segment"].astype(str))
    # The churn window is April-June: every customer labelled at each month start.
    months = sorted(pd.to_datetime(hist["month"]).dt.date.unique().tolist())
    assert months == [D(2026, 4, 1), D(2026, 5, 1), D(2026, 6, 1)]
    hist["month"] = pd.to_datetime(hist["month"]).dt.date
    a = hist[hist["customer_id"] == "a"].set_index("month")["segment"]
    assert a.to_dict() == {D(2026, 4, 1): "SMB", D(2026, 5, 1): "SMB", D(2026, 6, 1): "Enterprise"}
    at_d = inputs.segment_at_d.assign(segment=inputs.segment_at_d["segment"].astype(str)).set_index("customer_id")
    assert at_d["segment"].to_dict() == {"a": "Enterprise", "b": "Self-serve", "c": "Mid-market",
                                         "d": "Not paying"}
    acq = inputs.acquisition.set_index("customer_id")
    assert sorted(acq.index) == ["a", "b", "c"]  # d never paid
    # a: first paid in March, labelled on April 1 (SMB), though Enterprise at D; tier at acquisition from
    # 12 x March's $500.
    assert acq.loc["a", "segment"] == "SMB" and acq.loc["a", "value_tier"] == "SMB"
    # b: acquired before the window (January): its segment at D.
    assert acq.loc["b", "segment"] == "Self-serve"
    # c: first paid in June: the month after is July 1 = D.
    assert acq.loc["c", "segment"] == "Mid-market" and acq.loc["c", "value_tier"] == "Mid-market"
    assert (acq.loc["a", "channel"], acq.loc["b", "channel"]) == ("ads", "sales") and pd.isna(acq.loc["c", "channel"])
    assert pd.Timestamp(acq.loc["a", "first_paid_month"]) == pd.Timestamp(2026, 3, 1)


def test_shared_inputs_give_the_same_economics_as_a_fresh_computation():
    t = tables()
    shared = shared_inputs(t, AS_OF, DEFN)
    for scheme in ("value_tier", "value_tier+channel"):
        fresh = economics_for(t, AS_OF, scheme, DEFN, features_at=features_at).table
        reused = economics_for(t, AS_OF, scheme, DEFN, features_at=features_at, shared=shared).table
        pd.testing.assert_frame_equal(fresh, reused)
    table = economics_for(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=shared).table
    row = table.set_index("segment")
    # Month L = June: a pays $5,000 (Enterprise), c $2,000 (Mid-market), b $50 (Self-serve).
    assert row.loc["Enterprise", "mrr"] == 5000.0 and row.loc["Mid-market", "mrr"] == 2000.0
    assert row.loc["Not paying", "paying_customers"] == 0


def test_shared_inputs_serve_a_cost_assumption_change_without_a_rescan():
    t = tables()
    shared = shared_inputs(t, AS_OF, DEFN)
    dearer = with_updates(DEFN, economics={"support_cost_per_minute": 3.0, "support_team_monthly_cost": 500.0,
                                           "gross_margin": 0.6})
    fresh = economics_for(t, AS_OF, "value_tier", dearer, features_at=features_at).table
    reused = economics_for(t, AS_OF, "value_tier", dearer, features_at=features_at, shared=shared).table
    pd.testing.assert_frame_equal(fresh, reused)
    # a (Enterprise): 30 minutes x $3 over its 3 paying months of the window; c: half of June's $500
    # team cost (June has two tickets, c's has no minutes) over its 1 month.
    row = reused.set_index("segment")
    assert row.loc["Enterprise", "support_cost_pcm"] == pytest.approx(90.0 / 3)
    assert row.loc["Mid-market", "support_cost_pcm"] == pytest.approx(250.0 / 1)


def test_repriced_inputs_give_the_economics_of_the_new_assumptions():
    from economics.pipeline import assumptions_of, repriced
    from economics.unit import segment_economics

    t = tables()
    shared = shared_inputs(t, AS_OF, DEFN)
    inputs = economics_inputs(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=shared)
    dearer = with_updates(DEFN, economics={"support_cost_per_minute": 3.0, "gross_margin": 0.6})
    a = assumptions_of(dearer)
    fresh = economics_for(t, AS_OF, "value_tier", dearer, features_at=features_at).table
    pd.testing.assert_frame_equal(segment_economics(repriced(inputs, shared, a), a).table, fresh)
    with pytest.raises(ValueError, match="churn window"):
        repriced(inputs, shared, assumptions_of(with_updates(DEFN, economics={"churn_window_months": 6})))


def test_seats_are_counted_only_when_they_have_a_cost():
    from economics.pipeline import assumptions_of, repriced

    events = pd.DataFrame({"customer_id": ["a", "a", "a"], "user_id": ["u1", "u2", "u1"],
                           "timestamp": pd.to_datetime(["2026-05-02", "2026-05-03", "2026-06-04"])})
    t = tables() | {"events": ibis.memtable(events)}
    free = shared_inputs(t, AS_OF, DEFN)                 # the default seat cost is 0: no distinct count
    assert not free.seats and free.usage_scan["seats"].isna().all()
    priced = with_updates(DEFN, economics={"infra_cost_per_seat": 10.0, "infra_cost_per_event": 0.0})
    counted = shared_inputs(t, AS_OF, priced)
    assert counted.seats and counted.usage_scan.set_index("customer_id").loc["a", "seats"] == 2
    # At a seat cost of 0, counted seats change nothing.
    pd.testing.assert_frame_equal(
        economics_for(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=free).table,
        economics_for(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=counted).table)
    # a (Enterprise at D) has 2 seats at $10 a month.
    row = economics_for(t, AS_OF, "value_tier", priced, features_at=features_at, shared=counted).table
    assert row.set_index("segment").loc["Enterprise", "infra_cost_pcm"] == pytest.approx(20.0)
    inputs = economics_inputs(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=free)
    with pytest.raises(ValueError, match="without seats"):
        repriced(inputs, free, assumptions_of(priced))
    with pytest.raises(ValueError, match="without seats"):
        economics_for(t, AS_OF, "value_tier", priced, features_at=features_at, shared=free)


def test_cac_attributed_once_for_every_scheme_equals_cac_attributed_per_scheme():
    from dataclasses import replace

    from economics.pipeline import assumptions_of
    from economics.unit import segment_economics

    # June's Mid-market spend goes to c (first paid in June, $24k ARR); May's spend for all has no new
    # customer in May and pools into June: c's CAC is $1,200.
    spend = pd.DataFrame({"month": [D(2026, 5, 1), D(2026, 6, 1)], "amount": [900.0, 300.0],
                          "channel": [None, None], "segment": [None, "Mid-market"]})
    t = tables() | {"spend": ibis.memtable(spend.astype({"channel": "string", "segment": "string"}))}
    shared = shared_inputs(t, AS_OF, DEFN)
    a = assumptions_of(DEFN)
    for scheme in ("value_tier", "value_tier+channel", "channel"):
        inputs = economics_inputs(t, AS_OF, scheme, DEFN, features_at=features_at, shared=shared)
        assert inputs.cac is not None
        given = segment_economics(inputs, a)
        computed = segment_economics(replace(inputs, cac=None, cac_window=None), a)
        assert given.window == (pd.Timestamp(inputs.cac_window[0]), pd.Timestamp(inputs.cac_window[1]))
        pd.testing.assert_frame_equal(given.table, computed.table)
        pd.testing.assert_frame_equal(given.cac_by_customer, computed.cac_by_customer)
        assert given.cac_by_customer.set_index("customer_id").loc["c", "cac"] == 1200.0
    # Other value-tier bands (c is now "Large") attribute the segment spend again, not from the first
    # definition's memo: June's Mid-market spend finds no new Mid-market customer.
    bands = [{"label": "Small", "lower": 0, "upper": 20000}, {"label": "Large", "lower": 20000}]
    other = with_updates(DEFN, value_tier={"bands": bands})
    inputs = economics_inputs(t, AS_OF, "value_tier", other, features_at=features_at, shared=shared)
    given = segment_economics(inputs, a).cac_by_customer
    pd.testing.assert_frame_equal(given, segment_economics(replace(inputs, cac=None), a).cac_by_customer)
    assert given.set_index("customer_id").loc["c", "cac"] == 900.0


def test_customer_codes_are_reused_across_schemes_only_for_the_very_same_id_columns():
    from economics.pipeline import _inputs
    from segmentation.transitions import scheme_labels

    t = tables()
    shared = shared_inputs(t, AS_OF, DEFN)

    def labels_at(d: date, scheme: str) -> pd.Series:
        return scheme_labels(features_at(d), scheme, DEFN)

    stable: dict[date, pd.Series] = {}  # the same id objects at every call, as the report passes them
    first = _inputs(shared, "value_tier", labels_at, lambda d: stable.setdefault(d, features_at(d)["customer_id"]))
    memo = shared._codes_memo
    second = _inputs(shared, "value_tier+channel", labels_at, lambda d: stable[d])
    assert shared._codes_memo is memo  # reused: the same id objects
    # New objects with other ids at D: computed again, not served from the memo.
    moved = _inputs(shared, "value_tier", labels_at,
                    lambda d: features_at(d)["customer_id"].replace({"d": "e"}) if d == AS_OF else stable[d])
    assert shared._codes_memo is not memo
    assert "e" in set(moved.segment_at_d["customer_id"]) and "d" not in set(moved.segment_at_d["customer_id"])
    fresh = shared_inputs(t, AS_OF, DEFN)
    for inputs, scheme in ((first, "value_tier"), (second, "value_tier+channel")):
        expected = _inputs(fresh, scheme, labels_at, lambda d: features_at(d)["customer_id"])
        pd.testing.assert_frame_equal(inputs.segment_history, expected.segment_history)
        pd.testing.assert_frame_equal(inputs.acquisition, expected.acquisition)
        pd.testing.assert_frame_equal(inputs.segment_at_d, expected.segment_at_d)


def test_economics_from_the_shared_customer_codes_equal_economics_encoding_the_ids_itself():
    """The shared inputs hand each scheme its frames' ids as codes of one code space (ids hashed once per
    report, not once per scheme); segment_economics with them equals segment_economics hashing the ids
    itself, and codes that do not fit the frames are refused."""
    from dataclasses import replace

    from economics.pipeline import assumptions_of
    from economics.unit import CODED_FRAMES, segment_economics

    t = tables({**MRR, "b": [50, 50, 50, 50, 50, 0]})  # b churns in June
    shared = shared_inputs(t, AS_OF, DEFN)
    a = assumptions_of(DEFN)
    for scheme in ("value_tier", "value_tier+channel"):
        inputs = economics_inputs(t, AS_OF, scheme, DEFN, features_at=features_at, shared=shared)
        assert set(inputs.customer_codes) == set(CODED_FRAMES)
        given, own = segment_economics(inputs, a), segment_economics(replace(inputs, customer_codes=None), a)
        assert given.table["customers"].sum() > 0 and given.table["churn_events"].sum() > 0
        pd.testing.assert_frame_equal(given.table, own.table, obj=scheme)
        pd.testing.assert_frame_equal(given.blended, own.blended, obj=scheme)
    short = {**inputs.customer_codes, "usage": inputs.customer_codes["usage"][:-1]}
    with pytest.raises(ValueError, match="customer_codes\\['usage'\\]"):
        segment_economics(replace(inputs, customer_codes=short), a)


def test_economics_of_several_schemes_from_one_base_equal_each_computed_alone():
    """The report computes what segment_economics reads apart from the segments once (economics_base) and
    passes it to every scheme: each scheme's economics equal those computed alone; a base is refused for
    inputs it was not computed from (usage priced otherwise, ids not given as the shared codes)."""
    from dataclasses import replace

    from economics.pipeline import _inputs, assumptions_of
    from economics.unit import economics_base, segment_economics
    from segmentation.transitions import scheme_labels

    t = tables({**MRR, "b": [50, 50, 50, 50, 50, 0]})  # b churns in June
    shared = shared_inputs(t, AS_OF, DEFN)
    a = assumptions_of(DEFN)
    stable: dict[date, pd.Series] = {}  # the same id objects at every call, as the report passes them

    def ids_at(d: date) -> pd.Series:
        return stable.setdefault(d, features_at(d)["customer_id"])

    def labels_at(d: date, scheme: str) -> pd.Series:
        return scheme_labels(features_at(d), scheme, DEFN)

    base = None
    for scheme in ("value_tier", "value_tier+channel", "lifecycle"):
        inputs = _inputs(shared, scheme, labels_at, ids_at)
        base = base or economics_base(inputs, a)
        together, alone = segment_economics(inputs, a, base), segment_economics(inputs, a)
        assert alone.table["churn_events"].sum() > 0 and alone.table["mrr"].sum() > 0
        pd.testing.assert_frame_equal(together.table, alone.table, obj=scheme)
        pd.testing.assert_frame_equal(together.blended, alone.blended, obj=scheme)
    cheaper = replace(a, support_cost_per_minute=a.support_cost_per_minute / 2)
    with pytest.raises(ValueError, match="compute it again"):
        segment_economics(replace(inputs, usage=shared.priced_usage(cheaper)), cheaper, base)
    with pytest.raises(ValueError, match="compute it again"):
        segment_economics(replace(inputs, customer_codes=None), a, base)


def test_value_tier_at_acquisition_is_computed_once_per_value_tier_definition(monkeypatch):
    """The value tier of 12 x the first paid MRR (it keys the onboarding cost) is the same for every scheme:
    the shared inputs compute it once per value-tier definition, and again for other bands."""
    import economics.pipeline as pipeline
    from segmentation.definition import definition_to_dict

    calls = []
    monkeypatch.setattr(pipeline, "value_tier", lambda *a, **k: calls.append(1) or value_tier(*a, **k))
    t = tables()
    shared = shared_inputs(t, AS_OF, DEFN)
    first = economics_inputs(t, AS_OF, "value_tier", DEFN, features_at=features_at, shared=shared)
    second = economics_inputs(t, AS_OF, "value_tier+channel", DEFN, features_at=features_at, shared=shared)
    # a first paid $500 a month (SMB: $6k ARR), b $50 (Self-serve: $600), c $2,000 (Mid-market: $24k)
    assert dict(zip(first.acquisition["customer_id"], first.acquisition["value_tier"])) == {
        "a": "SMB", "b": "Self-serve", "c": "Mid-market"}
    assert len(calls) == 1 and second.acquisition["value_tier"].tolist() == first.acquisition["value_tier"].tolist()
    tiers = definition_to_dict(DEFN)["value_tier"]
    tiers["bands"][0]["upper"] = tiers["bands"][1]["lower"] = 500  # SMB from $500 ARR
    moved = economics_inputs(t, AS_OF, "value_tier", with_updates(DEFN, value_tier=tiers),
                             features_at=features_at, shared=shared)
    assert dict(zip(moved.acquisition["customer_id"], moved.acquisition["value_tier"]))["b"] == "SMB"
    assert len(calls) == 2


_LABEL = st.sampled_from(["Enterprise", "SMB", "Self-serve", None])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.lists(_LABEL, min_size=1, max_size=8),
                          st.permutations(["SMB", "Enterprise", "Mid-market", "Self-serve"])), max_size=3),
       st.integers(0, 12), st.randoms(use_true_random=False))
def test_labels_at_acquisition_rows_equal_the_strings_categorical_or_not(parts, n, rnd):
    """The acquisition's segment column is built from each date's labels at its rows: by codes straight into
    Arrow strings for categorical labels, as Python strings otherwise; both give the very same column."""
    import numpy as np

    from economics.pipeline import _labels_at_rows

    free = list(range(n))
    rnd.shuffle(free)
    given, plain = [], []
    for labels, order in parts:
        k = min(len(labels), len(free))
        rows, free = np.array(free[:k], dtype="int64"), free[k:]
        found = np.array(rnd.sample(range(len(labels)), k), dtype="int64")
        given.append((pd.Series(labels, dtype=pd.CategoricalDtype(order)), rows, found))
        plain.append((pd.Series(labels, dtype=object), rows, found))
    expected, actual = pd.DataFrame(index=range(n)), pd.DataFrame(index=range(n))
    expected["segment"] = _labels_at_rows(n, plain)
    actual["segment"] = _labels_at_rows(n, given)
    pd.testing.assert_frame_equal(actual, expected)


def test_the_month_starts_begin_with_the_first_month_churn_can_be_observed_in():
    """first_ledger_month reads where the data starts (None for an empty ledger). A subscription can churn
    from the data's second month (the first has no exposure). On order data a customer at risk at a month's
    start bought in the 90 days before it, so a month counts once those days lie in the data: from 1 April
    for data starting on 1 January (2026-01-01 + 90 days = 2026-04-01), from 1 June for data starting on
    1 February (+ 90 days = 2 May; 1 May's 90 days begin on 31 January)."""
    from economics.ledger import first_churn_month, first_ledger_month
    from economics.pipeline import history_months

    ledger = ibis.memtable(pd.DataFrame({"customer_id": ["a", "b"], "month": [D(2026, 3, 1), D(2026, 1, 1)],
                                         "mrr_cents": [100, 200]}))
    first = first_ledger_month(ledger)
    assert first == D(2026, 1, 1)
    assert first_ledger_month(ledger.filter(ledger.mrr_cents > 1000)) is None
    assert first_churn_month(first, "subscription", 90) == D(2026, 2, 1)
    assert first_churn_month(first, "transactional", 90) == D(2026, 4, 1)
    assert first_churn_month(D(2026, 2, 1), "transactional", 90) == D(2026, 6, 1)
    assert first_churn_month(first, "transactional", 10) == D(2026, 2, 1)   # never before the second month
    assert history_months(AS_OF, 12, first_churn_month(first, "subscription", 90)) == [D(2026, m, 1)
                                                                                       for m in range(2, 7)]
    assert history_months(AS_OF, 12, first_churn_month(first, "transactional", 90)) == [D(2026, m, 1)
                                                                                        for m in range(4, 7)]
    # No complete month of data before the as-of date (the day after the data starts): no window, not the
    # 12 months before the data.
    assert history_months(AS_OF, 12, None) == []


def test_a_crm_snapshot_pools_churn_over_its_month_for_any_definition_that_leaves_the_window_out():
    """economics.pipeline.for_data: what the report command and the Segments page's upload apply to a
    definition file; one that sets churn_window_months keeps it, and other data keep the file as it is."""
    from economics.pipeline import assumptions_of, for_data
    from segmentation.definition import load_definition

    snapshot, invoices = {"revenue_shape": "snapshot"}, {"revenue_shape": "invoices"}
    silent = load_definition('[firmographic]\nattributes = ["Contract"]\n')
    twelve = load_definition("[economics]\nchurn_window_months = 12\n")
    assert assumptions_of(for_data(silent, snapshot)).churn_window_months == 1
    assert for_data(silent, snapshot).firmographic.attributes == ("contract",)
    assert assumptions_of(for_data(twelve, snapshot)).churn_window_months == 12
    assert for_data(silent, invoices) is silent and assumptions_of(silent).churn_window_months == 12


def test_on_order_data_nobody_is_onboarded_until_the_definition_says_so_and_the_costs_still_read_as_defaults():
    """Online Retail's Self-serve read "margin-draining" on the SaaS default of 1,500 onboarding per customer
    whose first month's orders reached an SMB tier: order data default to no onboarding cost, a definition
    that sets onboarding keeps it, and the costs still read as the defaults (the note stays) until set."""
    from economics.assumptions import costs_are_defaults, default_costs
    from economics.pipeline import assumptions_of, data_defaults, for_data
    from segmentation.definition import load_definition

    orders = {"revenue_model": "transactional", "revenue_shape": "invoices"}
    shop = for_data(default_definition(), orders)
    assert dict(assumptions_of(shop).onboarding_cost) == {"Self-serve": 0, "SMB": 0, "Mid-market": 0, "Enterprise": 0}
    assert costs_are_defaults(shop.economics, data_defaults(shop, orders))
    assert not costs_are_defaults(shop.economics)   # against the SaaS defaults, onboarding was set
    assert default_costs("£", [], data_defaults(shop, orders)) == "gross margin 80%; no onboarding cost"
    own = load_definition("[economics.onboarding_cost]\nSMB = 200\n")
    assert dict(assumptions_of(for_data(own, orders)).onboarding_cost) == {"SMB": 200}
    assert not costs_are_defaults(own.economics, data_defaults(own, orders))
    saas = for_data(default_definition(), {"revenue_model": "subscription"})
    assert assumptions_of(saas).onboarding_cost["SMB"] == 1500
