"""Writing the CSV files users take away (segment membership for a CRM, report tables), safely.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula (CSV
injection, OWASP). Text cells that start so get a leading apostrophe, which spreadsheets show as text;
numbers are left alone, so a negative amount stays a number.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["neutralise_formulas", "csv_bytes", "write_csv"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy(deep=False)  # columns replaced below; the frame itself is left as it is
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values) \
                or pd.api.types.is_bool_dtype(values):
            continue
        text = values.astype("string")
        risky = text.str.startswith(_TRIGGERS).fillna(False)
        if risky.any():
            out[column] = text.mask(risky, "'" + text)
    safe_columns = ["'" + c if str(c).startswith(_TRIGGERS) else c for c in out.columns]
    return out.set_axis(safe_columns, axis=1)


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a BOM, so Excel reads accents right) of a frame, formulas neutralised."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The bytes of `csv_bytes(frame)` written to `path` in chunks, without holding the whole text in
    memory (a report's customers.csv at 1M customers is half a gigabyte)."""
    neutralise_formulas(frame).to_csv(path, index=False, encoding="utf-8-sig")
