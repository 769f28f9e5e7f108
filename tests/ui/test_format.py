"""How numbers read on screen: golden strings for each formatter."""
from __future__ import annotations

import math

import numpy as np
import pytest

from economics.assumptions import parse_assumptions
from economics.unit import verdict
from ui.format import (count, currency_symbol, kpi_delta, kpi_value, money, months, net_ltv_text, pct, plain, ratio,
                       plural, table_height, verdict_months, verdict_ratio)

NAN = math.nan


@pytest.mark.parametrize("value, currency, kwargs, expected", [
    (1_234_567, "USD", {}, "$1.2M"), (12_345, "USD", {}, "$12.3k"), (12_345, "USD", {"compact": False}, "$12,345"),
    (9_999, "EUR", {}, "€9,999"), (99.5, "GBP", {}, "£99.50"), (99.5, "GBP", {"cents": False}, "£100"),
    (-318.2, "USD", {}, "-$318"), (-12.5, "USD", {}, "-$12.50"), (0.0, "USD", {}, "$0"), (0.0, "", {}, "0"),
    (2_899.4, "", {}, "2,899"), (150, "CHF", {}, "CHF 150"), (NAN, "USD", {}, "n/a"), (None, "USD", {}, "n/a"),
])
def test_money(value, currency, kwargs, expected):
    assert money(value, currency, **kwargs) == expected


def test_percentages_ratios_months_and_counts():
    assert (pct(0.1234), pct(0.1234, 2), pct(NAN)) == ("12.3%", "12.34%", "n/a")
    # Truncated, so a ratio just under the 3x threshold never reads 3.0x.
    assert (ratio(2.9999), ratio(2.9975, 2), ratio(math.inf), ratio(NAN)) == ("2.9x", "2.99x", "n/a", "n/a")
    assert (months(7.25), months(math.inf), months(NAN)) == ("7.2 mo", "never", "n/a")
    assert (count(2840.0), count(NAN)) == ("2,840", "n/a")


def test_beside_a_verdict_net_ltv_cac_and_payback_read_as_the_rule_prints_them():
    a = parse_assumptions({})   # healthy >= 3 and <= 18 months, margin-draining below 1
    # 2.0999 used to read 2.09x (truncated) over a rule saying 2.10
    assert verdict_ratio(2.0999, a) == "2.10x" and "net LTV : CAC 2.10," in verdict(2.0999, 10.0, 50.0, True, a)[1]
    # next to a threshold both carry the digits that tell them apart
    assert verdict_ratio(2.9975, a) == "2.9975x" and "net LTV : CAC 2.9975," in verdict(2.9975, 8.8, 50.0, True, a)[1]
    assert verdict_months(18.04, a) == "18.040 mo" and "payback 18.040 months" in verdict(4.0, 18.04, 50.0, True, a)[1]
    assert (verdict_ratio(11.96, a), verdict_months(4.8, a)) == ("11.96x", "4.8 mo")
    assert (verdict_ratio(NAN, a), verdict_ratio(math.inf, a)) == ("n/a", "n/a")
    assert (verdict_months(NAN, a), verdict_months(math.inf, a)) == ("n/a", "never")
    # the thresholds in force decide: at a healthy threshold of 2.1, 2.0999 is not shown as 2.10
    assert verdict_ratio(2.0999, parse_assumptions({"healthy_ltv_cac": 2.1})) == "2.0999x"


def test_a_count_takes_its_noun_in_the_number_it_reads():
    assert (plural(1, "paying customer"), plural(2840, "paying customer"), plural(0, "customer")) == (
        "1 paying customer", "2,840 paying customers", "0 customers")
    # a whole float (a threshold, a rounded lifetime) reads as an integer; numpy counts as Python ones
    assert (plural(1.0, "month"), plural(18.0, "month"), plural(2.5, "month")) == ("1 month", "18 months", "2.5 months")
    assert (plural(np.int64(1), "row"), plural(np.int64(1_234_567), "row")) == ("1 row", "1,234,567 rows")
    assert plural(1, "complete month") == "1 complete month" and plural(2, "person", "people") == "2 people"


def test_tile_values_and_changes():
    assert kpi_value("pct", 0.0563) == "5.6%" and kpi_value("pct", 1.05) == "105%"
    assert kpi_value("money", 1_134_567.68, "GBP") == "£1.1M" and kpi_value("pct", NAN) == "n/a"
    assert kpi_delta("count", 2840, 2461) == "+379"
    assert kpi_delta("pct", 0.156, 0.1623) == "-0.63 pts"
    assert kpi_delta("money", 1_134_567.68, 979_076.44, "USD") == "+$155.5k"
    assert kpi_delta("ratio", NAN, 3.0) is None and kpi_delta("months", math.inf, 3.0) is None


def test_a_short_table_is_as_tall_as_its_rows_and_a_long_one_scrolls():
    assert table_height(3, 400) == 35 * 4 + 3
    assert table_height(100, 400) == 400


def test_plain_text_reads_as_written_in_markdown():
    # "$" would start a formula in Streamlit's markdown, "_" and "*" italics, "[" a link.
    assert plain("SMB costs $5 *per* file_name [x]") == r"SMB costs \$5 \*per\* file\_name \[x\]"
    assert plain(1234) == "1234" and plain("plain words, 14.9%.") == "plain words, 14.9%."


def test_a_small_sample_s_net_ltv_reads_as_its_interval():
    row = {"net_ltv": 517_822.0, "net_ltv_low": 99_200.0, "net_ltv_high": 517_822.0, "small_sample": True}
    assert net_ltv_text(row, "") == "99.2k to 517.8k" and net_ltv_text(row, "GBP") == "£99.2k to £517.8k"
    assert net_ltv_text(row | {"small_sample": False}, "USD") == "$517.8k"
    # no churn observed: both ends at the lifetime cap read as one figure, not "88.9k to 88.9k"
    assert net_ltv_text(row | {"net_ltv_low": 88_945.0, "net_ltv_high": 88_945.2}, "") == "88.9k"
    assert net_ltv_text(row | {"net_ltv_low": math.nan}, "USD") == "$517.8k"    # no churn exposure: no interval


def test_currency_symbols():
    assert currency_symbol("eur") == "€" and currency_symbol("") == "" and currency_symbol("CHF") == ""
