"""Segment economics against hand-computed values: churn attribution, LTV, net LTV, CAC, payback, verdict."""
from __future__ import annotations

from dataclasses import replace

import math
from datetime import date

import pandas as pd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from economics.assumptions import parse_assumptions
from economics.unit import (EconomicsInputs, attribute_cac, segment_economics, verdict, waterfall,
                            wilson_interval)

D = date


def _ledger(rows):
    df = pd.DataFrame(rows, columns=["customer_id", "month", "revenue_cents"])
    df["month"] = pd.to_datetime(df["month"])
    df["mrr_cents"] = df["revenue_cents"].clip(lower=0)
    df["refund_cents"] = (-df["revenue_cents"]).clip(lower=0)
    return df


# As of 2024-05-01: last complete month April; data from January, so the churn window is Feb-Apr.
# e1 Enterprise $1000 Jan-Apr. e2 $1000 Jan, decays to $200 in Feb, churns in Mar (SMB at the start of
# Mar). e3 $1000 Jan-Feb, churns in Mar while still Enterprise at the start of Mar.
# s1 SMB $100 Jan-Apr. s2 SMB, new in Mar at $100.
LEDGER = _ledger([
    ("e1", "2024-01-01", 100000), ("e1", "2024-02-01", 100000), ("e1", "2024-03-01", 100000),
    ("e1", "2024-04-01", 100000), ("e2", "2024-01-01", 100000), ("e2", "2024-02-01", 20000),
    ("e3", "2024-01-01", 100000), ("e3", "2024-02-01", 100000),
    ("s1", "2024-01-01", 10000), ("s1", "2024-02-01", 10000), ("s1", "2024-03-01", 10000),
    ("s1", "2024-04-01", 10000), ("s2", "2024-03-01", 10000), ("s2", "2024-04-01", 10000),
])
AT_D = pd.DataFrame({"customer_id": ["e1", "e2", "e3", "s1", "s2"],
                     "segment": ["Enterprise", "Churned", "Churned", "SMB", "SMB"]})
HISTORY = pd.DataFrame({
    "customer_id": ["e1", "e1", "e1", "e2", "e2", "e3", "e3", "s1", "s1", "s1", "s2"],
    "month": pd.to_datetime(["2024-02-01", "2024-03-01", "2024-04-01", "2024-02-01", "2024-03-01",
                             "2024-02-01", "2024-03-01", "2024-02-01", "2024-03-01", "2024-04-01",
                             "2024-04-01"]),
    "segment": ["Enterprise", "Enterprise", "Enterprise", "Enterprise", "SMB", "Enterprise", "Enterprise",
                "SMB", "SMB", "SMB", "SMB"],
})
ACQUISITION = pd.DataFrame({
    "customer_id": ["e1", "e2", "e3", "s1", "s2"],
    "first_paid_month": pd.to_datetime(["2024-01-01"] * 4 + ["2024-03-01"]),
    "channel": ["sales", "sales", "ads", "ads", None],
    "segment": ["Enterprise", "Enterprise", "Enterprise", "SMB", "SMB"],
    "value_tier": ["Enterprise", "Enterprise", "Enterprise", "SMB", "SMB"],
})
USAGE = pd.DataFrame({"customer_id": ["e1", "s1", "s2"], "tickets": [3, 6, 2],
                      "support_minutes": [60.0, 120.0, 10.0], "support_cost": [None, None, 50.0],
                      "events": [30000, 3000, 1000], "seats": [0, 0, 0]})
SPEND = pd.DataFrame({"month": pd.to_datetime(["2024-03-01"]), "amount": [600.0], "channel": [None],
                      "segment": [None]})
# min_customers 5: the revenue rates of these few customer-months are rated (see the small-base test).
ASSUME = parse_assumptions({"gross_margin_by_segment": {"Enterprise": 0.9},
                            "onboarding_cost": {"Enterprise": 1000, "SMB": 100}, "min_customers": 5})


def _inputs(spend=SPEND, history=HISTORY):
    return EconomicsInputs(ledger=LEDGER, segment_at_d=AT_D, segment_history=history,
                           acquisition=ACQUISITION, usage=USAGE, window_months=3, spend=spend,
                           as_of=D(2024, 5, 1), revenue_model="subscription")


@pytest.fixture(scope="module")
def result():
    return segment_economics(_inputs(), ASSUME)


def _row(result, segment):
    return result.table.set_index("segment").loc[segment]


