"""The [economics] assumptions: defaults, validation naming the key, and the TOML round trip."""
from __future__ import annotations

import pytest
import tomllib
import tomli_w

from economics.assumptions import (Assumptions, AssumptionsError, assumptions_to_dict, default_assumptions,
                                   parse_assumptions)


def test_defaults_are_the_documented_values():
    a = default_assumptions()
    assert a.gross_margin == 0.80
    assert a.support_cost_per_minute == 1.00
    assert a.infra_cost_per_event == 0.001
    assert dict(a.onboarding_cost) == {"Enterprise": 10000, "Mid-market": 3000, "SMB": 1500, "Self-serve": 0}
    assert (a.churn_window_months, a.inactivity_days, a.lifetime_cap_months) == (12, 90, 60)
    assert (a.healthy_ltv_cac, a.healthy_payback_months, a.draining_ltv_cac) == (3.0, 18, 1.0)
    assert (a.min_customers, a.min_churn_events) == (30, 5)


def test_an_empty_table_gives_the_defaults():
    assert parse_assumptions({}) == Assumptions()


def test_a_segment_margin_override_applies_only_to_that_segment():
    a = parse_assumptions({"gross_margin": 0.7, "gross_margin_by_segment": {"Enterprise": 0.9}})
    assert a.margin_for("Enterprise") == 0.9
    assert a.margin_for("SMB") == 0.7


def test_assumptions_survive_a_toml_round_trip():
    a = parse_assumptions({"gross_margin_by_segment": {"SMB": 0.6}, "onboarding_cost": {"SMB": 10},
                           "churn_window_months": 6})
    again = parse_assumptions(tomllib.loads(tomli_w.dumps(assumptions_to_dict(a))))
    assert again == a
    assert hash(again) == hash(a)


@pytest.mark.parametrize("raw, key", [
    ({"gross_margn": 0.8}, "gross_margn"),
    ({"gross_margin": 1.2}, "gross_margin"),
    ({"gross_margin_by_segment": {"SMB": -0.1}}, "gross_margin_by_segment.SMB"),
    ({"support_cost_per_minute": -1}, "support_cost_per_minute"),
    ({"onboarding_cost": {"Enterprise": -5}}, "onboarding_cost.Enterprise"),
    ({"infra_cost_per_event": "cheap"}, "infra_cost_per_event"),
    ({"churn_window_months": 0}, "churn_window_months"),
    ({"inactivity_days": 2.5}, "inactivity_days"),
    ({"draining_ltv_cac": 4.0}, "draining_ltv_cac"),
])
def test_a_bad_value_is_refused_with_its_key_named(raw, key):
    with pytest.raises(AssumptionsError, match=key.replace(".", r"\.")):
        parse_assumptions(raw)


def test_assumptions_error_is_a_value_error():
    assert issubclass(AssumptionsError, ValueError)
