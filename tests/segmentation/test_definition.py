"""The definition file: defaults, round trip, and errors that name the key."""
from __future__ import annotations

import datetime as dt

import pytest

from segmentation.definition import (
    RFM_CODES, DefinitionError, default_definition, default_toml, dump_definition, load_definition, with_updates,
)
from segmentation.features import customer_features, feature_params
from segmentation.schemes import label_all

from .conftest import D


def _rfm_rule(r: int, f: int, m: int) -> str:
    # The rule documented in defaults.toml, written out again independently.
    fm = (f + m) / 2
    if r >= 4 and fm >= 4:
        return "Champions"
    if r >= 3 and fm >= 3:
        return "Loyal"
    if r >= 4:
        return "Promising"
    if r == 3:
        return "Needs attention"
    if fm >= 4.5:
        return "Can't lose them"
    if fm >= 3:
        return "At-risk"
    return "Dormant"


def test_shipped_defaults_hold_the_seed_values():
    d = default_definition()
    assert [(b.label, b.lower) for b in d.value_tier.bands] == [
        ("Self-serve", 0), ("SMB", 1000), ("Mid-market", 10000), ("Enterprise", 50000)]
    assert (d.behavior.new_days, d.behavior.dormant_days, d.behavior.power_top_pct,
            d.behavior.light_bottom_pct) == (30, 30, 20.0, 30.0)
    assert [(b.label, b.lower) for b in d.lifecycle.bands] == [
        ("Onboarding", 0), ("Adopting", 30), ("Established", 90), ("Mature", 365)]
    assert [(b.label, b.lower) for b in d.health.bands] == [
        ("Critical", 0), ("At-risk", 20), ("Neutral", 40), ("Healthy", 60), ("Champions", 80)]
    assert d.features.inactivity_days == 90 and d.features.lookback_days is None


def test_shipped_rfm_map_covers_all_125_codes_by_the_documented_rule():
    d = default_definition()
    assert len(RFM_CODES) == 125
    assert d.rfm_map == {f"{r}{f}{m}": _rfm_rule(r, f, m)
                         for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)}
    assert {"Champions", "Loyal", "Promising", "At-risk", "Dormant"} <= set(d.rfm_map.values())


def test_load_dump_load_gives_an_equal_definition_and_identical_labels(tiny_tables):
    d = with_updates(default_definition(), meta={"name": "Board Q3", "date": dt.date(2026, 10, 1)},
                     behavior={"power_top_pct": 25.0}, features={"lookback_days": 365})
    again = load_definition(dump_definition(d))
    assert again == d
    assert hash(again) == hash(d)
    assert again.meta.name == "Board Q3" and again.meta.date == dt.date(2026, 10, 1)
    feats = customer_features(tiny_tables, D, feature_params(d))
    a, b = label_all(feats, d), label_all(feats, again)
    assert a.astype("str").equals(b.astype("str"))


def test_default_toml_text_loads_to_the_default_definition():
    assert load_definition(default_toml()) == default_definition()
    assert load_definition("") == default_definition()


def test_with_updates_changes_one_threshold_and_validates():
    d = with_updates(default_definition(), behavior={"light_bottom_pct": 40.0})
    assert d.behavior.light_bottom_pct == 40.0 and d.behavior.power_top_pct == 20.0
    with pytest.raises(DefinitionError, match="behavior.light_bottom_pct"):
        with_updates(default_definition(), behavior={"light_bottom_pct": -1.0})


@pytest.mark.parametrize("toml_text, key", [
    ("[behavior]\npower_pct = 10", "behavior.power_pct"),
    ("colour = 'red'", "colour"),
    ("[health.weights]\nusage = -0.5", "health.weights.usage"),
    ("[health.weights]\nmood = 1.0", "health.weights.mood"),
    ("[firmographic.icp_weights]\nindustry = -1", "firmographic.icp_weights.industry"),
    ("[behavior]\npower_top_pct = 120", "behavior.power_top_pct"),
    ("[behavior]\nlight_bottom_pct = -5", "behavior.light_bottom_pct"),
    ("[behavior]\npower_top_pct = 60\nlight_bottom_pct = 50", "behavior.power_top_pct"),
    ("[features]\nlookback_days = 'forever'", "features.lookback_days"),
    ("[rfm.segments]\n\"555\" = \"Champions\"", "rfm.segments"),
    ("[rfm.segments]\n\"655\" = \"Champions\"", "rfm.segments.\"655\""),
    ("[cross]\nmin_size = -3", "cross.min_size"),
    ("[meta]\ndate = 'last tuesday'", "meta.date"),
])
def test_invalid_definitions_name_the_key(toml_text, key):
    with pytest.raises(DefinitionError) as err:
        load_definition(toml_text)
    assert key in str(err.value)


def test_overlapping_bands_are_refused_naming_both_bands():
    text = ("[value_tier]\nbands = [{label='Low', lower=0, upper=1000}, {label='High', lower=900}]")
    with pytest.raises(DefinitionError, match=r"value_tier.bands.*overlap.*Low.*High"):
        load_definition(text)