def test_the_churn_window_is_the_complete_months_with_exposure(result):
    assert result.window == (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-04-01"))


def test_churn_counts_in_the_segment_held_at_the_start_of_the_churn_month(result):
    ent, smb = _row(result, "Enterprise"), _row(result, "SMB")
    # Enterprise exposure: Feb e1 e2 e3, Mar e1 e3, Apr e1 = 6; lost: e3 in Mar = 1
    assert (ent["churn_exposure"], ent["churn_events"]) == (6, 1)
    assert ent["logo_churn"] == pytest.approx(1 / 6)
    # SMB exposure: Feb s1, Mar s1 e2 (e2 was SMB at the start of Mar), Apr s1 s2 = 5; lost: e2 = 1
    assert (smb["churn_exposure"], smb["churn_events"]) == (5, 1)
    assert smb["logo_churn"] == pytest.approx(0.2)


def test_if_the_decayed_customer_was_still_enterprise_its_churn_is_enterprise_churn():
    history = HISTORY.copy()
    history.loc[(history["customer_id"] == "e2") & (history["month"] == "2024-03-01"), "segment"] = "Enterprise"
    ent = segment_economics(_inputs(history=history), ASSUME).table.set_index("segment").loc["Enterprise"]
    assert (ent["churn_exposure"], ent["churn_events"]) == (7, 2)   # 6 + e2 in Mar; e3 and e2 lost


def test_counts_mrr_and_arpa_use_the_segment_at_d(result):
    ent, smb, churned = _row(result, "Enterprise"), _row(result, "SMB"), _row(result, "Churned")
    assert (ent["customers"], ent["paying_customers"], ent["mrr"], ent["arpa"]) == (1, 1, 1000.0, 1000.0)
    assert (smb["customers"], smb["paying_customers"], smb["mrr"], smb["arpa"]) == (2, 2, 200.0, 100.0)
    assert smb["share"] == pytest.approx(2 / 5) and smb["mrr_share"] == pytest.approx(200 / 1200)
    assert churned["paying_customers"] == 0 and math.isnan(churned["arpa"])


def test_revenue_churn_by_segment_at_month_start(result):
    ent, smb = _row(result, "Enterprise"), _row(result, "SMB")
    # Enterprise starting MRR: Feb 3000 + Mar 2000 + Apr 1000 = 6000; lost: e2 contraction 800 + e3 churn 1000
    assert ent["gross_revenue_churn"] == pytest.approx(1800 / 6000)
    assert ent["net_revenue_churn"] == pytest.approx(1800 / 6000)
    # SMB starting MRR: Feb 100 + Mar (100 + 200) + Apr (100 + 100) = 600; lost: e2 churn 200
    assert smb["gross_revenue_churn"] == pytest.approx(200 / 600)
    assert smb["expansion_rate"] == 0.0


def test_revenue_rates_over_fewer_customer_months_with_revenue_than_min_customers_are_not_rated():
    # Customer-months starting with MRR: Enterprise 6 (Feb e1 e2 e3, Mar e1 e3, Apr e1), SMB 5 (Feb s1,
    # Mar s1 e2, Apr s1 s2). With min_customers 6, SMB's rates are n/a with a note; Enterprise's stay.
    assume = parse_assumptions({"gross_margin_by_segment": {"Enterprise": 0.9},
                                "onboarding_cost": {"Enterprise": 1000, "SMB": 100}, "min_customers": 6})
    table = segment_economics(_inputs(), assume).table.set_index("segment")
    ent, smb = table.loc["Enterprise"], table.loc["SMB"]
    assert ent["gross_revenue_churn"] == pytest.approx(1800 / 6000) and ent["expansion_rate"] == 0.0
    assert "small revenue base" not in ent["note"]
    assert all(math.isnan(smb[c]) for c in ("gross_revenue_churn", "net_revenue_churn", "expansion_rate"))
    assert "small revenue base (5 customer-month(s) starting with revenue)" in smb["note"]
    assert smb["logo_churn"] == pytest.approx(0.2)    # logo churn keeps its figure (and its interval)


def test_ltv_net_ltv_and_costs_match_the_hand_computation(result):
    ent, smb = _row(result, "Enterprise"), _row(result, "SMB")
    # Enterprise: lifetime 1 / (1/6) = 6; margin 0.9 (override); e1 over 3 usage months:
    # support 60 min x $1 = 60 -> 20 pcm; infra 30000 x $0.001 = 30 -> 10 pcm; tickets 3 / 3 = 1
    assert ent["lifetime_months"] == pytest.approx(6.0) and not ent["ltv_capped"]
    assert ent["ltv"] == pytest.approx(1000 * 0.9 * 6)                      # 5400
    assert ent["support_cost_pcm"] == pytest.approx(20.0)
    assert ent["infra_cost_pcm"] == pytest.approx(10.0)
    assert ent["tickets_pcm"] == pytest.approx(1.0)
    assert ent["contribution_pcm"] == pytest.approx(900 - 20 - 10)          # 870
    assert ent["net_ltv"] == pytest.approx(870 * 6 - 1000)                  # 4220
    assert ent["support_share_of_revenue"] == pytest.approx(20 / 1000)
    # SMB: lifetime 1 / 0.2 = 5; months s1 3 + s2 2 (acquired in Mar) = 5;
    # support s1 120 min x $1 + s2's ticket cost 50 = 170 -> 34 pcm; infra (3000 + 1000) x 0.001 = 4 -> 0.8
    assert smb["ltv"] == pytest.approx(100 * 0.8 * 5)                       # 400
    assert smb["support_cost_pcm"] == pytest.approx(34.0)
    assert smb["infra_cost_pcm"] == pytest.approx(0.8)
    assert smb["contribution_pcm"] == pytest.approx(80 - 34 - 0.8)          # 45.2
    assert smb["net_ltv"] == pytest.approx(45.2 * 5 - 100)                  # 126


def test_cac_payback_and_verdict_of_a_segment(result):
    smb = _row(result, "SMB")
    # March spend $600 with no channel goes to all of March's new customers: s2 only
    assert smb["cac"] == pytest.approx(600.0) and smb["blended_cac"] == pytest.approx(600.0)
    assert smb["net_ltv_cac"] == pytest.approx(126 / 600)                   # 0.21 < 1
    assert smb["payback_months"] == pytest.approx(600 / 45.2)               # 13.27
    assert smb["verdict"] == "margin-draining"
    assert smb["verdict_rule"] == "net LTV : CAC 0.21 < 1"


def test_the_all_customers_cac_is_the_blended_cac_when_a_new_customer_has_no_channel():
    """March's $600 of "ads" spend goes to s1b (the only ads customer new in March); s2 has no channel:
    Unattributed, no CAC. SMB's CAC is s1b's $600; all customers' CAC is the blended CAC, all spend / all
    new customers = 600 / 2 = $300 (DEFINITIONS.md CAC), the figure the Overview's tile names."""
    acquisition = pd.concat([ACQUISITION, pd.DataFrame({
        "customer_id": ["s1b"], "first_paid_month": pd.to_datetime(["2024-03-01"]), "channel": ["ads"],
        "segment": ["SMB"], "value_tier": ["SMB"]})], ignore_index=True)
    ledger = pd.concat([LEDGER, _ledger([("s1b", "2024-03-01", 10000), ("s1b", "2024-04-01", 10000)])],
                       ignore_index=True)
    at_d = pd.concat([AT_D, pd.DataFrame({"customer_id": ["s1b"], "segment": ["SMB"]})], ignore_index=True)
    spend = SPEND.assign(channel=["ads"])
    inputs = EconomicsInputs(ledger=ledger, segment_at_d=at_d, segment_history=HISTORY, acquisition=acquisition,
                             usage=USAGE, window_months=3, spend=spend, as_of=D(2024, 5, 1),
                             revenue_model="subscription")
    out = segment_economics(inputs, ASSUME)
    smb, blended = out.table.set_index("segment").loc["SMB"], out.blended.iloc[0]
    assert smb["cac"] == pytest.approx(600.0) and smb["unattributed_new_customers"] == 1
    assert blended["blended_cac"] == pytest.approx(300.0) and blended["cac"] == pytest.approx(300.0)
    assert blended["net_ltv_cac"] == pytest.approx(blended["net_ltv"] / 300.0)


def test_a_segment_without_new_customers_in_the_window_has_no_cac(result):
    ent = _row(result, "Enterprise")
    assert math.isnan(ent["cac"]) and "no new customers" in ent["note"]
    assert "small sample (1 paying customer, 1 churn event): churn 95% interval" in ent["note"]


def test_enough_customers_with_no_churn_read_no_churn_observed_not_a_small_sample():
    # Online Retail's Power segment: 548 paying customers and 0 churn events read "small sample (548 ...)".
    table = segment_economics(_inputs(), replace(ASSUME, min_customers=1)).table.set_index("segment")
    assert table.loc["SMB", "note"].startswith("few churn events (1) among 2 paying customers: churn 95% interval")
    assert table.loc["Enterprise", "note"].startswith("few churn events (1) among 1 paying customer: churn 95%")
    # e1 and s1 alone: nobody churns
    kept = lambda frame: frame[frame["customer_id"].isin(["e1", "s1"])]  # noqa: E731
    steady = EconomicsInputs(ledger=kept(LEDGER), segment_at_d=kept(AT_D), segment_history=kept(HISTORY),
                             acquisition=kept(ACQUISITION), usage=kept(USAGE), window_months=3, spend=SPEND,
                             as_of=D(2024, 5, 1), revenue_model="subscription")
    note = segment_economics(steady, replace(ASSUME, min_customers=1)).table.set_index("segment").loc["SMB", "note"]
    assert note.startswith("no churn observed among 1 paying customer: churn 95% interval 0.0%-"), note


def test_without_spend_cac_needs_spend_data_and_the_verdict_rests_on_contribution():
    out = segment_economics(_inputs(spend=None), ASSUME, symbol="$").table.set_index("segment")
    assert math.isnan(out.loc["SMB", "cac"]) and "needs spend data" in out.loc["SMB", "note"]
    assert out.loc["SMB", "verdict"] == "healthy"
    assert out.loc["SMB", "verdict_rule"].startswith("contribution per customer-month $45.20 >= 0")


def test_net_ltv_spans_the_churn_interval_for_a_small_sample():
    """SMB: 1 churn in 5 customer-months. Wilson 95% (z = 1.96, n = 5, p = 0.2): centre (0.2 + 0.38416) /
    1.76832 = 0.330347, half-width 1.96 x sqrt(0.032 + 0.038416) / 1.76832 = 0.294122, so churn 3.62%-62.45%.
    Net LTV = contribution 45.20 x lifetime - onboarding 100: 45.20 / 0.624469 - 100 = -27.62 at the high
    churn end, 45.20 / 0.036225 - 100 = 1,147.8 at the low end (27.6 months, under the 60-month cap);
    the point figure, 45.20 x 5 - 100 = 126, lies between. A segment with no churn exposure has none."""
    out = segment_economics(_inputs(spend=None), ASSUME).table.set_index("segment")
    smb = out.loc["SMB"]
    assert smb["logo_churn_low"] == pytest.approx(0.036225, abs=1e-5)
    assert smb["logo_churn_high"] == pytest.approx(0.624469, abs=1e-5)
    assert smb["net_ltv_low"] == pytest.approx(-27.62, abs=0.01)
    assert smb["net_ltv_high"] == pytest.approx(1147.8, abs=0.1)
    assert smb["net_ltv"] == pytest.approx(126.0) and smb["net_ltv_low"] < 126.0 < smb["net_ltv_high"]
    # Enterprise: churn low 3.0% -> 1 / 0.030053 = 33.3 months; a churn of 0 would take the 60-month cap.
    ent = out.loc["Enterprise"]
    assert ent["net_ltv_high"] == pytest.approx(870 / ent["logo_churn_low"] - 1000)
    assert math.isnan(out.loc["Churned", "net_ltv_low"]) and math.isnan(out.loc["Churned", "net_ltv_high"])


def test_verdict_rules_claim_no_currency_the_data_does_not_state():
    """Amounts in a rule carry the data's currency symbol; without one (an order export with no currency)
    they carry none, as every tile does, and a negative amount reads with its sign first."""
    out = segment_economics(_inputs(spend=None), ASSUME).table.set_index("segment")
    assert out.loc["SMB", "verdict_rule"].startswith("contribution per customer-month 45.20 >= 0")
    assert not out["verdict_rule"].str.contains("$", regex=False).any()
    euro = segment_economics(_inputs(spend=None), ASSUME, symbol="€").table.set_index("segment")
    assert euro.loc["SMB", "verdict_rule"].startswith("contribution per customer-month €45.20 >= 0")
    a = parse_assumptions({})
    assert verdict(math.nan, math.nan, -12.5, False, a, symbol="£") == (
        "margin-draining", "contribution per customer-month -£12.50 < 0")
    assert verdict(math.nan, math.nan, 217.0, False, a, net_ltv=-318.0)[1].startswith("net LTV -318 < 0")


def test_without_cac_a_negative_net_ltv_is_margin_draining_whatever_cac_would_be():
    """Contribution $217 a month over 5 months (1,085) against $1,403 of onboarding: net LTV -318, so
    net LTV : CAC < 0 < 1 for any CAC >= 0 (DEFINITIONS.md "Verdict"); the Online Retail "Self-serve" case."""
    a = parse_assumptions({})
    word, rule = verdict(math.nan, math.nan, 217.0, False, a, net_ltv=217.0 * 5 - 1403.0, symbol="$")
    assert word == "margin-draining"
    assert rule == ("net LTV -$318 < 0: onboarding costs more than a lifetime of contribution, so net LTV : CAC "
                    "< 1 whatever CAC is")
    assert verdict(math.nan, math.nan, 217.0, True, a, net_ltv=-318.0)[0] == "margin-draining"  # CAC unmeasured
    assert verdict(math.nan, math.nan, 217.0, False, a, net_ltv=0.0)[0] == "healthy"
    assert verdict(math.nan, math.nan, 217.0, False, a)[0] == "healthy"              # net LTV unknown
    # With spend data, a CAC is missing only because nobody was acquired into the segment (a tenure stage):
    # the rule says so instead of asking for spend data the user has loaded.
    assert verdict(math.nan, math.nan, 217.0, False, a, net_ltv=500.0)[1].endswith("needs spend data to test "
                                                                                   "net LTV : CAC >= 3 and payback "
                                                                                   "<= 18 months")
    assert verdict(math.nan, math.nan, 217.0, True, a, net_ltv=500.0, symbol="$")[1] == (
        "contribution per customer-month $217.00 >= 0; net LTV : CAC and payback not tested: no customer was "
        "acquired into this segment in the window, so it has no CAC")
    costly = parse_assumptions({"gross_margin_by_segment": {"Enterprise": 0.9},
                                "onboarding_cost": {"Enterprise": 1000, "SMB": 1000}})
    out = segment_economics(_inputs(spend=None), costly).table.set_index("segment")   # SMB: 45.20 x 5 - 1000
    assert out.loc["SMB", "net_ltv"] < 0 and out.loc["SMB", "verdict"] == "margin-draining"


def test_the_blended_row_covers_every_customer(result):
    b = result.blended.iloc[0]
    assert (b["customers"], b["paying_customers"], b["mrr"], b["arpa"]) == (5, 3, 1200.0, 400.0)
    assert (b["churn_exposure"], b["churn_events"]) == (11, 2)
    assert b["gross_margin"] == pytest.approx((1000 * 0.9 + 200 * 0.8) / 1200)   # MRR-weighted 0.8833


def test_zero_churn_takes_the_lifetime_cap_and_is_flagged():
    ledger = LEDGER[LEDGER["customer_id"].isin(["e1"])]
    inputs = EconomicsInputs(ledger=ledger, segment_at_d=AT_D[AT_D.customer_id == "e1"],
                             segment_history=HISTORY[HISTORY.customer_id == "e1"],
                             acquisition=ACQUISITION[ACQUISITION.customer_id == "e1"], usage=USAGE,
                             window_months=3, spend=None, as_of=D(2024, 5, 1))
    ent = segment_economics(inputs, ASSUME).table.iloc[0]
    assert ent["logo_churn"] == 0.0 and ent["ltv_capped"]
    assert ent["ltv"] == pytest.approx(1000 * 0.9 * 60)                    # cap 60 months
    assert ent["net_ltv"] == pytest.approx(870 * 60 - 1000)


def test_cac_pools_spend_and_leaves_customers_without_a_channel_unattributed():
    acq = pd.DataFrame({
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "first_paid_month": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-03-01", "2024-03-01",
                                            "2024-02-01", "2024-02-01"]),
        "channel": ["ads", "ads", "ads", None, "seo", "partners"],
        "value_tier": ["SMB", "SMB", "SMB", "SMB", "SMB", "Enterprise"],
    })
    spend = pd.DataFrame({
        "month": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01", "2024-02-01", "2024-01-01"]),
        "amount": [300.0, 120.0, 60.0, 500.0, 70.0],
        "channel": ["ads", "ads", "ads", None, "events"],
        "segment": [None, None, None, "Enterprise", None],
    })
    out = attribute_cac(acq, spend, D(2024, 1, 1), D(2024, 3, 1)).set_index("customer_id")["cac"]
    assert out["c1"] == 150.0 and out["c2"] == 150.0      # Jan ads 300 / 2
    assert out["c3"] == 180.0                             # Feb ads 120 had no ads customer: pools to Mar + 60
    assert math.isnan(out["c4"])                          # no channel: Unattributed, not blended
    assert out["c5"] == 0.0                               # seo had no spend
    assert out["c6"] == 500.0                             # Enterprise-tier spend goes to the tier directly
    # the Jan "events" 70 found no customer within its 3-month window and is left unattributed


