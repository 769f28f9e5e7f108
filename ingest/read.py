"""Reading one export file (CSV, Excel or Parquet) into a frame of raw values, or saying why not.

CSV cells stay text so identifiers keep their leading zeros; typing happens in `ingest.convert`.
"""
from __future__ import annotations

import csv
import gzip
import io
import itertools
import re
import zipfile
from pathlib import Path

import pandas as pd

from ingest.mapping import guess_table
from ingest.problems import Problems

__all__ = ["read_export", "workbook_tables", "DEFAULT_SIZE_LIMIT", "SUPPORTED_SUFFIXES"]

DEFAULT_SIZE_LIMIT = 200 * 1024 * 1024  # bytes; Streamlit's default upload limit
SUPPORTED_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz", ".xlsx", ".parquet")
# utf-8-sig also reads plain UTF-8; cp1252 is Windows Excel's ("€", "Š", curly quotes), which latin-1
# would read as control characters; latin-1 accepts any byte (the five cp1252 leaves undefined)
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")  # Excel's "Unicode Text" export: UTF-16 with a byte order mark
_DELIMITERS = ",;\t|"
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0"   # Excel 97-2003 (.xls) and other Office files of that age
_PDF_MAGIC = b"%PDF"
_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"


def _is_workbook(data: bytes) -> bool:
    """A zip archive holding an Excel workbook (.xlsx's parts)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


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
    if data[:2] in _UTF16_BOMS:
        return data.decode("utf-16"), "utf-16"
    for enc in _ENCODINGS:
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _delimiter(text: str) -> str:
    head = "\n".join(text[:200_000].splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = text[:200_000].splitlines()[0] if text else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


def _read_text(name: str, text: str, problems: Problems) -> pd.DataFrame | None:
    """A CSV text's rows (None after an error in `problems`). Blank lines are kept as empty rows (dropped
    later) so that row numbers stay the file's line numbers; title lines above the header (one value
    each, or none) are skipped with a warning; a delimiter ending every data row but not the
    header (a spreadsheet's empty last column) is dropped."""
    sep = _delimiter(text)
    # The head's records (a quoted header cell may hold a line break); a file can hold millions of lines.
    records = list(itertools.islice(csv.reader(io.StringIO(text[:200_000]), delimiter=sep), 50))
    # the header: the first record with two values or more (a title line has one, a blank line none)
    top = next((i for i, r in enumerate(records) if sum(1 for f in r if f.strip()) >= 2), 0)
    titles = [sep.join(r).strip() for r in records[:top] if sep.join(r).strip()]
    if titles:
        problems.warning(name, "", "", f"The first {top} line(s) above the header were skipped (titles, e.g. "
                         f"{titles[0][:60]!r}).")
    # Checked before pandas reads it: pandas would rename the second "amount" to "amount.1".
    if _named_twice(name, [f.strip() for f in records[top] if f.strip()] if records else [], problems):
        return None
    read = dict(sep=sep, dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True,
                skip_blank_lines=False, on_bad_lines="error", skiprows=top)
    try:
        frame = pd.read_csv(io.StringIO(text), **read)
    except pd.errors.ParserError as exc:
        found = _FIELDS.search(str(exc))
        if found is None:
            raise
        expected, line, saw = (int(g) for g in found.groups())
        # The first rows under the header already wider than it: the "header" may be a title line.
        title = (f" Or line {top + 1} ({sep.join(records[top])[:60]!r}) is a title above the column names: "
                 "start the file at the column names." if line <= 3 and saw > expected else "")
        problems.error(name, "", "", f"Line {line + top} has {saw} values where the header has {expected} "
                       f"columns. A value may hold the delimiter {sep!r} without quotes (such as 1,234.50 in a "
                       f"comma-separated file): quote such values, or export with another delimiter.{title}")
        return None
    if not isinstance(frame.index, pd.RangeIndex):
        # Every data row has one value more than the header: pandas took the first column as the index.
        # Drop the extra last value when it is empty in every row (a trailing delimiter); else say so.
        header = len(frame.columns)
        full = pd.read_csv(io.StringIO(text), **{**read, "skiprows": top + 1}, header=None,
                           names=range(header + 1))
        if full[header].notna().any():
            problems.error(name, "", "", f"The rows have {header + 1} values where the header has {header} "
                           f"columns. A value may hold the delimiter {sep!r} without quotes: quote such values, "
                           "or export with another delimiter.")
            return None
        frame = full.drop(columns=[header]).set_axis(list(frame.columns), axis=1)
    lines = text.count("\n") + (not text.endswith("\n"))
    spanning = lines > top + 1 + len(frame)   # more lines than records: a quoted value spans lines
    frame.index = _first_lines(text, sep, top, len(frame)) - 2 if spanning else frame.index + top
    return frame


def _named_twice(name: str, columns: list[str], problems: Problems) -> bool:
    """Whether two columns share a name (after trimming spaces), said as an error: each value must have
    its own column."""
    twice = sorted({c for c in columns if columns.count(c) > 1})
    if twice:
        problems.error(name, "", twice[0], f"Two columns are both named {twice[0]!r} (spaces around a name do not "
                       "count). Rename or remove one of them, so that each column has its own name.")
    return bool(twice)


def _first_lines(text: str, sep: str, top: int, rows: int) -> pd.Index:
    """The file line (1-based) each data row starts on: a quoted value may span lines, so the n-th row is
    not always on line n + 1 (pandas numbers records). Counted only for such files."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    ends = [reader.line_num for _ in reader]   # the line each record (titles, header, rows) ends on
    starts = [1] + [end + 1 for end in ends[:-1]]
    data = starts[top + 1:top + 1 + rows]
    return pd.Index(data if len(data) == rows else range(top + 2, top + 2 + rows))


def workbook_tables(name: str, data: bytes) -> list[str]:
    """The visible sheets of a workbook whose header names a table of the contract, when two or more do (a
    workbook with a sheet per table: customers, revenue, tickets): each is then read as a file of its own.
    [] for anything else (a file that is no workbook, one table sheet, or a workbook that cannot be read:
    read_export then says why). Reads the first 50 rows of each sheet."""
    if data[:4] != _ZIP_MAGIC or not _is_workbook(data):
        return []
    try:
        with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
            heads = {sheet: book.parse(sheet, header=None, dtype=object, nrows=50).dropna(how="all", axis=1)
                     for sheet in _visible_sheets(book)}
    except Exception:  # noqa: BLE001 - read_export says what is wrong with it
        return []
    tables = [sheet for sheet, head in heads.items() if _names_a_table(sheet, head)]
    return tables if len(tables) >= 2 else []


def _names_a_table(name: str, raw: pd.DataFrame) -> bool:
    """Whether a sheet's header row (read without a header) names a table of the contract; `name` hints."""
    return bool(len(raw)) and guess_table(name, _names(raw.iloc[_header_row(raw)])) is not None


def _visible_sheets(book: pd.ExcelFile) -> list[str]:
    visible = [sheet.title for sheet in book.book.worksheets if sheet.sheet_state == "visible"]
    return visible or book.sheet_names


def _read_workbook(name: str, data: bytes, problems: Problems, sheet: str | None = None) -> pd.DataFrame:
    """A workbook's table, from its header row (the first with two cells or more: title rows above it are
    skipped). The sheet: `sheet` when given (workbook_tables); else the first visible one whose header
    names a table of the contract (an "Orders" sheet before a bigger pivot of it), else the largest
    visible one; a warning names a sheet that is not the first, and skipped title rows."""
    with pd.ExcelFile(io.BytesIO(data), engine="openpyxl") as book:
        sheets = {s: book.parse(s, header=None, dtype=object).dropna(how="all", axis=1)
                  for s in ([sheet] if sheet is not None else _visible_sheets(book))}
    first = next(iter(sheets))
    recognised = [s for s, raw in sheets.items() if _names_a_table(name, raw)]
    chosen = recognised[0] if recognised else max(sheets, key=lambda s: int(sheets[s].notna().sum().sum()))
    if chosen != first:
        why = "its columns name a table" if recognised else "the workbook's largest"
        problems.warning(name, "", "", f"Read the sheet {chosen!r} ({why}); the first sheet, {first!r}, "
                         f"{'is empty' if sheets[first].empty else 'was left out'}.")
    raw = sheets[chosen]
    top = _header_row(raw)
    if top and raw.head(top).notna().any(axis=None):
        problems.warning(name, "", "", f"The first {top} row(s) of the sheet {chosen!r}, above its header, were "
                         "skipped (titles).")
    frame = raw.iloc[top + 1:].set_axis(_names(raw.iloc[top]) if len(raw) else [], axis=1)
    frame.index = frame.index - 1   # sheet row p + 1 (1-based) -> data row p - 1 (file_rows adds 2)
    return frame


def _header_row(raw: pd.DataFrame) -> int:
    """A sheet's header row: the first with two cells or more (0 when none has)."""
    return next((i for i, c in enumerate(raw.head(50).notna().sum(axis=1)) if c >= 2), 0)


def _names(row: pd.Series) -> list[str]:
    return [str(v) if pd.notna(v) else f"Unnamed: {i}" for i, v in enumerate(row)]


def _without_repeated_headers(name: str, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """`frame` without the rows that repeat its header (exports pasted one under another), said in a warning."""
    if frame.empty or len(frame.columns) < 2:
        return frame
    first = frame.iloc[:, 0]
    repeat = first.astype("string").str.strip().eq(str(frame.columns[0])).fillna(False).to_numpy(dtype=bool)
    if repeat.any():   # the first column said it; every other one must too
        rows = frame[repeat].astype("string").apply(lambda col: col.str.strip())
        repeat[repeat] = (rows == pd.Index(frame.columns).astype("string")).all(axis=1).to_numpy(dtype=bool)
    if not repeat.any():
        return frame
    lines = ", ".join(str(int(i) + 2) for i in frame.index[repeat][:5])
    problems.warning(name, "", "", f"{int(repeat.sum()):,} row(s) repeating the header were skipped (row {lines}): "
                     "exports pasted one under another?")
    return frame[~repeat]


def read_export(name: str, data: bytes, problems: Problems,
                size_limit: int = DEFAULT_SIZE_LIMIT, sheet: str | None = None) -> pd.DataFrame | None:
    """The file's rows with its own column names, or None after adding an error to `problems`.

    Recognises CSV (comma, semicolon, tab or pipe; UTF-8, UTF-8 with BOM, UTF-16 with BOM, Windows-1252
    or Latin-1; optionally gzip-compressed), Excel .xlsx and Parquet, by content first and extension
    second. Title lines above a CSV's header, and title rows above a sheet's header, are skipped with a
    warning; a workbook is read from `sheet` when given (workbook_tables), else from its first visible sheet
    whose columns name a table, else its largest (a warning names it when it is not the first).
    The frame's index is each row's data row number (0 = the row under the header line 1 of the file as
    exported, blank lines counted), so that `ingest.problems.file_rows` names the lines a user sees.
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
            if suffix != ".xlsx" and not _is_workbook(data):
                problems.error(name, "", "", "This is a zip archive, not a table. Unzip it and upload the "
                               "CSV or Excel file inside.")
                return None
            if suffix != ".xlsx" and sheet is None:   # by content first: a workbook saved under another name
                problems.warning(name, "", "", f"This is an Excel workbook, though its name ends in "
                                 f"{suffix or 'no extension'}: it was read as one.")
            frame = _read_workbook(name, data, problems, sheet)
        elif data[:4] == _OLE2_MAGIC:
            problems.error(name, "", "", "This is an old Excel file (.xls, Excel 97-2003), which is not read: open "
                           "it in Excel and save it as an Excel workbook (.xlsx) or CSV, then upload that.")
            return None
        elif data[:4] == _PDF_MAGIC:
            problems.error(name, "", "", "This is a PDF document, not a table: export the data itself from the "
                           "tool it came from, as CSV or Excel (.xlsx), and upload that.")
            return None
        else:
            if data[:2] == _GZIP_MAGIC:
                data = gzip.decompress(data)
            if data[:2] not in _UTF16_BOMS and _looks_binary(data[:4096]):
                problems.error(name, "", "", "This is not a table (it looks like a binary file). Upload a "
                               "CSV, Excel (.xlsx) or Parquet export.")
                return None
            text, _encoding = _decode(data)
            frame = _read_text(name, text, problems)
            if frame is None:
                return None
    except Exception as exc:  # every reader's own error becomes a message; nothing is stored
        kind = {".xlsx": "an Excel workbook", ".parquet": "a Parquet file"}.get(suffix, "a CSV table")
        problems.error(name, "", "", f"Could not read it as {kind}: {str(exc).splitlines()[0][:200]}. "
                       "Check that it is a plain export with one header row.")
        return None
    names = [str(c).strip() for c in frame.columns]
    if _named_twice(name, names, problems):
        return None
    frame.columns = names
    frame = _without_repeated_headers(name, frame.dropna(how="all"), problems)
    if frame.empty:
        problems.error(name, "", "", "The file has a header but no data rows. Export it again with its data.")
        return None
    if len(frame.columns) == 1:
        problems.error(name, "", frame.columns[0], "Only one column was found. Is this a table? Use "
                       "comma, semicolon or tab between columns.")
        return None
    return frame  # the index is the data row (0 = first data row), kept for row numbers
