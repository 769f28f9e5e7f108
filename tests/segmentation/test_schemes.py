"""Every scheme at its exact thresholds, plus hand-computed percentile, health, RFM and ICP examples."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from segmentation.definition import default_definition, with_updates
from segmentation.rules import RuleError
from segmentation.schemes import (
    Distribution, _top_k, available_schemes, attribute, behavior, custom, goal, health_band, health_components,
    health_score, icp_fit, label_all,
    learn_icp_profile, lifecycle, reference_of, rfm_scores, rfm_segment, scheme_name, segment_order, size_band,
    value_tier,
)

DEFN = default_definition()


def frame(**cols) -> pd.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"customer_id": [f"C{i:02d}" for i in range(n)]}
    return pd.DataFrame(base | {k: list(v) for k, v in cols.items()})


def labels(series: pd.Series) -> list[str]:
    return [str(x) for x in series]


def test_value_tier_bands_include_their_lower_edge_and_exclude_the_upper():
    arr = [0.01, 999.99, 1000, 9999.99, 10000, 49999.99, 50000, 2e6, 0.0, np.nan]
    f = frame(arr=arr, mrr=[a / 12 if a == a else np.nan for a in arr])
    assert labels(value_tier(f, DEFN)) == [
        "Self-serve", "Self-serve", "SMB", "SMB", "Mid-market", "Mid-market", "Enterprise", "Enterprise",
        "Not paying", "Not paying"]


def test_value_tier_bands_move_with_the_definition():
    d = with_updates(DEFN, value_tier={"bands": [{"label": "Small", "lower": 0, "upper": 5000},
                                                 {"label": "Big", "lower": 5000}]})
    f = frame(arr=[4999.0, 5000.0], mrr=[4999 / 12, 5000 / 12])
    assert labels(value_tier(f, d)) == ["Small", "Big"]
    assert segment_order("value_tier", d) == ["Big", "Small", "Not paying"]


def test_lifecycle_bands_by_tenure_and_churned_customers_are_lapsed():
    tenure = [0, 29, 30, 89, 90, 364, 365, 2000, 400]
    churned = [False] * 8 + [True]
    f = frame(tenure_days=tenure, churned=churned)
    assert labels(lifecycle(f, DEFN)) == ["Onboarding", "Onboarding", "Adopting", "Adopting", "Established",
                                          "Established", "Mature", "Mature", "Lapsed"]


def test_size_band_by_employees_and_unknown_when_missing():
    f = frame(employees=[1, 9, 10, 49, 50, 249, 250, 999, 1000, np.nan])
    assert labels(size_band(f, DEFN)) == ["1-9", "1-9", "10-49", "10-49", "50-249", "50-249", "250-999",
                                          "250-999", "1000+", "Unknown size"]


def test_health_band_edges_and_no_score():
    f = frame(health_score=[0, 19.99, 20, 39.99, 40, 59.99, 60, 79.99, 80, 100, np.nan])
    assert labels(health_band(f, DEFN)) == ["Critical", "Critical", "At-risk", "At-risk", "Neutral", "Neutral",
                                            "Healthy", "Healthy", "Champions", "Champions", "No usage data"]


def test_behavior_precedence_new_then_no_data_then_dormant():
    # tenure 29 is New even when never active; tenure 30 never active -> No usage data;
    # recency exactly 30 -> Dormant; recency 29 -> ranked (the only ranked one: share below 0 -> Light).
    f = frame(tenure_days=[29, 30, 30, 30], recency_days=[np.nan, np.nan, 30, 29],
              active_days_30d=[0, 0, 0, 1])
    assert labels(behavior(f, DEFN)) == ["New", "No usage data", "Dormant", "Light"]


def test_behavior_power_is_the_top_20_percent_and_light_the_bottom_30():
    # 10 ranked customers, active days 1..10: share below = 0/10 .. 9/10.
    # Power: share below >= 0.8 -> 9, 10.  Light: share below < 0.3 -> 1, 2, 3.
    f = frame(tenure_days=[100] * 10, recency_days=[1] * 10, active_days_30d=range(1, 11))
    assert labels(behavior(f, DEFN)) == ["Light"] * 3 + ["Active"] * 5 + ["Power"] * 2


def test_behavior_ties_share_the_lower_rank():
    # values 1 x4, 2 x4, 3 x2: share below 0, 0.4, 0.8 -> 1s Light (40%, ties), 2s Active, 3s Power.
    f = frame(tenure_days=[100] * 10, recency_days=[1] * 10, active_days_30d=[1, 1, 1, 1, 2, 2, 2, 2, 3, 3])
    assert labels(behavior(f, DEFN)) == ["Light"] * 4 + ["Active"] * 4 + ["Power"] * 2


def test_behavior_cut_offs_move_with_the_definition():
    d = with_updates(DEFN, behavior={"power_top_pct": 50.0, "light_bottom_pct": 10.0})
    f = frame(tenure_days=[100] * 10, recency_days=[1] * 10, active_days_30d=range(1, 11))
    # Power: share below >= 0.5 -> 6..10; Light: share below < 0.1 -> 1.
    assert labels(behavior(f, d)) == ["Light"] + ["Active"] * 4 + ["Power"] * 5


def test_behavior_falls_back_to_frequency_without_events():
    f = frame(tenure_days=[100] * 4, recency_days=[1] * 4, active_days_30d=[np.nan] * 4,
              events_30d=[np.nan] * 4, frequency=[1, 2, 3, 4])
    # share below 0, .25, .5, .75: Light < .3 -> 1, 2; Power >= .8 -> none.
    assert labels(behavior(f, DEFN)) == ["Light", "Light", "Active", "Active"]


def test_behavior_cut_offs_from_a_reference_are_reused_on_other_data():
    ref = reference_of(frame(tenure_days=[100] * 10, recency_days=[1] * 10, active_days_30d=range(1, 11)), DEFN)
    assert ref.cutoffs(DEFN) == {"power_above": 8.0, "light_at_most": 3.0}
    later = frame(tenure_days=[100] * 4, recency_days=[1] * 4, active_days_30d=[3, 4, 8, 9])
    assert labels(behavior(later, DEFN, ref)) == ["Light", "Active", "Active", "Power"]


def test_health_score_reweights_missing_inputs_away():
    d = with_updates(DEFN, health={"weights": {"usage": 1.0, "recency": 0.0, "trend": 0.0, "support": 1.0,
                                               "nps": 1.0}})
    f = frame(active_days_30d=[0, 5, 10, 10], support_minutes_90d=[0, 30, 30, np.nan],
              nps_latest=[np.nan, 7, np.nan, 10])
    # percentile rank = (customers worse + half the customers tied) / n x 100
    # usage (ref 0, 5, 10, 10): 0 -> (0 + .5) / 4 = 12.5; 5 -> (1 + .5) / 4 = 37.5; 10 -> (2 + 1) / 4 = 75
    # support, less is better (ref 0, 30, 30): 0 -> (2 + .5) / 3 = 83.333; 30 -> (0 + 1) / 3 = 33.333
    # nps x 10: -, 70, -, 100
    # c1 (12.5 + 83.333) / 2 = 47.917; c2 (37.5 + 33.333 + 70) / 3 = 46.944; c3 (75 + 33.333) / 2 = 54.167;
    # c4 (75 + 100) / 2 = 87.5
    score = health_score(f, d)
    np.testing.assert_allclose(score, [47.9166667, 46.9444444, 54.1666667, 87.5], rtol=1e-6)
    assert labels(health_band(f.assign(health_score=score), d)) == ["Neutral", "Neutral", "Neutral", "Champions"]


def test_health_components_kept_give_the_scores_of_a_weights_edit_without_ranking_again():
    f = frame(active_days_30d=[0, 5, 10, 10], support_minutes_90d=[0, 30, 30, np.nan],
              nps_latest=[np.nan, 7, np.nan, 10])
    comps = health_components(f, DEFN)
    # The ranks of the example above (weights play no part): usage 12.5, 37.5, 75, 75; support 83.333,
    # 33.333, 33.333, -; nps -, 70, -, 100; recency and trend have no input.
    np.testing.assert_allclose(comps["usage"], [12.5, 37.5, 75, 75])
    np.testing.assert_allclose(comps["support"], [83.3333333, 33.3333333, 33.3333333, np.nan], rtol=1e-6)
    np.testing.assert_allclose(comps["nps"], [np.nan, 70, np.nan, 100])
    assert comps[["recency", "trend"]].isna().all().all()
    # Usage weighted 3, support 1, nps 0: c1 (3 x 12.5 + 83.333) / 4 = 30.208; c2 (3 x 37.5 + 33.333) / 4 =
    # 36.458; c3 (3 x 75 + 33.333) / 4 = 64.583; c4 (support missing) 75.
    d = with_updates(DEFN, health={"weights": {"usage": 3.0, "recency": 0.0, "trend": 0.0, "support": 1.0,
                                               "nps": 0.0}})
    kept = health_score(f, d, components=comps)
    np.testing.assert_allclose(kept, [30.2083333, 36.4583333, 64.5833333, 75.0], rtol=1e-6)
    pd.testing.assert_series_equal(kept, health_score(f, d))


def test_health_score_without_any_input_is_missing_and_banded_no_usage_data():
    f = frame(nps_latest=[np.nan, 8])
    assert np.isnan(health_score(f, DEFN).iloc[0])
    assert labels(health_band(f, DEFN)) == ["No usage data", "Champions"]


def test_rfm_scores_match_a_hand_computed_example_with_ties():
    # 5 active customers (n = 5) and one without an active day.
    # recency  1, 1, 10, 30, 60: customers strictly less recent (rank_min - 1 with most recent ranked top):
    #          3, 3, 2, 1, 0 -> r = 1 + floor(5 x k / 5) = 4, 4, 3, 2, 1 (the tied most recent share 4)
    # frequency 10, 5, 5, 2, 1: strictly below 4, 2, 2, 1, 0 -> f = 5, 3, 3, 2, 1
    # monetary 500, 100, 100, 100, 50: strictly below 4, 1, 1, 1, 0 -> m = 5, 2, 2, 2, 1
    f = frame(recency_days=[1, 1, 10, 30, 60, np.nan], frequency=[10, 5, 5, 2, 1, 0],
              monetary=[500, 100, 100, 100, 50, 0])
    s = rfm_scores(f, DEFN)
    assert s["r_score"].tolist() == [4, 4, 3, 2, 1, pd.NA]
    assert s["f_score"].tolist() == [5, 3, 3, 2, 1, pd.NA]
    assert s["m_score"].tolist() == [5, 2, 2, 2, 1, pd.NA]
    assert [None if pd.isna(c) else c for c in s["rfm_code"]] == ["455", "432", "332", "222", "111", None]
    # 455: R 4, (F+M)/2 = 5 -> Champions; 432: R 4, 2.5 -> Promising; 332: R 3, 2.5 -> Needs attention;
    # 222, 111 -> Dormant.
    assert labels(rfm_segment(s, DEFN)) == ["Champions", "Promising", "Needs attention", "Dormant", "Dormant",
                                            "No activity"]


def test_rfm_score_uses_the_floor_of_five_times_rank_share():
    # n = 7 recencies 3, 3, 3, 8, 8, 20, 40: customers strictly less recent 4, 4, 4, 2, 2, 1, 0
    # r = 1 + floor(5 x k / 7): k=4 -> 1 + floor(2.857) = 3; k=2 -> 1 + floor(1.43) = 2; k=1 -> 1; k=0 -> 1
    f = frame(recency_days=[3, 3, 3, 8, 8, 20, 40], frequency=[1] * 7, monetary=[10] * 7)
    assert rfm_scores(f, DEFN)["r_score"].tolist() == [3, 3, 3, 2, 2, 1, 1]
    # all tied: nobody strictly below -> every f and m score is 1
    assert rfm_scores(f, DEFN)["f_score"].tolist() == [1] * 7


def test_rfm_segment_uses_the_editable_map():
    segments = dict(DEFN.rfm.segments) | {"455": "Best"}
    d = with_updates(DEFN, rfm={"segments": segments})
    f = frame(recency_days=[1, 1, 10, 30, 60], frequency=[10, 5, 5, 2, 1], monetary=[500, 100, 100, 100, 50])
    assert labels(rfm_segment(f, d))[0] == "Best"


def test_icp_fit_matches_the_given_profile_and_reweights_missing_attributes():
    d = with_updates(DEFN, firmographic={"icp_weights": {"industry": 1.0, "size_band": 1.0},
                                         "icp_profile": {"industry": ["Software"], "size_band": ["50-249"]}})
    f = frame(industry=["Software", "Software", "Retail", None], employees=[120, np.nan, 120, np.nan])
    # Software+50-249 -> 2/2; Software, size unknown -> 1/1; Retail+50-249 -> 1/2; nothing known -> NaN
    np.testing.assert_allclose(icp_fit(f, d), [100.0, 100.0, 50.0, np.nan])


def test_icp_profile_is_learned_from_the_top_revenue_decile():
    # 20 paying customers; the top 10% (2) by revenue are Software; Software is 4/20 = 20% overall,
    # 100% of the top group >= 1.5 x 20% -> profile industry = Software.
    industry = ["Software", "Software"] + ["Retail"] * 8 + ["Software"] * 2 + ["Health"] * 8
    f = frame(industry=industry, total_revenue=[1000, 900] + list(range(1, 19)))
    d = with_updates(DEFN, firmographic={"icp_weights": {"industry": 1.0}})
    assert learn_icp_profile(f, d) == {"industry": ("Software",)}


def test_icp_top_group_takes_tied_revenues_in_row_order():
    # 20 payers, top 10% = 2 customers. Rows 3, 7 and 9 tie at the top revenue: rows 3 and 7 make the group
    # (a stable sort), so Software and Health (each 1/20 overall, 1/2 of the group) are the profile, not Retail.
    industry = ["Other"] * 20
    industry[3], industry[7], industry[9] = "Software", "Health", "Retail"
    revenue = list(range(1, 21))
    revenue[3] = revenue[7] = revenue[9] = 1000
    d = with_updates(DEFN, firmographic={"icp_weights": {"industry": 1.0}})
    assert learn_icp_profile(frame(industry=industry, total_revenue=revenue), d) == {"industry": ("Health", "Software")}


def test_top_group_by_partial_sort_equals_a_full_stable_sort():
    revenue = np.random.default_rng(7).integers(1, 20, 1000).astype("float64")   # many ties
    rows = np.flatnonzero(revenue > 3)
    for k in (0, 1, 7, 100, len(rows), len(rows) + 5):
        expected = rows[np.argsort(-revenue[rows], kind="stable")[:k]]
        np.testing.assert_array_equal(_top_k(revenue, rows, k), expected)


def test_ranks_count_reference_values_below_and_tied_also_for_values_the_reference_lacks():
    # Reference 0, 1, 2, 2, 5 (NaN left out): n = 5. Values it holds are looked up, the others (-1, 0.5, 3, 6,
    # NaN) placed by binary search; -0.0 is 0; NaN ranks past every value.
    ref = Distribution.of(np.array([0, 1, 2, 2, 5, np.nan]))
    values = np.array([-0.0, 0.5, 1, 2, 3, 5, 6, np.nan, -1])
    below, ties = ref.below_and_ties(values)
    assert below.tolist() == [0, 1, 1, 2, 4, 4, 5, 5, 0]
    assert ties.tolist() == [1, 0, 1, 2, 0, 1, 0, 0, 0]
    assert ref.n == 5 and ref.values.tolist() == [0, 1, 2, 5]


def test_label_all_labels_text_columns_as_the_schemes_do_on_their_own():
    # label_all hands the schemes its text columns as categoricals (each hashed once); called alone, the
    # schemes read them as given. Labels, their order and the ICP fit must be the same either way, whatever
    # the column type: str, object with numbers ("1" and 1 read the same), pandas "string", categorical.
    d = with_updates(DEFN, custom={"rules": []})
    f = frame(industry=["Retail", None, "", "Software", "Retail", " ", "Software"],
              country=["US", "DE", "US", None, "US", "DE", "FR"],
              plan=pd.Series([1, "1", 2.0, None, "Team", 1, "Team"], dtype=object),
              stated_goal=["Save time", None, "Save time", "Grow", "", "Grow", "Grow"],
              employees=[5, 60, np.nan, 300, 60, 5, 2000], total_revenue=[100, 900, 50, 1000, 20, 0, 800])
    expected = {"industry": attribute(f, "industry"), "country": attribute(f, "country"), "plan": attribute(f, "plan"),
                "goal": goal(f, d), "icp_fit": icp_fit(f, d)}
    # Retail and Software 2 each (by name), blanks and nulls Unknown; plan: "1" three times, "Team", "2.0".
    assert labels(expected["industry"]) == ["Retail", "Unknown", "Unknown", "Software", "Retail", "Unknown",
                                            "Software"]
    assert list(expected["industry"].cat.categories) == ["Retail", "Software", "Unknown"]
    assert list(expected["plan"].cat.categories) == ["1", "Team", "2.0", "Unknown"]
    text = ["industry", "country", "plan", "stated_goal"]
    for g in (f, f.astype({c: "string" for c in text if c != "plan"}), f.astype({c: "category" for c in text})):
        out = label_all(g, d)
        for col, want in expected.items():
            pd.testing.assert_series_equal(out[col], want, check_names=False)


def test_goal_and_attribute_schemes_name_missing_values():
    f = frame(stated_goal=["Save time", None, ""], industry=["Retail", None, "Retail"])
    assert labels(goal(f, DEFN)) == ["Save time", "Not stated", "Not stated"]
    assert labels(attribute(f, "industry")) == ["Retail", "Unknown", "Retail"]
    # A customer without a channel is "Unattributed", the word CAC uses for it (DEFINITIONS.md), and last.
    f = frame(channel=["Organic", None, "Partners", "Organic"])
    assert labels(attribute(f, "channel")) == ["Organic", "Unattributed", "Partners", "Organic"]
    assert segment_order("channel", DEFN, attribute(f, "channel"))[-1] == "Unattributed"
    assert segment_order("channel", DEFN, attribute(f, "channel").astype(str)) == ["Organic", "Partners",
                                                                                  "Unattributed"]


def test_an_attribute_with_more_values_than_16_bit_codes_hold_keeps_every_label():
    # 40,000 distinct cities: codes past 32,767 once wrapped around to other cities' labels.
    cities = [f"City {i:05d}" for i in range(40_000)]
    f = frame(city=cities + [None])
    got = attribute(f, "city")
    assert labels(got) == cities + ["Unknown"]
    assert got.cat.categories[-1] == "Unknown"


def test_only_a_custom_rule_naming_an_active_user_count_makes_labelling_read_it():
    from segmentation.schemes import reads_users

    assert not reads_users(DEFN)      # the default rules read events, features used, health and tenure
    for expr in ("active_users_30d >= 3", 'SEAT_PCT_OF_LIMIT > 80', '"active_users_30d" > 1'):
        assert reads_users(with_updates(DEFN, custom={"rules": [{"name": "Teams", "expr": expr}]})), expr
    assert not reads_users(with_updates(DEFN, custom={"rules": [{"name": "Busy", "expr": "events_30d > 9"}]}))


def test_custom_rules_first_match_wins_and_missing_inputs_do_not_match():
    f = frame(events_30d=[25, 25, 1, np.nan], features_used_30d=[6, 1, 1, 9], health_score=[90, 30, 30, 10],
              tenure_days=[100, 100, 100, 100])
    # row 0: both rules true -> first wins; row 1: second rule; row 2: second; row 3: NULL events -> second rule
    assert labels(custom(f, DEFN)) == ["Engaged power users", "Unhappy veterans", "Unhappy veterans",
                                       "Unhappy veterans"]
    d = with_updates(DEFN, custom={"rules": [{"name": "Heavy", "expr": "events_30d >= 20"}]})
    assert labels(custom(f, d)) == ["Heavy", "Heavy", "Everyone else", "Everyone else"]


def test_custom_rule_with_an_unknown_column_names_the_rule_and_the_column():
    d = with_updates(DEFN, custom={"rules": [{"name": "Whales", "expr": "lifetime_value > 10"}]})
    with pytest.raises(RuleError, match=r"Whales.*lifetime_value"):
        custom(frame(events_30d=[1]), d)


def test_custom_rule_that_is_not_a_condition_is_refused():
    d = with_updates(DEFN, custom={"rules": [{"name": "Sum", "expr": "events_30d + 1"}]})
    with pytest.raises(RuleError, match=r"'Sum'.*not true/false"):
        custom(frame(events_30d=[1]), d)


def test_label_all_gives_every_label_column_and_custom_rules_see_scores():
    f = frame(tenure_days=[10, 200], recency_days=[1, 1], active_days_30d=[3, 5], events_30d=[30, 2],
              features_used_30d=[6, 1], mrr=[100.0, 0.0], arr=[1200.0, 0.0], churned=[False, False],
              frequency=[3, 5], monetary=[100.0, 0.0], nps_latest=[np.nan, 1], industry=["A", "B"])
    out = label_all(f, DEFN)
    assert list(out.columns) == ["customer_id", "mrr", "value_tier", "behavior", "lifecycle", "health_score",
                                 "health_band", "r_score", "f_score", "m_score", "rfm_code", "rfm_segment",
                                 "size_band", "icp_fit", "goal", "industry", "custom"]
    assert labels(out["value_tier"]) == ["SMB", "Not paying"]
    assert labels(out["custom"])[0] == "Engaged power users"


def test_available_schemes_follow_the_columns_and_rules():
    no_rules = with_updates(DEFN, custom={"rules": []})
    assert available_schemes(["customer_id", "signup_date", "industry", "employees"], no_rules) == [
        "value_tier", "behavior", "lifecycle", "health_band", "rfm_segment", "size_band", "goal", "industry"]
    assert "custom" in available_schemes(["customer_id"], DEFN)


def test_health_score_exactly_on_a_band_edge_takes_the_upper_band():
    # only NPS known: 8 x 10 = 80 -> Champions; 2 x 10 = 20 -> At-risk; 6 x 10 = 60 -> Healthy
    f = frame(nps_latest=[8, 2, 6])
    assert health_score(f, DEFN).tolist() == [80.0, 20.0, 60.0]
    assert labels(health_band(f, DEFN)) == ["Champions", "At-risk", "Healthy"]


def test_scheme_names_say_annual_revenue_on_order_data_and_arr_on_subscriptions():
    assert scheme_name("value_tier") == "Value tier (ARR)"
    assert scheme_name("value_tier", "transactional") == "Value tier (annual revenue)"
    assert scheme_name("behavior", "transactional") == "Behaviour"
    assert scheme_name("employee_band") == "Employee band"   # a scheme without a name of its own


def test_rows_listed_in_the_scheme_order_with_other_segments_last():
    from segmentation.schemes import in_segment_order

    frame = pd.DataFrame({"segment": ["SMB", "Other", "Enterprise", "Zeta", "Not paying"], "n": range(5)})
    out = in_segment_order(frame, ["Enterprise", "SMB", "Not paying"])
    assert out["segment"].tolist() == ["Enterprise", "SMB", "Not paying", "Other", "Zeta"]
    assert out["n"].tolist() == [2, 0, 4, 1, 3]


def test_health_inputs_without_data_are_those_no_customer_has():
    """Usage falls back to paying months (frequency) and recency is always read; trend, support and NPS
    need events, tickets and NPS answers."""
    from segmentation.schemes import health_inputs_without_data

    billing = pd.DataFrame({"recency_days": [3.0, 40.0], "frequency": [5.0, 2.0], "usage_trend": [np.nan] * 2,
                            "tickets_90d": [np.nan] * 2, "support_minutes_90d": [np.nan] * 2,
                            "nps_latest": [np.nan] * 2})
    assert health_inputs_without_data(billing) == ["trend", "support", "nps"]
    full = billing.assign(usage_trend=[0.5, np.nan], tickets_90d=[0.0, 2.0], nps_latest=[np.nan, 9.0],
                          active_days_30d=[4.0, 0.0])
    assert health_inputs_without_data(full) == []


def test_a_customers_column_listed_in_the_definition_is_a_scheme_labelled_everywhere():
    """[firmographic] attributes: available when a customers column, labelled by label_all and scheme_labels
    (missing values "Unknown"), read without activity, named as the column; attribute_candidates offers the
    text columns whose few values repeat (not names, numbers or built-in schemes)."""
    from segmentation.schemes import attribute_candidates, label_all, reads_activity, scheme_name
    from segmentation.transitions import scheme_labels

    # The export's "Contract" is stored as contract (ingest.mapping.column_name); the definition may say either.
    defn = with_updates(default_definition(), firmographic={"attributes": ["Contract"]}, custom={"rules": []})
    assert "contract" in available_schemes(["customer_id", "contract"], defn)
    assert "contract" not in available_schemes(["customer_id", "contract"], default_definition())
    feats = pd.DataFrame({"customer_id": ["a", "b", "c", "d"], "mrr": [10.0, 0, 5, 7], "arr": [120.0, 0, 60, 84],
                          "tenure_days": [100.0] * 4, "churned": [False] * 4, "paying": [True, False, True, True],
                          "contract": ["Monthly", None, "Annual", "Monthly"], "name": ["A", "B", "C", "D"],
                          "seats": [1, 2, 1, 2]})
    expected = ["Monthly", "Unknown", "Annual", "Monthly"]
    assert scheme_labels(feats, "contract", defn).astype(str).tolist() == expected
    assert label_all(feats, defn)["contract"].astype(str).tolist() == expected
    assert not reads_activity("contract") and not reads_activity("value_tier+contract") and reads_activity("behavior")
    assert scheme_name("contract") == "Contract" and scheme_name("payment_method") == "Payment method"
    assert attribute_candidates(feats) == ["contract"]


def test_rfm_scores_against_a_reference_stay_within_1_to_5():
    """DEFINITIONS.md RFM: scores 1-5. Transitions rank a later date against the first date's reference
    (segmentation.transitions); a customer more recent than every reference customer has all n of them
    strictly less recent: 1 + floor(5 x 5 / 5) = 6, held at 5. Least frequent and lowest monetary: 1, 1.
    Code "511" (without the bound its code index is -1 and the customer would silently read "No activity")."""
    defn = default_definition()
    ref = reference_of(pd.DataFrame({"customer_id": [f"C{i}" for i in range(5)],
                                     "recency_days": [10.0, 20, 30, 40, 50], "frequency": [2.0, 3, 4, 5, 6],
                                     "monetary": [20.0, 30, 40, 50, 60]}), defn)
    later = pd.DataFrame({"customer_id": ["N"], "recency_days": [1.0], "frequency": [1.0], "monetary": [5.0]})
    s = rfm_scores(later, defn, ref)
    assert (s.loc[0, "r_score"], s.loc[0, "f_score"], s.loc[0, "m_score"]) == (5, 1, 1)
    assert s.loc[0, "rfm_code"] == "511"