def test_pooled_spend_expires_after_three_months():
    acq = pd.DataFrame({"customer_id": ["c1"], "first_paid_month": pd.to_datetime(["2024-04-01"]),
                        "channel": ["ads"], "value_tier": ["SMB"]})
    spend = pd.DataFrame({"month": pd.to_datetime(["2024-01-01", "2024-02-01"]), "amount": [100.0, 40.0],
                          "channel": ["ads", "ads"], "segment": [None, None]})
    # Jan spend is usable Jan-Mar only; Feb spend Feb-Apr: c1 in Apr gets 40
    assert attribute_cac(acq, spend, D(2024, 4, 1), D(2024, 4, 1))["cac"].tolist() == [40.0]


@pytest.mark.parametrize("ratio, payback, contribution, expected", [
    (3.0, 18.0, 10.0, "healthy"),           # both thresholds met exactly
    (3.0, 18.01, 10.0, "marginal"),         # payback just too long
    (2.99, 10.0, 10.0, "marginal"),
    (1.0, 30.0, 10.0, "marginal"),          # exactly 1 is not below 1
    (0.99, 30.0, 10.0, "margin-draining"),
    (5.0, 5.0, -0.01, "margin-draining"),   # negative contribution overrides a good ratio
    (5.0, 5.0, 0.0, "healthy"),
])
def test_verdict_boundaries(ratio, payback, contribution, expected):
    assert verdict(ratio, payback, contribution, True, parse_assumptions({}))[0] == expected