def test_bands_with_a_gap_are_refused():
    text = ("[lifecycle]\nbands = [{label='Young', lower=0, upper=30}, {label='Old', lower=60}]")
    with pytest.raises(DefinitionError, match=r"lifecycle.bands.*gap.*Young.*Old"):
        load_definition(text)


def test_bands_must_start_at_zero_and_end_open():
    with pytest.raises(DefinitionError, match=r"health.bands\[0\].*start at 0"):
        load_definition("[health]\nbands = [{label='A', lower=10, upper=50}, {label='B', lower=50}]")
    with pytest.raises(DefinitionError, match=r"firmographic.size_bands\[1\].*last band"):
        load_definition("[firmographic]\nsize_bands = [{label='A', lower=0, upper=50}, "
                        "{label='B', lower=50, upper=100}]")


def test_all_zero_health_weights_are_refused():
    with pytest.raises(DefinitionError, match="health.weights"):
        load_definition("[health.weights]\nusage = 0\nrecency = 0\ntrend = 0\nsupport = 0\nnps = 0")


def test_invalid_toml_is_reported():
    with pytest.raises(DefinitionError, match="not valid TOML"):
        load_definition("[behavior\nnew_days = 3")


@pytest.mark.parametrize("expr, words", [
    ("events_30d > 1; DROP TABLE features", "';' is not allowed"),
    ("events_30d > (SELECT max(events_30d) FROM features)", "subqueries"),
    ("EXISTS (SELECT 1 FROM duckdb_settings())", "subqueries"),
    ("length(read_text('/etc/passwd')) > 0", "read_text"),
    ("(SELECT count(*) FROM read_csv('/etc/passwd')) > 0", "subqueries"),
    ("events_30d >= AND 3", "not valid SQL"),
    ("", "empty"),
])
def test_bad_custom_rules_are_refused_naming_the_rule(expr, words):
    text = f"[custom]\nrules = [{{name = 'Sneaky', expr = {expr!r}}}]"
    with pytest.raises(DefinitionError) as err:
        load_definition(text)
    assert "custom.rules[0]" in str(err.value) or "Sneaky" in str(err.value)
    assert words in str(err.value)


def test_economics_table_is_kept_raw():
    d = load_definition("[economics]\ngross_margin = 0.7\n")
    assert d.economics == {"gross_margin": 0.7}
    assert load_definition(dump_definition(d)).economics == {"gross_margin": 0.7}


def test_economics_table_is_validated_by_the_economics_package():
    with pytest.raises(DefinitionError, match=r"economics.*gross_margin"):
        load_definition("[economics]\ngross_margin = 1.5\n")


def test_support_cost_per_minute_comes_from_the_economics_table():
    assert feature_params(load_definition("[economics]\nsupport_cost_per_minute = 2.5\n")).support_cost_per_minute == 2.5
    assert feature_params(default_definition()).support_cost_per_minute == 1.0


def test_inactivity_days_cannot_differ_between_features_and_economics():
    with pytest.raises(DefinitionError, match=r"economics.inactivity_days.*features.inactivity_days"):
        load_definition("[features]\ninactivity_days = 60\n[economics]\ninactivity_days = 90\n")
    assert load_definition("[features]\ninactivity_days = 60\n[economics]\ninactivity_days = 60\n").features.inactivity_days == 60


def test_firmographic_attributes_round_trip_and_refuse_a_built_in_name():
    from segmentation.definition import DefinitionError, default_definition, dump_definition, load_definition, \
        with_updates

    # Named as the export writes them or as they are stored (ingest.mapping.column_name), listed once.
    defn = with_updates(default_definition(),
                        firmographic={"attributes": ["Contract", "PaymentMethod", "contract", "Country/Region"]})
    assert defn.firmographic.attributes == ("contract", "payment_method", "country_region")
    assert load_definition(dump_definition(defn)).firmographic.attributes == defn.firmographic.attributes
    assert default_definition().firmographic.attributes == ()
    for bad in (["behavior"], ["Value Tier"], ["a+b"], [""], "Contract"):
        with pytest.raises(DefinitionError, match="firmographic.attributes"):
            with_updates(default_definition(), firmographic={"attributes": bad})


def test_reserved_scheme_names_cover_every_built_in_scheme_and_label_column():
    """definition.RESERVED_SCHEME_NAMES is written out (schemes imports definition): it must not drift from
    the schemes and label columns it protects."""
    from segmentation.definition import RESERVED_SCHEME_NAMES
    from segmentation.schemes import SCHEMES

    label_columns = {"customer_id", "mrr", "value_tier", "behavior", "lifecycle", "health_score", "health_band",
                     "r_score", "f_score", "m_score", "rfm_code", "rfm_segment", "size_band", "icp_fit", "goal",
                     "custom"}
    assert set(SCHEMES) | label_columns <= RESERVED_SCHEME_NAMES
