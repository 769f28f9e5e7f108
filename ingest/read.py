"""Reading one export file (CSV, Excel or Parquet) into a frame of raw values, or saying why not.

CSV cells stay text so identifiers keep their leading zeros; typing happens in `ingest.convert`.
"""
from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pandas as pd

from ingest.problems import Problems

__all__ = ["read_export", "DEFAULT_SIZE_LIMIT", "SUPPORTED_SUFFIXES"]

DEFAULT_SIZE_LIMIT = 200 * 1024 * 1024  # bytes; Streamlit's default upload limit
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".xlsx", ".parquet")
_ENCODINGS = ("utf-8-sig", "latin-1")  # utf-8-sig also reads plain UTF-8; latin-1 accepts any byte
_DELIMITERS = ",;\t|"
_ZIP_MAGIC = b"PK\x03\x04"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"


def _suffix(name: str) -> str:
    lower = name.lower()
    for s in sorted(SUPPORTED_SUFFIXES, key=len, reverse=True):
        if lower.endswith(s):
            return s
    return Path(lower).suffix


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    control = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return control > max(1, len(sample) // 100)


def _decode(data: bytes) -> tuple[str, str]:
    for enc in _ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(text: str) -> str:
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = text.splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def read_export(name: str, data: bytes, problems: Problems,
                size_limit: int = DEFAULT_SIZE_LIMIT) -> pd.DataFrame | None:
    """The file's rows with its own column names, or None after adding an error to `problems`.

    Recognises CSV (comma, semicolon, tab or pipe; UTF-8, UTF-8 with BOM or Latin-1; optionally
    gzip-compressed), Excel .xlsx (first sheet) and Parquet, by content first and extension second.
    """
    if len(data) > size_limit:
        problems.error(name, "", "", f"The file is {len(data) / 1e6:,.0f} MB, over the limit of "
                       f"{size_limit / 1e6:,.0f} MB. Split it (for example by year) or export fewer columns.")
        return None
    if not data.strip():
        problems.error(name, "", "", "The file is empty. Export it again with its header row and data.")
        return None
    suffix = _suffix(name)
    try:
        if data[:4] == _PARQUET_MAGIC:
            frame = pd.read_parquet(io.BytesIO(data))
        elif data[:4] == _ZIP_MAGIC:
            if suffix != ".xlsx":
                problems.error(name, "", "", "This is a zip archive, not a table. Unzip it and upload the "
                               "CSV or Excel file inside.")
                return None
            frame = pd.read_excel(io.BytesIO(data), sheet_name=0, dtype=object, engine="openpyxl")
        else:
            if data[:2] == _GZIP_MAGIC:
                data = gzip.decompress(data)
            if _looks_binary(data[:4096]):
                problems.error(name, "", "", "This is not a table (it looks like a binary file). Upload a "
                               "CSV, Excel (.xlsx) or Parquet export.")
                return None
            text, _encoding = _decode(data)
            sep = _delimiter(text)
            frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                                na_values=[""], skipinitialspace=True, on_bad_lines="error")
    except Exception as exc:  # every reader's own error becomes a message; nothing is stored
        kind = {".xlsx": "an Excel workbook", ".parquet": "a Parquet file"}.get(suffix, "a CSV table")
        problems.error(name, "", "", f"Could not read it as {kind}: {str(exc).splitlines()[0][:200]}. "
                       "Check that it is a plain export with one header row.")
        return None
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.dropna(how="all")
    if frame.empty:
        problems.error(name, "", "", "The file has a header but no data rows. Export it again with its data.")
        return None
    if len(frame.columns) == 1:
        problems.error(name, "", frame.columns[0], "Only one column was found. Is this a table? Use "
                       "comma, semicolon or tab between columns.")
        return None
    return frame  # the index is the data row (0 = first data row), kept for row numbers