def test_wilson_interval_matches_the_published_formula():
    # 1 of 10, z = 1.96: centre (0.1 + 0.19208) / 1.38416 = 0.21110, half 0.16568 -> (0.0179, 0.4042)
    low, high = wilson_interval(1, 10)
    assert low == pytest.approx(0.01787, abs=1e-4) and high == pytest.approx(0.40415, abs=1e-4)


def test_waterfall_steps_run_from_revenue_to_what_is_left_after_cac(result):
    steps = waterfall(_row(result, "SMB")).set_index("step")["amount"]
    # per customer over 5 months: revenue 500, COGS -100, support -170, infra -4, onboarding -100
    assert steps.round(6).to_dict() == {
        "Revenue over lifetime": 500.0, "Cost of goods": -100.0, "Support": -170.0, "Infra": -4.0,
        "Onboarding": -100.0, "Net LTV": 126.0, "CAC": -600.0, "Left after CAC": -474.0}
    relative = steps.drop(["Net LTV", "Left after CAC"])
    assert relative.drop("CAC").sum() == pytest.approx(126.0)
    # without CAC (no spend data) it ends at net LTV: a CAC of 0 would read as customers won for free
    unknown = waterfall({**_row(result, "SMB"), "cac": float("nan")}).set_index("step")["amount"]
    assert list(unknown.index) == list(steps.index[:-2]) and unknown["Net LTV"] == pytest.approx(126.0)
    # a cost no loaded table measures is left out, not drawn as 0; the totals stand
    lean = waterfall({**_row(result, "SMB"), "support_cost_pcm": 0.0, "infra_cost_pcm": 0.0,
                      "net_ltv": 300.0, "cac": float("nan")}, unmeasured={"Support", "Infra"})
    assert lean["step"].tolist() == ["Revenue over lifetime", "Cost of goods", "Onboarding", "Net LTV"]
    assert lean.loc[lean["measure"] == "relative", "amount"].sum() + 500.0 == pytest.approx(300.0)


