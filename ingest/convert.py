"""Typing raw export values: identifiers, dates, money, numbers and yes/no flags, with clear problems.

Each converter takes a column of raw values and returns the typed column plus a mask of the values that
could not be read (blank cells are missing, not bad).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["to_id", "to_datetime", "ambiguous_date_order", "to_number", "to_bool", "to_text", "DATE_FORMATS_TRIED"]

# (strptime format, how a user reads it); each is also tried with a time of day after it
_DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%m/%d/%Y", "MM/DD/YYYY"), ("%d/%m/%Y", "DD/MM/YYYY"), ("%d.%m.%Y", "DD.MM.YYYY"),
    ("%Y/%m/%d", "YYYY/MM/DD"), ("%d-%m-%Y", "DD-MM-YYYY"), ("%m-%d-%Y", "MM-DD-YYYY"),
    ("%m/%d/%y", "MM/DD/YY"), ("%d/%m/%y", "DD/MM/YY"), ("%d %b %Y", "DD Mon YYYY"),
    ("%b %d, %Y", "Mon DD, YYYY"), ("%B %d, %Y", "Month DD, YYYY"), ("%d %B %Y", "DD Month YYYY"),
    ("%Y-%m", "YYYY-MM"),
)
_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S")
DATE_FORMATS_TRIED = "YYYY-MM-DD (ISO 8601, with or without time and zone), " + ", ".join(
    label for _, label in _DATE_FORMATS) + ", Unix seconds or milliseconds, Excel serial day numbers"
# Formats that differ only by the order of day and month: each one's other
_OTHER_ORDER = {a: b for pair in (("MM/DD/YYYY", "DD/MM/YYYY"), ("MM-DD-YYYY", "DD-MM-YYYY"), ("MM/DD/YY", "DD/MM/YY"))
                for a, b in (pair, pair[::-1])}
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # day 0 of Excel's serials (right from 1900-03-01 on)
_EXCEL_SERIALS = (20000, 80000)  # day numbers of 1954-10-03 .. 2119-01-11

_TRUE = {"yes", "y", "true", "t", "1", "churned", "cancelled", "canceled", "lost", "inactive", "1.0"}
_FALSE = {"no", "n", "false", "f", "0", "active", "retained", "current", "0.0"}
_CSAT_WORDS = {"good": 5.0, "bad": 1.0}


def _blank(raw: pd.Series) -> pd.Series:
    return raw.isna() | raw.astype("string").str.strip().fillna("").eq("")


def to_text(raw: pd.Series) -> pd.Series:
    """Trimmed text; blank cells become missing."""
    text = raw.astype("string").str.strip()
    return text.mask(text.eq(""))


def to_id(raw: pd.Series) -> pd.Series:
    """Customer IDs as strings: leading zeros kept ('00017'), float-looking IDs ('17850.0') become '17850'."""
    text = to_text(raw)
    return text.str.replace(r"^(-?\d+)\.0+$", r"\1", regex=True)


def to_datetime(raw: pd.Series, notes: list[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """Naive UTC timestamps, and a mask of non-blank values that no single known format reads.

    The format is chosen per column (the one that reads the most values), so 03/04/2025 is read the
    same way on every row; when a day/month pair reads every value, the one listed first wins, and
    `notes`, when given, receives a sentence for the user saying so (see `ambiguous_date_order`). ISO 8601
    is tried first; then a column whose every value is a number with a whole part between 20000 and 80000
    is read as Excel serial day numbers (1899-12-30 + n days, the fraction being the time of day); then
    day-first and month-first forms; then Unix epoch seconds or milliseconds (10 or 13 digits).
    """
    blank = _blank(raw)
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.dt.tz_convert(None) if getattr(raw.dt, "tz", None) is not None else raw
        return values.astype("datetime64[ns]"), pd.Series(False, index=raw.index)
    text = raw.astype("string").str.strip()
    present = text[~blank]
    if present.empty:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]"), pd.Series(False, index=raw.index)
    # Each distinct text is parsed once (a column of a million orders holds a few hundred days); a format's
    # reach is still counted in rows.
    codes, texts = pd.factorize(present)
    rows = np.bincount(codes, minlength=len(texts))
    distinct = pd.Series(texts, dtype="string")

    def reach(attempt: pd.Series) -> int:
        return int(rows[attempt.notna().to_numpy()].sum())

    best = pd.to_datetime(distinct, format="ISO8601", errors="coerce", utc=True)
    chosen = None   # the label of the day/month format read, if one is
    if best.notna().all():
        parsed = best
    elif (serials := _excel_serials(distinct)) is not None:
        parsed = serials
    else:
        parsed = best
        for fmt, label in _DATE_FORMATS:
            for t in _TIMES:
                attempt = pd.to_datetime(distinct, format=fmt + t, errors="coerce", utc=True)
                if reach(attempt) > reach(parsed):
                    parsed, chosen = attempt, label
            if parsed.notna().all():
                break
        if not parsed.notna().all() and distinct.str.fullmatch(r"\d{10}(\d{3})?").all():
            unit = "ms" if distinct.str.len().iloc[0] == 13 else "s"
            parsed, chosen = pd.to_datetime(distinct.astype("int64"), unit=unit, utc=True), None
    if notes is not None and chosen in _OTHER_ORDER and parsed.notna().all():
        note = _date_order_note(distinct, parsed, chosen)
        if note:
            notes.append(note)
    parsed = parsed.iloc[codes].set_axis(present.index)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    out[~blank] = parsed.dt.tz_convert(None).astype("datetime64[ns]")
    bad = pd.Series(False, index=raw.index)
    bad[~blank] = parsed.isna().to_numpy()
    return out, bad


def _date_order_note(distinct: pd.Series, parsed: pd.Series, chosen: str) -> str | None:
    """The sentence for a column read with `chosen`, one of a day/month pair, when the pair's other format
    reads every value too (no day above 12: the month is 12 at most either way) and gives other dates."""
    day, month = parsed.dt.day, parsed.dt.month
    if (day > 12).any() or (day == month).all():
        return None
    other, read = _OTHER_ORDER[chosen], parsed.iloc[0]
    first_part = "day" if chosen.startswith("MM") else "month"
    return (f"Every date reads both as {chosen} and as {other} (no day is above 12): they were read as {chosen}, "
            f"so {distinct.iloc[0]} is {read.day} {read.month_name()} {read.year}. If the export writes the "
            f"{first_part} first, export the dates as YYYY-MM-DD.")


def ambiguous_date_order(raw: pd.Series) -> str | None:
    """The sentence `to_datetime` notes when it had to guess the order of day and month, else None: the
    column's format is one of a day/month pair (MM/DD/YYYY and DD/MM/YYYY, MM-DD-YYYY and DD-MM-YYYY,
    MM/DD/YY and DD/MM/YY; with or without a time) and the other format of the pair also reads every value
    and gives other dates. None for ISO and other formats, datetime columns, blank columns, and columns
    with a day above 12."""
    notes: list[str] = []
    to_datetime(raw, notes)
    return notes[0] if notes else None


def _excel_serials(present: pd.Series) -> pd.Series | None:
    """Excel's serial day numbers as UTC timestamps, or None unless every value is one (20000-80000)."""
    if not present.str.fullmatch(r"\d{5}(\.\d*)?").all():  # cheap test first: most columns stop here
        return None
    days = pd.to_numeric(present, errors="coerce").astype("float64")
    low, high = _EXCEL_SERIALS
    if not days.between(low, high + 1, inclusive="left").all():
        return None
    milliseconds = (days * 86_400_000).round()  # Excel stores times to the millisecond
    return (_EXCEL_EPOCH + pd.to_timedelta(milliseconds, unit="ms")).dt.tz_localize("UTC")


