"""The words that say what each number means: every segment economics column has them, they carry the
assumptions in force, and on order data they never say MRR (DEFINITIONS.md "Revenue")."""
from __future__ import annotations

import pandas as pd

from economics.assumptions import Assumptions, describe_assumptions, parse_assumptions
from economics.glossary import BOARD_PACK_TERMS, metric_definitions
from economics.kpis import headline_kpis
from economics.unit import ECONOMICS_COLUMNS


def test_every_column_of_segment_economics_is_defined_and_the_board_pack_terms_are_among_them():
    define = metric_definitions(Assumptions())
    assert set(define) == set(ECONOMICS_COLUMNS)
    assert set(BOARD_PACK_TERMS) <= set(define)
    assert all(text.strip().endswith(".") for text in define.values())


def test_the_definitions_carry_the_assumptions_in_force():
    a = Assumptions(lifetime_cap_months=48, churn_window_months=6, healthy_ltv_cac=4.0, healthy_payback_months=12.0,
                    draining_ltv_cac=1.5, support_cost_per_minute=2.5, onboarding_cost={"Enterprise": 8000.0})
    define = metric_definitions(a, symbol="€")
    assert "at most 48 months" in define["ltv"] and "at most 48 months" in define["lifetime_months"]
    assert "(the last 6 complete months, fewer when the data is shorter; the months used are named with the " \
        "figures)" in define["logo_churn"]
    assert "(the last 6 complete months" in define["cac"]
    one = metric_definitions(parse_assumptions({"churn_window_months": 1}))   # a CRM snapshot's default
    assert "(the last complete month)" in one["logo_churn"] and "1 complete month, per" in one["support_cost_pcm"]
    assert "churn pooled over 1 complete month;" in describe_assumptions(parse_assumptions({"churn_window_months": 1}))
    # the setting, not the window used: Online Retail's tiles pooled 9 months beside "12 complete months"
    assert "churn pooled over up to 12 complete months;" in describe_assumptions(parse_assumptions({}))
    assert "net LTV:CAC >= 4 and payback <= 12 months" in define["verdict"]
    assert "net LTV:CAC < 1.5" in define["verdict"]
    assert "€2.50 a minute" in define["support_cost_pcm"] and "Enterprise €8,000" in define["onboarding_cost"]
    # Seats are named only when they have a cost.
    assert "seats" not in define["infra_cost_pcm"]
    assert "seats x €3.00" in metric_definitions(Assumptions(infra_cost_per_seat=3.0), symbol="€")["infra_cost_pcm"]


def test_on_order_data_the_words_follow_the_inactivity_rule_and_never_say_mrr():
    define = metric_definitions(Assumptions(inactivity_days=60), "transactional")
    assert not [col for col, text in define.items() if "MRR" in text]
    assert "no purchase for 60 days" in define["logo_churn"]
    assert "customers active at the start of each month" in define["logo_churn"]
    assert "bought in the last complete month" in define["paying_customers"]
    # Online Retail's window was 9 months where the words said 12 (churn cannot be seen before 90 days)
    assert "or starts less than 60 days before them: nobody can churn sooner" in define["logo_churn"]
    assert define["mrr"].startswith("Monthly revenue of the last complete month")
    subscription = metric_definitions(Assumptions())
    assert "customers paying at the start of each month" in subscription["logo_churn"]
    assert "MRR > 0" in subscription["paying_customers"]
    # the costs per customer-month are those of the customers paying at the end, as computed (they said "paying
    # customers in the last 12 complete months", which reads as every customer who paid in the window)
    assert "of the segment's customers with MRR > 0 in the last complete month, over the last 12 complete months" \
        in subscription["support_cost_pcm"] and "customers who left are not in it" in subscription["tickets_pcm"]


def test_the_overview_tiles_say_what_the_unit_economics_table_says():
    a = Assumptions(lifetime_cap_months=36)
    moves = pd.DataFrame({"month": pd.date_range("2025-01-01", periods=14, freq="MS"),
                          "customers_end": range(14), "ending_mrr": [1000.0] * 14})
    blended = pd.Series({"logo_churn": 0.02, "net_ltv_cac": 3.0, "payback_months": 9.0, "cac": 500.0, "note": ""})
    tiles = {k.label: k.help for k in headline_kpis(moves, (1.0, 0.9), (1.0, 0.9), blended, blended, (None, None), a)}
    define = metric_definitions(a)
    assert tiles["NRR (12 months)"] == define["nrr"] and tiles["GRR (12 months)"] == define["grr"]
    assert tiles["CAC payback"] == define["payback_months"] and tiles["Blended CAC"] == define["blended_cac"]
    assert define["net_ltv"] in tiles["Net LTV : CAC (blended)"]
    assert "at most 36 months" in tiles["Net LTV : CAC (blended)"]


def test_order_data_calls_expansion_spend_growth_and_no_currency_names_none():
    from economics.assumptions import parse_assumptions
    from economics.glossary import metric_definitions

    a = parse_assumptions({})
    assert metric_definitions(a, "subscription")["expansion_rate"].startswith("Expansion MRR / MRR")
    orders = metric_definitions(a, "transactional", "")
    assert orders["expansion_rate"].startswith("Spend growth") and "reads high" in orders["expansion_rate"]
    assert "$" not in orders["support_cost_pcm"] and "$" not in orders["onboarding_cost"]