def test_onboarding_is_the_mean_over_customers_acquired_not_over_those_who_never_paid():
    """DEFINITIONS.md: onboarding cost per new customer. A trial who never paid sits in a segment at D
    (here SMB, and every customer in the blended row) but was never onboarded: SMB's s1 and s2 cost $100
    each, so $100, not (100 + 100 + 0) / 3; blended: e1-e3 $1,000, s1 s2 $100 over 5 acquired = $640."""
    at_d = pd.concat([AT_D, pd.DataFrame({"customer_id": ["t1"], "segment": ["SMB"]})], ignore_index=True)
    inputs = EconomicsInputs(ledger=LEDGER, segment_at_d=at_d, segment_history=HISTORY, acquisition=ACQUISITION,
                             usage=USAGE, window_months=3, spend=SPEND, as_of=D(2024, 5, 1),
                             revenue_model="subscription")
    out = segment_economics(inputs, ASSUME)
    smb = out.table.set_index("segment").loc["SMB"]
    assert (smb["customers"], smb["onboarding_cost"]) == (3, 100.0)
    assert out.blended.iloc[0]["onboarding_cost"] == pytest.approx(640.0)


def test_transactional_churn_by_segment_follows_the_inactivity_rule():
    # Orders (N = 90 days), as of 2024-08-01: window Apr-Jul. The data starts in January: a month's
    # customers at risk bought in the 90 days before it, all in the data from April (Jan 1 + 90 days = Mar 31;
    # in February and March nobody could churn yet: economics.ledger.first_churn_month).
    # a: Jan 5, Feb 10, Jun 1 -> churn dated May 10; active at the start of Apr, May, and Jul (its Jun run
    #    started after Jun 1) = 3 customer-months, 1 churn.
    # b: Jan 2 only -> churn dated Apr 1; active at the start of Apr = 1, 1 churn.
    orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
                           "date": pd.to_datetime(["2024-01-05", "2024-02-10", "2024-06-01", "2024-01-02"]),
                           "amount_cents": [1000, 2000, 500, 3000]})
    ledger = _ledger([("a", "2024-01-01", 1000), ("a", "2024-02-01", 2000), ("a", "2024-06-01", 500),
                      ("b", "2024-01-01", 3000)])
    months = pd.date_range("2024-02-01", "2024-07-01", freq="MS")
    history = pd.DataFrame({"customer_id": ["a"] * 6 + ["b"] * 3,
                            "month": list(months) + list(months[:3]),
                            "segment": ["Retail"] * 6 + ["Wholesale"] * 3})
    inputs = EconomicsInputs(
        ledger=ledger, segment_at_d=pd.DataFrame({"customer_id": ["a", "b"], "segment": ["Retail", "Wholesale"]}),
        segment_history=history,
        acquisition=pd.DataFrame({"customer_id": ["a", "b"], "first_paid_month": pd.to_datetime(["2024-01-01"] * 2),
                                  "channel": [None, None], "segment": ["Retail", "Wholesale"],
                                  "value_tier": ["SMB", "SMB"]}),
        usage=pd.DataFrame({"customer_id": []}), window_months=3, spend=None, as_of=D(2024, 8, 1),
        revenue_model="transactional", revenue=orders)
    out = segment_economics(inputs, parse_assumptions({})).table.set_index("segment")
    assert (out.loc["Retail", "churn_exposure"], out.loc["Retail", "churn_events"]) == (3, 1)
    assert out.loc["Retail", "logo_churn"] == pytest.approx(1 / 3)
    assert (out.loc["Wholesale", "churn_exposure"], out.loc["Wholesale", "churn_events"]) == (1, 1)
    assert out.loc["Wholesale", "logo_churn"] == pytest.approx(1.0)
    assert segment_economics(inputs, parse_assumptions({})).window == (pd.Timestamp("2024-04-01"),
                                                                       pd.Timestamp("2024-07-01"))