_CURRENCY_MARK = re.compile(r"[$€£¥₹]|USD|EUR|GBP|CHF|CAD|AUD", re.IGNORECASE)
_CURRENCY = re.compile(r"\s|" + _CURRENCY_MARK.pattern, re.IGNORECASE)  # \s: also NBSP, U+202F
_EXPONENT = r"(?:[eE][-+]?\d+)?"


def _proves(decimal: str) -> re.Pattern[str]:
    """Values that can only be read with `decimal` as the decimal separator (they cannot be grouping)."""
    d, g = re.escape(decimal), re.escape("," if decimal == "." else ".")
    return re.compile(
        rf"[-+]?(?:\d{{1,3}}(?:{g}\d{{3}})+{d}\d+"  # both separators, this one last: '1.234,50'
        rf"|\d{{1,3}}(?:{g}\d{{3}}){{2,}}"  # the other one repeated: '1.234.567'
        rf"|\d*{d}(?:\d{{1,2}}|\d{{4,}})"  # followed by 1-2 or 4+ digits: '12,5', '1234,5', '12,5000'
        rf"|(?:0\d*|\d{{4,}})?{d}\d{{3}}){_EXPONENT}")  # 3 digits but no group before: '0,125', '1234,567'


def _number_pattern(decimal: str) -> re.Pattern[str]:
    """A well-formed number with `decimal` as the decimal separator and the other one grouping thousands."""
    d, g = re.escape(decimal), re.escape("," if decimal == "." else ".")
    indian = rf"|\d{{1,2}}(?:{g}\d{{2}})+{g}\d{{3}}" if decimal == "." else ""   # '1,23,456.00' (lakh, crore)
    return re.compile(rf"[-+]?(?:\d{{1,3}}(?:{g}\d{{3}})+{indian}|\d*)(?:{d}\d*)?{_EXPONENT}")


