"""Typing raw export values: identifiers, dates, money, numbers and yes/no flags, with clear problems.

Each converter takes a column of raw values and returns the typed column plus a mask of the values that
could not be read (blank cells are missing, not bad).
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

__all__ = ["to_id", "to_datetime", "to_number", "to_bool", "to_text", "DATE_FORMATS_TRIED"]

# (strptime format, how a user reads it); each is also tried with a time of day after it
_DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%m/%d/%Y", "MM/DD/YYYY"), ("%d/%m/%Y", "DD/MM/YYYY"), ("%d.%m.%Y", "DD.MM.YYYY"),
    ("%Y/%m/%d", "YYYY/MM/DD"), ("%d-%m-%Y", "DD-MM-YYYY"), ("%m-%d-%Y", "MM-DD-YYYY"),
    ("%m/%d/%y", "MM/DD/YY"), ("%d/%m/%y", "DD/MM/YY"), ("%d %b %Y", "DD Mon YYYY"),
    ("%b %d, %Y", "Mon DD, YYYY"), ("%Y-%m", "YYYY-MM"),
)
_TIMES = ("", " %H:%M", " %H:%M:%S", "T%H:%M:%S")
DATE_FORMATS_TRIED = "YYYY-MM-DD (ISO 8601, with or without time and zone), " + ", ".join(
    label for _, label in _DATE_FORMATS) + ", Unix seconds or milliseconds"

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


def to_datetime(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Naive UTC timestamps, and a mask of non-blank values that no single known format reads.

    The format is chosen per column (the one that reads the most values), so 03/04/2025 is read the
    same way on every row. ISO 8601 is tried first, then day-first and month-first forms, then Unix
    epoch seconds or milliseconds.
    """
    blank = _blank(raw)
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw.dt.tz_convert(None) if getattr(raw.dt, "tz", None) is not None else raw
        return values.astype("datetime64[ns]"), pd.Series(False, index=raw.index)
    text = raw.astype("string").str.strip()
    present = text[~blank]
    if present.empty:
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]"), pd.Series(False, index=raw.index)
    best = pd.to_datetime(present, format="ISO8601", errors="coerce", utc=True)
    if best.notna().all():
        parsed = best
    else:
        parsed = best
        for fmt, _label in _DATE_FORMATS:
            for t in _TIMES:
                attempt = pd.to_datetime(present, format=fmt + t, errors="coerce", utc=True)
                if attempt.notna().sum() > parsed.notna().sum():
                    parsed = attempt
            if parsed.notna().all():
                break
        if not parsed.notna().all() and present.str.fullmatch(r"\d{10}(\d{3})?").all():
            unit = "ms" if present.str.len().iloc[0] == 13 else "s"
            parsed = pd.to_datetime(present.astype("int64"), unit=unit, utc=True)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns]")
    out[~blank] = parsed.dt.tz_convert(None).astype("datetime64[ns]")
    bad = pd.Series(False, index=raw.index)
    bad[~blank] = parsed.isna().to_numpy()
    return out, bad


_CURRENCY = re.compile(r"[\s$€£¥₹]|USD|EUR|GBP|CHF|CAD|AUD", re.IGNORECASE)


def to_number(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Floats from numbers as exports write them ('$1,234.50', '1.234,50', '(12.00)', '12 %' is not one).

    Returns the values and a mask of non-blank values that are not numbers.
    """
    blank = _blank(raw)
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64"), pd.Series(False, index=raw.index)
    text = raw.astype("string").str.strip().str.replace(_CURRENCY, "", regex=True)
    negative = text.str.fullmatch(r"\(.*\)").fillna(False)
    text = text.str.strip("()")
    # European decimal comma: '1.234,50' or '12,5' (no dot after the comma)
    decimal_comma = text.str.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d+|-?\d+,\d+").fillna(False)
    if decimal_comma[~blank].mean() > 0.5 if (~blank).any() else False:
        text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(",", "", regex=False)
    values = pd.to_numeric(text, errors="coerce").astype("float64")
    values = values.where(~negative.to_numpy(dtype=bool), -values)
    bad = values.isna() & ~blank
    return values, bad


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