def test_a_ratio_just_under_the_threshold_is_not_shown_as_the_threshold():
    word, rule = verdict(2.9975, 8.8, 100.0, True, parse_assumptions({}))
    assert word == "marginal" and "2.9975" in rule


def test_a_segment_without_paying_customers_has_no_verdict(result):
    churned = _row(result, "Churned")
    assert churned["verdict"] == "n/a" and churned["verdict_rule"] == "no paying customers: nothing to measure"


def test_nrr_and_grr_by_segment_use_the_segment_at_the_start_of_the_twelve_months():
    # As of 2025-02-01: L = Jan 2025, base month Jan 2024, segments at the start of Feb 2024.
    # A: x $100 -> $150, y $100 -> $50: NRR 200 / 200 = 1.0, GRR (100 + 50) / 200 = 0.75
    # B: z $100 -> gone: NRR = GRR = 0
    ledger = _ledger([("x", "2024-01-01", 10000), ("x", "2025-01-01", 15000), ("y", "2024-01-01", 10000),
                      ("y", "2025-01-01", 5000), ("z", "2024-01-01", 10000)])
    history = pd.DataFrame({"customer_id": ["x", "y", "z"], "month": pd.to_datetime(["2024-02-01"] * 3),
                            "segment": ["A", "A", "B"]})
    inputs = EconomicsInputs(
        ledger=ledger, segment_at_d=pd.DataFrame({"customer_id": ["x", "y", "z"], "segment": ["A", "A", "B"]}),
        segment_history=history,
        acquisition=pd.DataFrame({"customer_id": ["x", "y", "z"],
                                  "first_paid_month": pd.to_datetime(["2024-01-01"] * 3),
                                  "channel": ["ads"] * 3, "segment": ["A", "A", "B"], "value_tier": ["SMB"] * 3}),
        usage=pd.DataFrame({"customer_id": []}), window_months=12, spend=None, as_of=D(2025, 2, 1))
    out = segment_economics(inputs, parse_assumptions({"min_customers": 1}))
    t = out.table.set_index("segment")
    assert (t.loc["A", "nrr"], t.loc["A", "grr"]) == (pytest.approx(1.0), pytest.approx(0.75))
    assert (t.loc["B", "nrr"], t.loc["B", "grr"]) == (0.0, 0.0)
    assert out.blended.iloc[0]["nrr"] == pytest.approx(200 / 300)     # all: (150 + 50 + 0) / 300
    assert out.blended.iloc[0]["grr"] == pytest.approx(150 / 300)
    # Under min_customers customers paying 12 months before, NRR and GRR are not rated, as revenue churn is
    # not over a small revenue base: a lifecycle's Mature (2 customers) read NRR 105% beside 2.9% churn.
    out = segment_economics(inputs, parse_assumptions({"min_customers": 3}))
    t = out.table.set_index("segment")
    assert t.loc[["A", "B"], ["nrr", "grr"]].isna().all().all()
    assert "NRR and GRR not rated: 2 customers paying 12 months before" in t.loc["A", "note"]
    assert "NRR and GRR not rated: 1 customer paying 12 months before" in t.loc["B", "note"]
    assert out.blended.iloc[0]["nrr"] == pytest.approx(200 / 300)   # all three: rated


