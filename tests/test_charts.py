"""Every figure builder gives a titled figure with labelled axes, segments in fixed colours."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import charts
from economics.assumptions import parse_assumptions

ECON = pd.DataFrame({"segment": ["Enterprise", "SMB", "Self-serve"], "net_ltv_cac": [12.0, 0.7, 2.1],
                     "nrr": [0.95, 0.8, 0.7], "mrr": [600_000.0, 100_000.0, 20_000.0], "customers": [100, 300, 500],
                     "verdict": ["healthy", "margin-draining", "marginal"], "payback_months": [5.0, 30.0, 10.0]})
COLORS = charts.segment_colors(["Enterprise", "SMB", "Self-serve", "Not paying"])


def _axis_titles(fig) -> tuple[str, str]:
    return fig.layout.xaxis.title.text, fig.layout.yaxis.title.text


def test_segment_colours_are_fixed_by_order_and_catch_alls_are_grey():
    assert COLORS == charts.segment_colors(["Enterprise", "SMB", "Self-serve", "Not paying"])
    assert COLORS["Not paying"] == charts.NEUTRAL["Not paying"]
    assert len({COLORS["Enterprise"], COLORS["SMB"], COLORS["Self-serve"]}) == 3


def test_segment_map_colours_by_verdict_and_labels_every_bubble():
    fig = charts.segment_map(ECON, "USD")
    assert fig.layout.title.text == "Segment map"
    assert _axis_titles(fig) == ("Net LTV : CAC (x)", "Net revenue retention, 12 months (%)")
    by_verdict = {t.name: list(t.text) for t in fig.data}
    assert by_verdict["margin-draining"] == ["SMB"]
    assert fig.data[0].marker.color in charts.VERDICT_COLORS.values()
    # the NRR line's words sit on a white ground: the 1x line crossing them does not strike them through
    nrr = next(a for a in fig.layout.annotations if a.text.startswith("NRR 100%"))
    assert nrr.bgcolor.startswith("rgba(255,255,255")


def test_segment_map_without_cac_or_a_year_of_history_plots_contribution_against_monthly_churn():
    """A billing-only export (no spend data) with under 13 complete months: net LTV:CAC and NRR are all
    unknown, so the map would be empty; it places segments by what they can show instead."""
    billing_only = ECON.assign(net_ltv_cac=np.nan, nrr=np.nan, contribution_pcm=[4000.0, -12.5, 36.0],
                               logo_churn=[0.01, 0.05, 0.08], verdict=["healthy", "margin-draining", "healthy"])
    assert charts.map_axes(billing_only) == ("contribution_pcm", "logo_churn")
    fig = charts.segment_map(billing_only, "USD")
    assert _axis_titles(fig) == ("Contribution per customer-month ($)", "Monthly logo churn (%)")
    points = {seg: (x, y) for t in fig.data for seg, x, y in zip(t.text, t.x, t.y)}
    assert points == {"Enterprise": (4000.0, 1.0), "SMB": (-12.5, 5.0), "Self-serve": (36.0, 8.0)}
    assert [shape.x0 for shape in fig.layout.shapes] == [0]          # the break-even line, not 1x and 3x
    # a vertical line: what lies left of it loses money (it read "below 0")
    assert [a.text for a in fig.layout.annotations] == ["left of 0: loses money every month"]
    assert fig.layout.xaxis.type != "log"
    assert "contribution per customer-month" in charts.map_note(billing_only)
    assert "<br>revenue $" in charts.segment_map(billing_only, "USD", revenue_word="revenue").data[0].hovertemplate
    assert "Monthly logo churn stands in for 12-month NRR" in charts.map_note(billing_only)
    # with spend data but under a year of history only the y axis changes
    assert charts.map_axes(billing_only.assign(net_ltv_cac=[12.0, 0.7, 2.1])) == ("net_ltv_cac", "logo_churn")
    full = ECON.assign(contribution_pcm=1.0, logo_churn=0.02)
    assert charts.map_axes(full) == ("net_ltv_cac", "nrr") and charts.map_note(full) == ""


def test_segment_map_switches_to_a_log_axis_when_one_segment_is_an_outlier():
    outlier = ECON.assign(net_ltv_cac=[275.0, 0.7, 2.1])
    assert charts.segment_map(outlier).layout.xaxis.type == "log"
    assert charts.segment_map(ECON).layout.xaxis.type != "log"


def test_segment_map_places_labels_of_neighbouring_bubbles_apart():
    """Bubbles close together get their labels on different sides, so that no label covers another (the
    Overview's map had "SMB · Partners" written over "Enterprise · Events")."""
    crowded = pd.DataFrame({
        "segment": ["Enterprise · Events", "SMB · Partners", "SMB · Paid search", "SMB · Organic", "Self-serve"],
        "net_ltv_cac": [10.0, 8.0, 23.0, 25.0, 2.0], "nrr": [0.86, 0.82, 0.89, 0.85, 0.6],
        "mrr": [300_000.0, 20_000.0, 60_000.0, 30_000.0, 5_000.0], "customers": [50, 80, 90, 70, 300],
        "verdict": ["healthy", "healthy", "healthy", "healthy", "marginal"]})
    fig = charts.segment_map(crowded)
    place = {seg: pos for t in fig.data for seg, pos in zip(t.text, t.textposition)}
    assert set(place) == set(crowded["segment"])
    assert len(set(place.values())) > 1            # not every label on top of its bubble
    # The same check on the placement itself: no two label boxes overlap, none covers another bubble.
    x, y, r = [100.0, 145.0, 300.0], [100.0, 110.0, 100.0], [30.0, 10.0, 10.0]
    texts = ["Enterprise · Events", "SMB · Partners", "Self-serve"]
    places = charts._label_places(np.array(x), np.array(y), np.array(r), texts, (800.0, 320.0))
    boxes = [charts._label_box(x[i], y[i], r[i], 7.0 * len(texts[i]), 18.0, places[i]) for i in range(3)]
    assert not any(charts._overlap(boxes[i], boxes[j]) for i in range(3) for j in range(i + 1, 3))
    assert not any(charts._hits_bubble(boxes[i], x[j], y[j], r[j]) for i in range(3) for j in range(3) if i != j)
    assert places[0] == "top center"               # the largest bubble keeps the first choice


@pytest.mark.parametrize("build", [
    lambda: charts.distribution(ECON.assign(customers=[1, 2, 3]), COLORS),
    lambda: charts.bar_by_segment(ECON, "payback_months", COLORS, "Payback", "Months"),
    lambda: charts.quadrant(ECON, COLORS, parse_assumptions({})),
    lambda: charts.grouped_bars(ECON.melt(id_vars="segment", value_vars=["mrr"], var_name="measure",
                                          value_name="value"), {"mrr": "MRR"}, "USD", "MRR", "$"),
    lambda: charts.customer_scatter(pd.DataFrame({"customer_id": ["a"], "segment": ["SMB"], "revenue": [300.0],
                                                  "support_cost": [90.0]}), COLORS),
    lambda: charts.movements_chart(pd.DataFrame({"month": pd.to_datetime(["2026-09-01"]), "new": [10.0],
                                                 "expansion": [1.0], "reactivation": [0.0], "contraction": [2.0],
                                                 "churned": [3.0], "starting_mrr": [100.0], "ending_mrr": [106.0]})),
])
def test_every_chart_has_a_title_and_both_axis_titles(build):
    fig = build()
    assert fig.layout.title.text
    assert all(_axis_titles(fig))


def test_retention_heatmap_shows_percentages_and_marks_partial_periods():
    table = pd.DataFrame({"cohort": ["2026-09", "2026-09", "2026-10"], "period": [0, 1, 0],
                          "cohort_size": [10, 10, 4], "active": [10, 7, 4], "retention": [1.0, 0.7, 1.0],
                          "complete": [True, False, False]})
    fig = charts.retention_heatmap(table)
    # complete periods on the blue scale; periods still running in grey (a quarter one month old read 34% in
    # the blue of a cliff), their values marked *
    done, running = ([list(row) for row in trace.text] for trace in fig.data)
    assert done == [["100%", ""], ["", ""]] and running == [["", "70%*"], ["100%*", ""]]
    assert fig.data[0].colorscale[-1][1] != fig.data[1].colorscale[-1][1] == "#e5e7eb"
    assert "not over yet" in fig.data[1].hovertemplate and fig.data[0].showscale and not fig.data[1].showscale
    z = np.array(fig.data[1].z, dtype=float)
    assert np.isnan(z[0, 0]) and z[0, 1] == 70.0
    assert list(fig.data[0].y) == ["2026-09 (10)", "2026-10 (4)"]


def test_waterfall_and_sankey_keep_their_steps_and_flows():
    steps = pd.DataFrame({"step": ["Revenue over lifetime", "Support", "Net LTV"], "amount": [1000.0, -300.0, 700.0],
                          "measure": ["absolute", "relative", "total"]})
    fig = charts.waterfall(steps, "USD", "SMB")
    assert list(fig.data[0].x) == list(steps["step"]) and fig.layout.yaxis.title.text.startswith("$")
    assert fig.layout.title.text == "SMB: from lifetime revenue to net LTV (CAC needs spend data)"
    with_cac = pd.concat([steps, pd.DataFrame({"step": ["CAC", "Left after CAC"], "amount": [-400.0, 300.0],
                                               "measure": ["relative", "total"]})])
    assert charts.waterfall(with_cac).layout.title.text == "From lifetime revenue to what is left after CAC"
    flows = pd.DataFrame({"from_segment": ["(new)", "SMB", "SMB"], "to_segment": ["SMB", "SMB", "(churned)"],
                          "customers": [5, 20, 3]})
    sankey = charts.sankey(flows, COLORS, "Value tier transitions", "1 Aug", "1 Nov")
    assert list(sankey.data[0].link.value) == [5, 20, 3]
    assert "1 Aug (left)" in sankey.layout.title.text


def test_without_cac_the_unit_economics_charts_show_net_ltv_and_contribution_against_break_even():
    paying = pd.DataFrame({"segment": ["Enterprise", "SMB"], "net_ltv": [200_000.0, -318.0],
                           "net_ltv_low": [40_000.0, -400.0], "net_ltv_high": [200_000.0, -250.0],
                           "contribution_pcm": [4000.0, -12.0]})
    ltv, contribution = charts.worth_without_cac(paying, COLORS, "USD", "Value tier")
    # whiskers over the churn interval: Enterprise's reaches down to 40k, its top is the capped figure
    assert list(ltv.data[0].error_y.arrayminus) == [160_000.0, 82.0] and list(ltv.data[0].error_y.array) == [0.0, 68.0]
    assert ltv.layout.title.text == "Net LTV per customer by Value tier"
    assert contribution.layout.title.text == "Contribution per customer-month by Value tier"
    assert list(ltv.data[0].y) == [200_000.0, -318.0] and list(ltv.data[0].text) == ["$200,000", "-$318"]
    assert list(contribution.data[0].y) == [4000.0, -12.0]
    assert _axis_titles(contribution) == ("Segment", "$ per customer-month")
    assert [shape.y0 for shape in contribution.layout.shapes] == [0.0]


def test_sankey_lists_segments_in_the_scheme_order_and_keeps_small_segments_labels_apart():
    colors = charts.segment_colors(["Enterprise", "Mid-market", "SMB", "Self-serve"])
    # Rows in no particular order; Enterprise and Mid-market tiny beside SMB and Self-serve (Online Retail).
    flows = pd.DataFrame({
        "from_segment": ["SMB", "Self-serve", "(new)", "Mid-market", "Enterprise", "SMB", "Self-serve"],
        "to_segment": ["Mid-market", "(churned)", "Self-serve", "Enterprise", "Enterprise", "SMB", "SMB"],
        "customers": [22, 445, 1185, 7, 7, 721, 188]})
    node = charts.sankey(flows, colors, "Value tier transitions", "10 Sep", "10 Dec").data[0].node
    left = ["new (1,185)", "Enterprise (7)", "Mid-market (7)", "SMB (743)", "Self-serve (633)"]
    right = ["Enterprise (14)", "Mid-market (22)", "SMB (909)", "Self-serve (1,185)", "churned (445)"]
    assert list(node.label) == left + right                             # each with its customers
    for ys in (node.y[:len(left)], node.y[len(left):]):
        assert list(ys) == sorted(ys)                                   # top to bottom in that order
        assert min(b - a for a, b in zip(ys, ys[1:])) >= 0.04           # a label's height apart at least


def test_average_curve_points_resting_on_few_cohorts_are_hollow_and_say_what_is_behind_them():
    curves = pd.DataFrame({"segment": ["All customers"] * 3, "period": [0, 1, 2], "retention": [1.0, 0.4, 0.5],
                           "cohorts": [12, 3, 1], "customers": [4000, 3100, 881]})
    trace = charts.retention_curves(curves, {}).data[0]
    assert list(trace.marker.symbol) == ["circle", "circle", "circle-open"]
    assert [list(r) for r in trace.customdata] == [[12, 4000], [3, 3100], [1, 881]]
    # what is behind each point, in words: the last period rests on "1 cohort", not "1 cohorts"
    assert "%{text}" in trace.hovertemplate
    assert list(trace.text) == [" (12 cohorts, 4,000 customers)", " (3 cohorts, 3,100 customers)",
                                " (1 cohort, 881 customers)"]
    plain = charts.retention_curves(curves[["segment", "period", "retention"]], {}).data[0]   # without the counts
    assert "cohorts" not in plain.hovertemplate


def test_net_revenue_retention_above_100_percent_stays_on_the_curve_chart():
    """SMB's net revenue retention reached 121% and 17 of its 24 points fell off a 0-105% axis."""
    curves = pd.DataFrame({"segment": ["SMB"] * 3, "period": [0, 1, 2], "revenue_retention": [1.0, 1.1, 1.213]})
    assert list(charts.retention_curves(curves, {}, "revenue_retention").layout.yaxis.range) == [0, 130]
    logo = curves.rename(columns={"revenue_retention": "retention"}).assign(retention=[1.0, 0.6, 0.5])
    assert list(charts.retention_curves(logo, {}).layout.yaxis.range) == [0, 105]


def test_a_heatmap_too_wide_for_its_percentages_leaves_them_to_the_hover():
    def table(periods: int) -> pd.DataFrame:
        return pd.DataFrame({"cohort": ["2020-11"] * periods, "period": range(periods), "cohort_size": 100,
                             "active": 90, "retention": 0.9, "complete": True})
    assert charts.retention_heatmap(table(charts.CELL_LABELS_UP_TO)).data[0].texttemplate == "%{text}"
    wide = charts.retention_heatmap(table(73)).data[0]          # Telco: 73 monthly periods
    assert wide.texttemplate == "" and "active customers" in wide.hovertemplate


def test_distribution_of_many_segments_lies_horizontally_with_every_name_and_count():
    """An attribute with 20 values (countries): one row per segment, first on top, every count printed; a
    scheme with a few segments keeps upright bars."""
    names = [f"Country {i}" for i in range(20)]
    counts = pd.DataFrame({"segment": names, "customers": range(200, 0, -10), "mrr": [100.0] * 20})
    fig = charts.distribution(counts, {})
    bars = fig.data[0]
    assert bars.orientation == "h" and list(bars.y) == names and list(bars.text)[0] == "200"
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.height >= 34 * 20
    assert abs(sum(bars.x) - 100) < 1e-9
    few = charts.distribution(counts.head(3), {})
    assert few.data[0].orientation in (None, "v") and list(few.data[0].x) == names[:3]


def test_the_movements_axis_names_the_series_and_its_currency_only_when_known():
    moves = pd.DataFrame({"month": pd.to_datetime(["2026-09-01"]), "new": [10.0], "expansion": [1.0],
                          "reactivation": [0.0], "contraction": [2.0], "churned": [3.0], "starting_mrr": [100.0],
                          "ending_mrr": [106.0]})
    assert charts.movements_chart(moves).layout.yaxis.title.text == "MRR change ($)"
    # order data without a stated currency: "Revenue change", not "MRR change ()"
    assert charts.movements_chart(moves, "", revenue_word="Revenue").layout.yaxis.title.text == "Revenue change"


def test_grouped_bars_spanning_orders_of_magnitude_get_a_log_axis_that_says_so():
    def frame(values):
        return pd.DataFrame({"segment": ["Enterprise", "Enterprise", "Self-serve", "Self-serve"],
                             "measure": ["net_ltv", "cac", "net_ltv", "cac"], "value": values})
    names = {"net_ltv": "Net LTV", "cac": "CAC"}
    # the sample: $289,826 beside $370 read as empty bars for Self-serve
    wide = charts.grouped_bars(frame([289_826.0, 24_226.0, 777.0, 370.0]), names, "USD", "Net LTV against CAC", "$")
    assert wide.layout.yaxis.type == "log" and wide.layout.yaxis.title.text == "$ (log scale)"
    assert wide.layout.yaxis.dtick == 1   # $1k, $10k, $100k: no unlabelled 2 and 5 between
    close = charts.grouped_bars(frame([5_000.0, 2_000.0, 800.0, 370.0]), names, "USD", "t", "$")
    assert close.layout.yaxis.type == "linear" and close.layout.yaxis.title.text == "$"
    # a negative net LTV cannot sit on a log axis
    assert charts.grouped_bars(frame([289_826.0, 24_226.0, -495.0, 370.0]), names, "USD", "t", "$").layout.yaxis.type \
        == "linear"


def test_hovers_and_titles_say_1_customer_1_day_1_month():
    flows = pd.DataFrame({"from_segment": ["(new)", "SMB", "SMB"], "to_segment": ["SMB", "SMB", "(churned)"],
                          "customers": [1, 1_200, 3]})
    link = charts.sankey(flows, COLORS, "Value tier transitions", "1 Aug", "1 Nov").data[0].link
    assert [row[2] for row in link.customdata] == ["1 customer", "1,200 customers", "3 customers"]
    assert "%{customdata[2]}" in link.hovertemplate and "customers" not in link.hovertemplate
    grid = pd.DataFrame([[1, 0], [2, 1_500]], index=["SMB", "Self-serve"], columns=["Active", "Light"])
    heat = charts.cross_heatmap(grid, "Behaviour by tier", "Behaviour", "Tier").data[0]
    assert [list(r) for r in heat.customdata] == [["1 customer", "0 customers"], ["2 customers", "1,500 customers"]]
    assert "%{customdata}" in heat.hovertemplate
    activation = pd.DataFrame({"cohort": ["2026-09"], "cohort_size": [10], "activated": [4], "share": [0.4],
                               "complete": [True]})
    assert "within 1 day (" in charts.activation_bars(activation, "login", 1).layout.title.text
    assert "1 month" in [a.text for a in charts.quadrant(ECON, COLORS, parse_assumptions({"healthy_payback_months": 1})).layout.annotations]


def test_a_ratio_just_under_the_healthy_line_hovers_as_its_verdict_rule_prints_it_and_lines_follow_the_thresholds():
    """SMB at 2.9975x is marginal: its bubble hovered "3.0x" beside the 3x line (the verdict rule, the
    table and the board pack print 2.9975). The lines sit at the thresholds in force, not at 1x and 3x."""
    near = ECON.assign(net_ltv_cac=[12.0, 0.7, 2.9975])
    fig = charts.segment_map(near, "USD")
    hover = {t.text[i]: t.hovertext[i] for t in fig.data for i in range(len(t.text))}
    assert hover == {"Enterprise": "12.00", "SMB": "0.70", "Self-serve": "2.9975"}
    assert "net LTV:CAC %{hovertext}x" in fig.data[0].hovertemplate
    strict = parse_assumptions({"healthy_ltv_cac": 4, "draining_ltv_cac": 1.5})
    marks = {a.text: a.x for a in charts.segment_map(near, "USD", thresholds=strict).layout.annotations}
    assert marks["4x: healthy"] == pytest.approx(4) and marks["1.5x: loses money"] == pytest.approx(1.5)
    quadrant = charts.quadrant(near, COLORS, strict)
    assert {s.y0 for s in quadrant.layout.shapes if s.type == "line" and s.y0 == s.y1} == {1.5, 4.0}
    assert "net LTV:CAC 3.00x" in next(t.hovertemplate for t in quadrant.data if t.name == "Self-serve")
    by_default = charts.quadrant(near, COLORS, parse_assumptions({}))   # beside a 3x line: its digits
    assert "net LTV:CAC 2.9975x" in next(t.hovertemplate for t in by_default.data if t.name == "Self-serve")


def test_a_point_resting_on_few_churn_events_or_the_lifetime_cap_is_marked_and_the_note_says_why():
    """Enterprise · Outbound sales sat at 90x with no churn event (its lifetime the 60-month cap) and
    Mid-market · Organic at 275x on 3: plotted as exact points, while the table flags both."""
    flagged = ECON.assign(small_sample=[False, True, False], ltv_capped=[True, False, True],
                          churn_events=[0, 3, 12])
    labels = {t.text[i] for t in charts.segment_map(flagged).data for i in range(len(t.text))}
    assert labels == {"Enterprise *", "SMB *", "Self-serve"}
    assert charts.map_note(flagged).startswith("* Few paying customers or churn events, or none churned")
    assert "*" not in charts.map_note(ECON) and not charts.uncertain(ECON).any()