_PROVES = {sep: _proves(sep) for sep in ".,"}
_NUMBER = {sep: _number_pattern(sep) for sep in ".,"}
# Nothing proven: '1200', '12.', '1,200', '1,23,456' (commas group) and '1.200' (see _dot_groups)
_UNPROVEN_NUMBER = re.compile(
    rf"[-+]?(?:\d+\.?|[1-9]\d{{0,2}}[.,]\d{{3}}|[1-9]\d?(?:,\d{{2}})+,\d{{3}}){_EXPONENT}")
_DOT_GROUP = re.compile(rf"[-+]?[1-9]\d{{0,2}}\.\d{{3}}{_EXPONENT}")   # '1.200': 1,200 or 1.2


def _dot_groups(raw: pd.Series, whole: bool) -> bool:
    """In a column no value settles, whether a dot before 3 digits groups thousands ('1.200' is 1,200)
    rather than being a decimal point (1.2): in whole numbers (employees, seats) and in amounts written
    with a currency sign or code ('1.200 €', Europe's whole euros); a plain '1.000' quantity is 1."""
    return whole or bool(raw.astype("string").str.contains(_CURRENCY_MARK).fillna(False).any())


def _decimal_separator(text: pd.Series) -> str | None:
    """',' or '.', whichever more values prove (a tie goes to '.'); None when no value proves either."""
    comma = int(text.str.fullmatch(_PROVES[","]).sum())
    dot = int(text.str.fullmatch(_PROVES["."]).sum())
    if comma == dot == 0:
        return None
    return "," if comma > dot else "."


def _separator_note(example: str, grouped: bool, whole: bool) -> str:
    """What the user is told when a dot before 3 digits was read one way with nothing to settle it."""
    thousands, point = float(example.replace(".", "")), float(example)
    start = f"No value shows whether the dot in numbers like '{example}' is a decimal point or groups thousands"
    if whole:
        return f"{start}: read as {thousands:,.0f} (not {point:g}), since counts are whole numbers."
    if grouped:
        return (f"{start}: read as {thousands:,.0f} (not {point:g}), as amounts with a currency sign are written "
                "in Europe. If they are decimals, export them without the currency sign.")
    return (f"{start}: read as {point:g} (not {thousands:,.0f}). If they are thousands, export the numbers "
            "without thousands separators.")