def test_month_starts_of_dates_timestamps_and_text_keep_missing_values():
    from economics.unit import _month_ts

    values = pd.Series([date(2026, 2, 28), pd.Timestamp("2025-12-31 23:59:59"), None, "2024-02-29"],
                       dtype=object, index=[5, 6, 7, 8], name="month")
    expected = pd.Series(pd.to_datetime(["2026-02-01", "2025-12-01", None, "2024-02-01"]).astype("datetime64[us]"),
                         index=[5, 6, 7, 8], name="month")
    pd.testing.assert_series_equal(_month_ts(values), expected)
    seconds = pd.Series(pd.to_datetime(["2026-07-01", "2026-07-31"]).astype("datetime64[s]"))
    assert _month_ts(seconds).tolist() == [pd.Timestamp("2026-07-01")] * 2


@pytest.mark.parametrize("values", [
    ["2026-01-01", "2026-01-01", "2026-01-15", "2026-02-01", "2026-04-01", "2026-04-01"],   # sorted: runs
    ["2026-02-01", "2026-01-01", "2026-02-01", "2026-04-01", "2026-01-20", "2026-01-01"],   # unsorted
    ["2026-01-01", None, "2026-02-01", "2026-02-01"],                                       # a missing month
    ["2026-02-01"],
])
def test_month_positions_of_sorted_and_unsorted_columns(values):
    """_month_positions: each row's month start among the wanted months, -1 for other months and missing
    ones; a sorted column (read as runs of equal values) and any other give the same positions."""
    from economics.unit import _month_positions

    wanted = [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01"), pd.Timestamp("2026-03-01")]
    months = pd.Series(pd.to_datetime(values).astype("datetime64[us]"))
    expected = [wanted.index(m.replace(day=1)) if pd.notna(m) and m.replace(day=1) in wanted else -1
                for m in months]
    got = _month_positions(months, wanted)
    assert got.tolist() == expected and got.dtype == np.int64


@pytest.mark.parametrize("categorical", [False, True])
@pytest.mark.parametrize("segments", [3, 127, 128, 40_000])
def test_history_rows_read_back_every_label_whatever_the_number_of_segments(segments, categorical):
    """Each customer's segment at each month start is read through the row of segment_history holding it
    (economics.unit._history_rows): whole whatever the number of segments, the last of two rows for one
    customer and month, and no label (UNLABELLED) for a customer without a row."""
    from economics.unit import UNLABELLED, _history_rows, _history_segments

    months = [pd.Timestamp("2026-01-01"), pd.Timestamp("2026-02-01")]
    n = segments + 1
    names = [f"s{i}" for i in range(segments)]
    history = pd.DataFrame({"month": np.repeat(np.array(months + [months[1]], dtype="datetime64[us]"),
                                               [segments, segments, 1]),
                            "segment": names + names[::-1] + ["late"]})
    if categorical:   # as the pipeline passes labels: int8 codes up to 127 categories
        history["segment"] = history["segment"].astype("category")
    codes = np.concatenate([np.arange(segments), np.arange(segments), [0]])
    rows = _history_rows(history, codes, months, n)
    hist, labels = _history_segments(history)
    assert labels[hist[rows[0]]][:segments].tolist() == names
    assert labels[hist[rows[1]]][1:segments].tolist() == names[::-1][1:]
    assert labels[hist[rows[1, 0]]] == "late"                       # two rows: the last one
    assert labels[hist[rows[0, segments]]] == UNLABELLED            # a customer without a row


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["Enterprise", "SMB", "Unknown", None]), max_size=12), st.booleans())
def test_segment_codes_follow_first_appearance_with_missing_labels_as_unknown(labels, categorical):
    """segment_economics sums by segment code: the segments in order of first appearance, a missing label
    counted as "Unknown" (one segment with a real "Unknown" label), as the per-customer strings gave it."""
    from economics.unit import _segment_codes

    # categorical: with a category no customer holds, as label_all's labels have
    segment = pd.Series(labels, dtype=pd.CategoricalDtype(["Mid-market", "Enterprise", "SMB", "Unknown"])
                        if categorical else "object")
    filled = segment.astype("object").fillna("Unknown")
    code, names = _segment_codes(segment)
    assert names == list(pd.unique(filled))
    assert [names[c] for c in code] == filled.tolist()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.sampled_from([0.0, 0.0, 0.0, 1.0, 2.5, -3.0])), max_size=40),
       st.booleans())
