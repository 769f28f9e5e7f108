"""Raw export values become numbers and dates the way the person who exported them meant.

Golden inputs marked "audit NN" are the values of variant NN of the messy-export audit
(/tmp/audit_messy/variants/NN_*), whose truth.json holds the amounts and dates the file was made from.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.convert import DATE_FORMATS_TRIED, ambiguous_date_order, to_datetime, to_number

NAN = float("nan")


def _numbers(values: list, whole: bool = False) -> tuple[list[float], list[bool]]:
    parsed, bad = to_number(pd.Series(values, dtype=object), whole)
    return parsed.tolist(), bad.tolist()


def _dates(values: list) -> tuple[list[str], list[bool]]:
    parsed, bad = to_datetime(pd.Series(values, dtype=object))
    return [str(v) for v in parsed], bad.tolist()


def separator_note(values: pd.Series, whole: bool = False) -> str | None:
    """What to_number notes about a dot before 3 digits that nothing settled (None: nothing to say)."""
    notes: list[str] = []
    to_number(values, whole, notes)
    return notes[0] if notes else None


def _assert_numbers(values: list, expected: list[float], bad: list[bool] | None = None, whole: bool = False) -> None:
    parsed, flagged = _numbers(values, whole)
    np.testing.assert_array_equal(parsed, expected)
    assert flagged == (bad or [False] * len(values))


# --- to_number: the decimal separator, from the values that prove it ---------------------------------------

def test_us_whole_dollars_with_a_thousands_comma_read_as_thousands():  # audit 10
    _assert_numbers(["$1,200", "$2,500", "$12,000", "$950", "$3,400"], [1200, 2500, 12000, 950, 3400])


def test_german_excel_general_numbers_keep_their_one_decimal_comma():  # audit 11
    _assert_numbers(["100", "250", "1234,5", "-20", "75", "1200"], [100, 250, 1234.5, -20, 75, 1200])


def test_german_whole_euros_with_a_thousands_dot_read_as_thousands():  # audit 44
    _assert_numbers(["1.200 €", "2.500 €", "12.000 €", "950 €", "3.400 €"], [1200, 2500, 12000, 950, 3400])


def test_employee_counts_with_a_thousands_dot_read_as_thousands():  # audit 38: whole numbers
    _assert_numbers(["1.200", "45", "12.500", "8"], [1200, 45, 12500, 8], whole=True)
    assert "read as 1,200 (not 1.2), since counts are whole numbers" in \
        separator_note(pd.Series(["1.200", "45"]), whole=True)


def test_a_dot_before_three_digits_that_nothing_settles_is_a_decimal_point_unless_money_is_marked():
    # Quantities with 3 decimals ("1.000" of an ERP export) stay 1, not 1,000 (review of the audit's fixes);
    # amounts written with a currency sign are Europe's whole euros.
    _assert_numbers(["1.000", "2.000", "12.500"], [1, 2, 12.5])
    _assert_numbers(["1.200 €", "12.500 €"], [1200, 12500])
    assert separator_note(pd.Series(["1.000", "2.000"])) == (
        "No value shows whether the dot in numbers like '1.000' is a decimal point or groups thousands: read as 1 "
        "(not 1,000). If they are thousands, export the numbers without thousands separators.")
    assert "read as 1,200 (not 1.2), as amounts with a currency sign are written in Europe" in \
        separator_note(pd.Series(["1.200 €", "950 €"]))
    for settled in (["1.000", "2.50"], ["$1,200"], ["12"], [1.5]):   # a value settles it, or nothing to settle
        assert separator_note(pd.Series(settled, dtype=object)) is None


def test_indian_grouping_and_a_trailing_dot_read():   # what the loader read before the audit's fixes
    _assert_numbers(["₹1,23,456.00", "₹12,345.50", "₹99.00"], [123456, 12345.5, 99])
    _assert_numbers(["12.", "13."], [12, 13])


def test_a_separator_before_one_two_or_four_digits_is_the_decimal_separator():
    _assert_numbers(["12,5", "1,200"], [12.5, 1.2])  # '12,5' proves ',' so '1,200' is 1.2 too
    _assert_numbers(["12.50", "1.200"], [12.5, 1.2])
    _assert_numbers(["1,5000", "3"], [1.5, 3])


def test_a_leading_group_of_zero_is_a_decimal_not_a_thousands_group():
    _assert_numbers(["0.125"], [0.125])
    _assert_numbers(["-0,125"], [-0.125])
    _assert_numbers(["0.125", "1,200"], [0.125, 1200])  # '0.125' proves '.', so ',' groups thousands


def test_both_separators_make_the_last_one_the_decimal_separator():
    _assert_numbers(["1.234,50", "1.200"], [1234.5, 1200])
    _assert_numbers(["1,234.50", "1,200"], [1234.5, 1200])


def test_a_repeated_separator_groups_thousands_so_the_other_one_is_the_decimal_separator():
    _assert_numbers(["1.234.567", "1,200"], [1234567, 1.2])
    _assert_numbers(["1,234,567", "1.200"], [1234567, 1.2])


def test_the_side_with_more_proving_values_wins_and_a_value_against_it_is_flagged():
    # Two values prove ',' and one proves '.': '1,234.50' cannot be read in a decimal-comma column.
    _assert_numbers(["1.234,50", "12,5", "1,234.50"], [1234.5, 12.5, NAN], [False, False, True])
    # '12.50' is not read as 1250 in a '1.234,50' column.
    _assert_numbers(["1.234,50", "12,5", "12.50"], [1234.5, 12.5, NAN], [False, False, True])


def test_a_tie_between_the_separators_goes_to_the_dot():
    _assert_numbers(["12.5", "12,5"], [12.5, NAN], [False, True])


# --- to_number: what worked before keeps working ----------------------------------------------------------

def test_currency_symbols_codes_and_negatives_are_read():  # audit 07, 09
    _assert_numbers(["$1,234.50", "-$20.00", "(12.00)", "USD 5.00", "7.50 EUR", "£3", "¥1,000", "CHF 2.5"],
                    [1234.5, -20, -12, 5, 7.5, 3, 1000, 2.5])


def test_european_amounts_with_spaces_nbsp_and_narrow_nbsp_as_grouping_are_read():  # audit 02, 08
    nbsp, narrow_nbsp = "\u00a0", "\u202f"
    _assert_numbers(["€ 12,00", "12,00 €", "1.234,50", "1 234,50", f"1{nbsp}234,50 €",
                     f"1{narrow_nbsp}234,50 €"], [12, 12, 1234.5, 1234.5, 1234.5, 1234.5])


def test_blank_cells_are_missing_not_bad():
    _assert_numbers(["", "  ", None, "12,5"], [NAN, NAN, NAN, 12.5])


def test_numeric_columns_pass_through_as_floats():
    parsed, bad = to_number(pd.Series([1, 2, 1200]))
    assert parsed.dtype == "float64" and parsed.tolist() == [1.0, 2.0, 1200.0] and not bad.any()
    parsed, bad = to_number(pd.Series([1.125, np.nan]))
    assert parsed.tolist()[0] == 1.125 and not bad.any()


def test_excel_number_cells_in_an_object_column_are_numbers_not_text():
    # read_excel(dtype=object) gives Python floats: 1.125 must not become the text '1.125' read as 1125.
    _assert_numbers([1.125, 2.375, None], [1.125, 2.375, NAN])
    _assert_numbers([1.125, "1.200", 7], [1.125, 1.2, 7])   # nothing settles '1.200': a decimal point


def test_text_that_is_not_a_number_is_flagged():
    _assert_numbers(["10", "ten dollars", "12 %", "1,2,3", "1.23.4", "inf"], [10, NAN, NAN, NAN, NAN, NAN],
                    [False, True, True, True, True, True])


_SEPARATORS = {"us": (",", "."), "european": (".", ","), "plain": ("", ".")}


def _write_amount(cents: int, style: str, whole: bool) -> str:
    """An amount as an export writes it: '$1,234.56', '1.234,56 €' or '1234.56'; whole amounts without decimals.
    (A currency sign marks money: a European '1.234' alone could be a quantity of 1.234.)"""
    grouping, decimal = _SEPARATORS[style]
    units, hundredths = divmod(abs(cents), 100)
    text = f"{units:,}".replace(",", grouping)
    if not whole:
        text += f"{decimal}{hundredths:02d}"
    text = {"us": f"${text}", "european": f"{text} €"}.get(style, text)
    return f"-{text}" if cents < 0 else text


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.sampled_from(sorted(_SEPARATORS)), st.lists(st.tuples(st.integers(-10**9, 10**9), st.booleans()),
                                                      min_size=1, max_size=12))
def test_a_column_of_amounts_in_one_style_reads_back_exactly(style, amounts):
    # Whole amounts are whole numbers of units (cents rounded off), every other amount has 2 decimals.
    amounts = [(cents - cents % 100 if whole else cents, whole) for cents, whole in amounts]
    column = [_write_amount(cents, style, whole) for cents, whole in amounts]
    parsed, bad = to_number(pd.Series(column))
    assert not bad.any(), column
    assert parsed.tolist() == pytest.approx([cents / 100 for cents, _ in amounts], abs=1e-9, rel=0), column


def test_the_property_writes_amounts_as_exports_do():
    assert _write_amount(123456, "us", False) == "$1,234.56"
    assert _write_amount(-123456, "european", False) == "-1.234,56 €"
    assert _write_amount(123400, "european", True) == "1.234 €"
    assert _write_amount(5, "plain", False) == "0.05"


# --- to_datetime --------------------------------------------------------------------------------------------

def test_excel_serial_day_numbers_are_read_from_1899_12_30():  # audit 16; Excel's DATEVALUE("2024-01-15") = 45306
    assert _dates(["45306", "45311", "45337", "45471", ""]) == (
        ["2024-01-15 00:00:00", "2024-01-20 00:00:00", "2024-02-15 00:00:00", "2024-06-28 00:00:00", "NaT"],
        [False, False, False, False, False])


def test_excel_serials_from_number_cells_keep_their_time_of_day():
    assert _dates([45306, 45306.5, None]) == (["2024-01-15 00:00:00", "2024-01-15 12:00:00", "NaT"],
                                                [False, False, False])
    parsed, bad = to_datetime(pd.Series([45311.25, 45306.0]))  # a float64 column
    assert [str(v) for v in parsed] == ["2024-01-20 06:00:00", "2024-01-15 00:00:00"] and not bad.any()


def test_excel_serials_are_read_only_when_every_value_is_one_from_20000_to_80000():
    assert _dates(["20000", "80000"])[0] == ["1954-10-03 00:00:00", "2119-01-11 00:00:00"]
    assert _dates(["19999", "45306"])[1] == [True, True]
    assert _dates(["45306", "80001"])[1] == [True, True]


def test_unix_seconds_and_milliseconds_are_still_read():  # audit 43
    assert _dates(["1700000000"])[0] == ["2023-11-14 22:13:20"]
    assert _dates(["1700000000000"])[0] == ["2023-11-14 22:13:20"]


def test_full_month_names_are_read():  # audit 17
    assert _dates(["January 15, 2024", "March 5, 2024", "May 20, 2024", "June 28, 2024"]) == (
        ["2024-01-15 00:00:00", "2024-03-05 00:00:00", "2024-05-20 00:00:00", "2024-06-28 00:00:00"],
        [False, False, False, False])
    assert _dates(["15 January 2024", "5 March 2024"])[0] == ["2024-01-15 00:00:00", "2024-03-05 00:00:00"]
    assert "Month DD, YYYY" in DATE_FORMATS_TRIED and "DD Month YYYY" in DATE_FORMATS_TRIED


def test_dates_that_read_both_ways_are_still_read_month_first():  # audit 13
    assert _dates(["02/01/2024", "09/01/2024"])[0] == ["2024-02-01 00:00:00", "2024-09-01 00:00:00"]


# --- ambiguous_date_order -----------------------------------------------------------------------------------

def test_day_month_dates_with_no_day_above_12_get_a_message_with_an_example():  # audit 13
    message = ambiguous_date_order(pd.Series(["03/04/2024", "02/01/2024", "10/09/2024", "11/04/2024"]))
    assert message == ("Every date reads both as MM/DD/YYYY and as DD/MM/YYYY (no day is above 12): they were "
                       "read as MM/DD/YYYY, so 03/04/2024 is 4 March 2024. If the export writes the day first, "
                       "export the dates as YYYY-MM-DD.")


@pytest.mark.parametrize(("values", "chosen", "other", "example"), [
    (["03-04-2024", "05-06-2024"], "DD-MM-YYYY", "MM-DD-YYYY", "so 03-04-2024 is 3 April 2024. If the export "
                                                               "writes the month first"),
    (["03/04/24 10:30", "05/06/24 11:00"], "MM/DD/YY", "DD/MM/YY", "so 03/04/24 10:30 is 4 March 2024. If the "
                                                                   "export writes the day first"),
    (["", "3/4/2024 10:00:00", "5/6/2024 11:00:00"], "MM/DD/YYYY", "DD/MM/YYYY", "so 3/4/2024 10:00:00 is 4 March"),
])
def test_every_day_month_pair_gets_the_message_as_the_column_was_read(values, chosen, other, example):
    message = ambiguous_date_order(pd.Series(values))
    assert message is not None and f"both as {chosen} and as {other}" in message and example in message
    first = to_datetime(pd.Series(values))[0].dropna().iloc[0]
    assert f"is {first.day} {first.month_name()} {first.year}" in message  # says what to_datetime did


@pytest.mark.parametrize("values", [
    pytest.param(["2024-03-04", "2024-05-06"], id="ISO"),
    pytest.param(["03/04/2024", "13/04/2024"], id="a day above 12, read day-first"),
    pytest.param(["03/04/2024", "04/13/2024"], id="a day above 12, read month-first"),
    pytest.param(["01/01/2024", "05/05/2024"], id="both readings give the same dates"),
    pytest.param(["03.04.2024", "05.06.2024"], id="DD.MM.YYYY has no month-first twin"),
    pytest.param(["45306", "45311"], id="Excel serials"),
    pytest.param(["January 15, 2024"], id="month names"),
    pytest.param(["", None], id="blank"),
    pytest.param(["03/04/2024", "yesterday"], id="a value no format reads"),
])
def test_columns_without_a_day_month_doubt_get_no_message(values):
    assert ambiguous_date_order(pd.Series(values, dtype=object)) is None


def test_datetime_and_numeric_columns_get_no_message():
    assert ambiguous_date_order(pd.Series(pd.to_datetime(["2024-03-04", "2024-05-06"]))) is None
    assert ambiguous_date_order(pd.Series([45306, 45311])) is None