def to_number(raw: pd.Series, whole: bool = False, notes: list[str] | None = None) -> tuple[pd.Series, pd.Series]:
    """Floats from numbers as exports write them ('$1,234.50', '1.234,50', '(12.00)', '12 %' is not one).

    Returns the values and a mask of non-blank values that are not numbers.

    Currency symbols and codes and every space (NBSP and narrow NBSP too) are dropped; '(12.00)' and '-12.00'
    are negative. Which of ',' and '.' is the decimal separator is decided once per column, from the values
    that prove it because they cannot be a thousands grouping: a separator followed by 1-2 or 4+ digits
    ('12,5', '1234,5', '12.50'), or by 3 digits with no group of 1-3 digits before it ('0.125', '1234,567');
    both separators (the last one is the decimal: '1.234,50', '1,234.50'); one separator repeated
    ('1.234.567' proves ',' is the decimal, '1,234,567' proves '.'). The side with more proving values
    wins (a tie goes to '.'); the other separator then groups thousands, in groups of 3 digits, and a value
    that does not fit that reading is not a number (so '12.50' in a '1.234,50' column is flagged, not read as
    1250). When no value proves either (only integers and values like '1,200' or '1.200': one separator,
    1-3 digits before it and exactly 3 after), a comma before 3 digits groups thousands ('$1,200' is 1200;
    also '1,23,456'), and a dot does so in `whole` numbers and in amounts written with a currency mark
    ('1.200 €' is 1200), else it is a decimal point ('1.000' of a quantity is 1). `notes`, when given,
    receives a sentence for the user saying which way such a dot was read.
    """
    blank = _blank(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    cells = _number_cells(raw)
    text = raw.where(~cells).astype("string").str.strip().str.replace(_CURRENCY, "", regex=True)
    negative = text.str.fullmatch(r"\(.*\)").fillna(False)
    text = text.str.strip("()")
    decimal = _decimal_separator(text)
    if decimal is None:
        valid = text.str.fullmatch(_UNPROVEN_NUMBER)
        dotted = text[text.str.fullmatch(_DOT_GROUP).fillna(False).to_numpy(dtype=bool)]
        grouped = not dotted.empty and _dot_groups(raw, whole)
        if not dotted.empty and notes is not None:
            notes.append(_separator_note(str(dotted.iloc[0]), grouped, whole))
        text = text.str.replace(r"[.,]" if grouped else ",", "", regex=True)
    else:
        valid = text.str.fullmatch(_NUMBER[decimal])
        grouping = "," if decimal == "." else "."
        text = text.str.replace(grouping, "", regex=False).str.replace(decimal, ".", regex=False)
    text = text.where(valid.fillna(False).to_numpy(dtype=bool))
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    values = values.where(~negative.to_numpy(dtype=bool), -values)
    if cells.any():
        values = values.where(~cells, pd.to_numeric(raw.where(cells), errors="coerce").astype("float64"))
    bad = values.isna() & ~blank
    return values, bad


def _number_cells(raw: pd.Series) -> pd.Series:
    """Cells that already hold a number: an Excel number cell, read into an object column, is not text.

    (Its text, 1.125 -> '1.125', would look like a thousands grouping.)
    """
    kind = pd.api.types.infer_dtype(raw, skipna=True) if raw.dtype == object else "string"
    if kind in ("integer", "floating", "mixed-integer-float"):
        return raw.notna()
    if kind not in ("mixed", "mixed-integer"):
        return pd.Series(False, index=raw.index)
    return raw.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, (bool, np.bool_)))


def to_bool(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Yes/No, True/False, 1/0 (and 'churned'/'active') as booleans; a mask of values that are none of these."""
    blank = _blank(raw)
    text = raw.astype("string").str.strip().str.lower()
    out = pd.Series(pd.NA, index=raw.index, dtype="boolean")
    out[text.isin(_TRUE).fillna(False).to_numpy(dtype=bool)] = True
    out[text.isin(_FALSE).fillna(False).to_numpy(dtype=bool)] = False
    bad = out.isna() & ~blank
    return out, bad


def csat_words(raw: pd.Series) -> pd.Series:
    """Zendesk's satisfaction words (Good / Bad) as scores 5 / 1; 'Offered' and 'Unoffered' as missing."""
    text = raw.astype("string").str.strip().str.lower()
    words = text.isin(list(_CSAT_WORDS) + ["offered", "unoffered", "good with comment", "bad with comment"])
    if not words.fillna(False).any():
        return raw
    mapped = text.str.replace(" with comment", "", regex=False).map(_CSAT_WORDS)
    return pd.Series(np.where(mapped.notna(), mapped, np.nan), index=raw.index)