def test_sums_by_segment_equal_a_groupby_of_the_rows_dense_or_sparse(rows, sort):
    """The per-segment sums read every row (dense) or the nonzero rows alone (`_sparse`), with two codes
    carrying one name (merged): the same frame as a pandas groupby of the rows."""
    from economics.unit import _sparse, _sum_by_segment

    names = np.array(["Unknown", "SMB", "Enterprise", "Unknown", "Mid-market"], dtype=object)
    seg = np.array([c for c, _ in rows], dtype="int64")
    weights = np.array([w for _, w in rows], dtype="float64")
    sparse = _sparse(weights)
    expected = (pd.DataFrame({"segment": names[seg], "v": weights}).groupby("segment", sort=True).sum()
                .reset_index())
    for values in (weights, (np.flatnonzero(weights), weights[weights != 0]), sparse):
        got = _sum_by_segment(seg, names, {"v": values}, sort=sort)
        if not sort:
            got = got.sort_values("segment", ignore_index=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_a_low_nonzero_churn_takes_the_lifetime_cap_too():
    """DEFINITIONS.md LTV: lifetime = min(1 / churn, 60), for every churn, not only churn 0. As of 2025-01-01
    (L = Dec 2024, window Jan-Dec 2024): eight SMB customers pay $100 from Dec 2023 to Dec 2024 (8 x 12 = 96
    customer-months at risk); x pays $100 Dec 2023-Mar 2024 and churns in April (at risk Jan-Apr: 4, 1 event).
    Churn 1 / 100 = 1%: 1 / churn = 100 months, capped at 60. ARPA $100, margin 0.8, no usage, onboarding
    $1,500 (SMB default): LTV 100 x 0.8 x 60 = 4,800 (not 8,000); net LTV 80 x 60 - 1,500 = 3,300 (not 6,500).
    The interval's low-churn end (Wilson low 0.18% -> 565 months) is capped as well: net_ltv_high = 3,300."""
    months = pd.date_range("2023-12-01", "2024-12-01", freq="MS")
    steady = [f"s{i}" for i in range(8)]
    rows = [(c, str(m.date()), 10000) for c in steady for m in months]
    rows += [("x", str(m.date()), 10000) for m in months[:4]]          # Dec 2023 - Mar 2024
    ledger = _ledger(rows)
    ids = steady + ["x"]
    window = pd.date_range("2024-01-01", "2024-12-01", freq="MS")
    history = pd.DataFrame([(c, m, "SMB") for c in ids for m in window], columns=["customer_id", "month", "segment"])
    inputs = EconomicsInputs(
        ledger=ledger, segment_at_d=pd.DataFrame({"customer_id": ids, "segment": ["SMB"] * 9}),
        segment_history=history,
        acquisition=pd.DataFrame({"customer_id": ids, "first_paid_month": pd.to_datetime(["2023-12-01"] * 9),
                                  "channel": [None] * 9, "segment": ["SMB"] * 9, "value_tier": ["SMB"] * 9}),
        usage=pd.DataFrame({"customer_id": []}), window_months=12, spend=None, as_of=date(2025, 1, 1),
        revenue_model="subscription")
    smb = segment_economics(inputs, parse_assumptions({})).table.set_index("segment").loc["SMB"]
    assert (smb["churn_exposure"], smb["churn_events"]) == (100, 1)
    assert smb["logo_churn"] == pytest.approx(0.01)
    assert smb["lifetime_months"] == 60.0 and smb["ltv_capped"]
    assert smb["ltv"] == pytest.approx(100 * 0.8 * 60)                      # 4,800
    assert smb["net_ltv"] == pytest.approx(80 * 60 - 1500)                  # 3,300
    assert smb["net_ltv_high"] == pytest.approx(80 * 60 - 1500)             # low-churn end capped too


def test_blended_cac_counts_only_the_spend_of_the_window():
    """Blended CAC = all spend in the churn window / all new customers in it (economics.unit
    segment_economics docstring; DEFINITIONS.md CAC). January's $400 (before the Feb-Apr window) went to
    January's new customers (e1, e2, e3, s1), none of them in the window: blended CAC stays March's $600 / s2
    = $600, not (400 + 600) / 1 = $1,000."""
    spend = pd.concat([SPEND, pd.DataFrame({"month": pd.to_datetime(["2024-01-01"]), "amount": [400.0],
                                            "channel": [None], "segment": [None]})], ignore_index=True)
    out = segment_economics(_inputs(spend=spend), ASSUME)
    assert out.table.set_index("segment").loc["SMB", "cac"] == pytest.approx(600.0)
    assert out.blended.iloc[0]["blended_cac"] == pytest.approx(600.0)
    assert out.blended.iloc[0]["cac"] == pytest.approx(600.0)


def test_with_no_churn_window_yet_blended_cac_is_not_measured_rather_than_zero():
    """As of 1 Feb 2024 the only complete month is January, the data's first: no churn window (churn counts
    from the second month). Its four new customers were read with no spend, and the blended CAC read $0 (and
    the Overview's payback "0.0 mo") beside January's $400 of spend. It is not measured: NaN, as per segment."""
    january = LEDGER[LEDGER["month"] < pd.Timestamp("2024-02-01")]
    spend = pd.DataFrame({"month": pd.to_datetime(["2024-01-01"]), "amount": [400.0], "channel": [None],
                          "segment": [None]})
    inputs = EconomicsInputs(ledger=january, segment_at_d=AT_D, segment_history=HISTORY.iloc[:0],
                             acquisition=ACQUISITION.iloc[:4], usage=USAGE, window_months=3, spend=spend,
                             as_of=D(2024, 2, 1), revenue_model="subscription")
    out = segment_economics(inputs, ASSUME)
    assert out.window == (None, None)
    blended = out.blended.iloc[0]
    assert math.isnan(blended["blended_cac"]) and math.isnan(blended["cac"]) and math.isnan(blended["payback_months"])
    assert out.table["cac"].isna().all()


def test_support_minutes_without_a_cost_are_priced_once_at_the_rate_set():
    """DEFINITIONS.md "Cost to serve": support cost = ticket minutes x cost per minute. At $2 a minute, e1's 60
    minutes (no support_cost given) cost $120 over 3 months: $40 per customer-month (the fixture's default of
    $1 a minute cannot tell minutes x rate from minutes x rate x rate). SMB: s1 120 min x $2 = 240 + s2's
    own $50 = 290 over 5 customer-months = $58."""
    out = segment_economics(_inputs(spend=None), replace(ASSUME, support_cost_per_minute=2.0))
    t = out.table.set_index("segment")
    assert t.loc["Enterprise", "support_cost_pcm"] == pytest.approx(40.0)
    assert t.loc["SMB", "support_cost_pcm"] == pytest.approx(58.0)
