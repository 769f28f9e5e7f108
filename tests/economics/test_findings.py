"""The Overview's findings, with spend data and without (CAC unknown: they rest on contribution)."""
from __future__ import annotations

import math

import pandas as pd

from economics.findings import top_findings

NAN = math.nan


def _segment(name: str, **values) -> dict:
    row = {"segment": name, "paying_customers": 100, "verdict": "healthy", "net_ltv_cac": NAN, "cac": NAN,
           "blended_cac": NAN, "contribution_pcm": 50.0, "support_share_of_revenue": 0.1, "net_ltv": 1000.0,
           "payback_months": NAN, "mrr": 5000.0, "mrr_share": 0.25, "share": 0.2, "logo_churn": 0.02,
           "logo_churn_low": 0.01, "logo_churn_high": 0.03, "onboarding_cost": 0.0, "lifetime_months": 20.0}
    return {**row, **values}


def _findings(*rows: dict, **options) -> list:
    return top_findings([pd.DataFrame(rows)], pd.Series({"logo_churn": 0.025}), "$", 30, **options)


def test_without_spend_data_a_segment_losing_money_each_month_is_named_with_its_contribution():
    bad, good, churn = _findings(
        _segment("Self-serve", verdict="margin-draining", contribution_pcm=-12.4, support_share_of_revenue=0.61,
                 net_ltv=-300.0, logo_churn=0.05, logo_churn_low=0.04, logo_churn_high=0.061),
        _segment("Enterprise", mrr=90000.0, mrr_share=0.75, share=0.1, contribution_pcm=4000.0, net_ltv=2e5))
    assert (bad.segment, bad.severity) == ("Self-serve", "bad")
    # A negative contribution is lost, not "given back" ("gives back -$12" before).
    assert bad.text == ("**Self-serve** drains margin: each customer loses $12 a month after gross margin, "
                        "support and infra (100 paying customers). Support takes 61% of its revenue; CAC needs "
                        "spend data.")
    assert good.text == ("**Enterprise** pays its way: each customer gives back $4,000 a month after costs (net "
                         "LTV $200,000); it brings 75% of MRR from 10% of customers. CAC needs spend data.")
    assert churn.text == ("Monthly logo churn is 2.5% overall; **Self-serve** churns fastest at 5.0% a month (95% "
                          "interval 4.0-6.1%).")


def test_without_spend_data_a_segment_whose_net_ltv_is_negative_is_never_said_to_pay_its_way():
    (good, _) = _findings(_segment("Self-serve", mrr=9000.0, net_ltv=-318.0),   # onboarding > lifetime margin
                          _segment("Mid-market", mrr=3000.0, mrr_share=0.1, share=0.02, net_ltv=95000.0),
                          revenue_word="revenue")
    assert good.segment == "Mid-market" and "10% of revenue from 2% of customers" in good.text


def test_a_segment_whose_cac_was_measured_comes_before_a_larger_one_whose_cac_was_not():
    measured = _segment("SMB", mrr=2000.0, net_ltv_cac=4.2, cac=800.0, blended_cac=900.0, payback_months=7.5)
    unmeasured = _segment("Partners", mrr=8000.0, blended_cac=900.0)
    good = _findings(unmeasured, measured)[0]
    assert good.text == ("**SMB** pays: net LTV:CAC 4.20x, CAC paid back in 7.5 months; it brings 25% of MRR "
                         "from 20% of customers.")
    alone = _findings(unmeasured)[0]
    assert alone.text.endswith("Its CAC is not measured (no new customers with a channel in the window).")


def test_a_segment_below_the_minimum_paying_customers_is_not_quoted():
    assert _findings(_segment("Tiny", paying_customers=29, verdict="margin-draining", contribution_pcm=-5.0)) == []


def test_a_segment_whose_onboarding_outweighs_its_lifetime_contribution_is_named_with_both():
    (bad, _) = _findings(_segment("Self-serve", verdict="margin-draining", contribution_pcm=217.0,
                                  lifetime_months=5.1, onboarding_cost=1428.0, net_ltv=-318.0, paying_customers=727))
    assert bad.text == ("**Self-serve** drains margin: onboarding a customer costs $1,428 (by the value tier each had "
                        "when acquired), more than the $217 a month it gives back over 5 months (net LTV -$318; 727 "
                        "paying customers). CAC needs spend data.")


def test_a_segment_that_pays_its_way_on_no_observed_churn_says_its_lifetime_is_the_cap():
    # Online Retail by behaviour: Power had 0 churn events (order churn is dated 90 days after the last
    # purchase, when a customer is Dormant already), so its net LTV is the 60-month cap's, not a measure.
    (good,) = [f for f in _findings(_segment("Power", ltv_capped=True, churn_events=0, lifetime_months=60.0,
                                             logo_churn=0.0, logo_churn_low=0.0, logo_churn_high=0.01))
               if f.severity == "good"]
    assert good.text.endswith("No customer of it churned in the window: its lifetime is assumed at the "
                              "60-month cap.")
    (measured,) = [f for f in _findings(_segment("Power", ltv_capped=True, churn_events=3, lifetime_months=60.0))
                   if f.severity == "good"]
    assert "assumed" not in measured.text   # capped after measured churn: the cap is the rule, not a guess


def test_ratios_read_as_their_verdict_rule_prints_them_and_shares_are_of_the_paying_customers():
    """A draining segment at 0.996x read "1.00x" (beside a rule saying < 1); "50% of MRR from 4% of customers"
    counted never-paid sign-ups in the 4% (Enterprise is 7% of the paying customers who bring all MRR)."""
    draining = _segment("SMB", verdict="margin-draining", net_ltv_cac=0.996, cac=1500.0, contribution_pcm=20.0)
    paying = _segment("Enterprise", net_ltv_cac=11.96, payback_months=4.8, mrr=600_000.0, mrr_share=0.5,
                      share=0.04, paying_customers=106)
    bad, good, _ = top_findings([pd.DataFrame([draining, paying])],
                                pd.Series({"logo_churn": 0.03, "paying_customers": 1549}), "$", 30)
    assert bad.text.startswith("**SMB** drains margin: net LTV:CAC 0.9960x.")
    assert "each gives back $20 a month" in bad.text
    bad, *_ = top_findings([pd.DataFrame([{**draining, "contribution_pcm": -14.2}, paying])],
                           pd.Series({"logo_churn": 0.03, "paying_customers": 1549}), "$", 30)
    assert "each loses $14 a month after gross margin" in bad.text
    assert good.text == ("**Enterprise** pays: net LTV:CAC 11.96x, CAC paid back in 4.8 months; it brings 50% of "
                         "MRR from 7% of paying customers.")
