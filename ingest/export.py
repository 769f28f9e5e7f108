"""Writing the CSV files users take away (segment membership for a CRM, report tables), safely.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula (CSV
injection, OWASP). Text cells that start so get a leading apostrophe, which spreadsheets show as text;
numbers are left alone, so a negative amount stays a number.

The bytes are exactly those of `neutralise_formulas(frame).to_csv(index=False)` in UTF-8 with a BOM, but
built a column at a time with Arrow compute instead of row by row with `csv.writer` (a report's
customers.csv 4-5 times faster): each column becomes the text of its cells, then the cells of each row are
joined. Columns whose text this does not reproduce itself (datetimes, mixed objects, rarer
dtypes) take pandas' own to_csv cell formatting.
"""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

try:  # the function DataFrame.to_csv calls to turn a chunk of a column into cell text
    from pandas.core.indexes.base import get_values_for_csv
except ImportError:  # a pandas without it: every frame is written by DataFrame.to_csv itself
    get_values_for_csv = None

__all__ = ["neutralise_formulas", "csv_bytes", "write_csv", "ReportFolder"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

# DataFrame.to_csv formats 100,000 cells at a time (pandas.io.formats.csvs._DEFAULT_CHUNKSIZE_CELLS), and a
# datetime column's text depends on its chunk: dates only when every time in the chunk is midnight. The
# writer keeps those chunk edges and handles _CHUNKS_PER_BATCH of them at once (about 1.6M cells).
_PANDAS_CHUNK_CELLS = 100_000
_CHUNKS_PER_BATCH = 16


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells cannot run as spreadsheet formulas."""
    out = frame.copy(deep=False)  # columns replaced below; the frame itself is left as it is
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_datetime64_any_dtype(values) \
                or pd.api.types.is_bool_dtype(values) or not _may_start_like_a_formula(values):
            continue
        text = values.astype("string")
        risky = text.str.startswith(_TRIGGERS).fillna(False)
        if risky.any():
            out[column] = text.mask(risky, "'" + text)
    safe_columns = ["'" + c if str(c).startswith(_TRIGGERS) else c for c in out.columns]
    return out.set_axis(safe_columns, axis=1)


def _may_start_like_a_formula(values: pd.Series) -> bool:
    """False when no cell's text starts with a trigger, found without converting a whole categorical or
    Arrow string column to text (the conversion above is kept for the columns that need it)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = pd.Series(values.cat.categories).astype("string")
        risky = np.flatnonzero(categories.str.startswith(_TRIGGERS).to_numpy(dtype=bool))
        return bool(np.isin(values.cat.codes.to_numpy(), risky).any())
    if isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow":
        first = pc.utf8_slice_codeunits(pa.array(values.array), 0, 1)  # every trigger is one character
        return bool(pc.any(pc.is_in(first, value_set=pa.array(_TRIGGERS))).as_py())
    return True


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with a BOM, so Excel reads accents right) of a frame, formulas neutralised."""
    safe = neutralise_formulas(frame)
    if not _columnwise(safe):
        return safe.to_csv(index=False).encode("utf-8-sig")
    return b"".join(_csv_pieces(safe))


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """The bytes of `csv_bytes(frame)` written to `path` in chunks, without holding the whole text in
    memory (a report's customers.csv at 1M customers is half a gigabyte)."""
    safe = neutralise_formulas(frame)
    if not _columnwise(safe):
        safe.to_csv(path, index=False, encoding="utf-8-sig")
        return
    with open(path, "wb") as sink:
        for piece in _csv_pieces(safe):
            sink.write(piece)


class ReportFolder:
    """The files of one report run, written into a folder as a set. `write` starts a CSV in a background
    thread at once (the report's customers.csv, the largest, is written while the rest of the report is
    computed: most of the work is Arrow's, which runs beside Python), under a hidden temporary name;
    `commit` waits for every file, gives each its name and writes the run's manifest, `report.json`
    (what the run was: as-of date, options; the files, and the rows of each table). Tables a previous
    run's manifest lists and this run does not write (transitions.csv of a run with --compare-to, say) are
    removed, so the folder never mixes two runs' tables; no other file is touched (a board pack carries
    its own date and stays until a run replaces it). Leaving the `with` block on an error removes
    what was written: the folder keeps the files it had, and never holds a half-written one.

        with ReportFolder(out) as folder:
            folder.write("customers.csv", customers)
            ...
            names, removed = folder.commit({"as_of": "2026-11-01"})
    """

    MANIFEST = "report.json"

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="csv")
        self._pending: dict[str, tuple[Path, Future, int | None]] = {}

    def __enter__(self) -> "ReportFolder":
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is not None:
                self._discard()
        finally:
            self._pool.shutdown(wait=True)

    def __contains__(self, name: str) -> bool:
        return name in self._pending

    def write(self, name: str, frame: pd.DataFrame) -> None:
        """Start writing `frame` as the CSV file `name` (the bytes of `write_csv`). The writer reads a
        shallow copy, which later changes to `frame` do not reach (pandas copy-on-write)."""
        self._claim(name)
        self._start(name, write_csv, frame.copy(deep=False), rows=len(frame))

    def write_bytes(self, name: str, data: bytes) -> None:
        """Start writing `data` as the file `name` (a board pack's HTML or PDF)."""
        self._claim(name)
        self._start(name, _write_bytes, data, rows=None)

    def commit(self, about: dict) -> tuple[list[str], list[str]]:
        """Wait for every file (an error writing one is raised here), give each its name, write the
        manifest (`about` plus the files), then remove the previous run's tables this run did not write.
        Returns the names written (in the order given, the manifest last) and the names removed."""
        for _, future, _ in self._pending.values():
            future.result()
        files = [{"name": name, "rows": rows} if rows is not None else {"name": name}
                 for name, (_, _, rows) in self._pending.items()]
        stale = [name for name in self._previous_tables() if name not in self._pending]
        manifest = json.dumps({**about, "files": files}, indent=2) + "\n"
        self._start(self.MANIFEST, _write_bytes, manifest.encode(), rows=None)
        self._pending[self.MANIFEST][1].result()
        for name, (temporary, _, _) in self._pending.items():
            os.replace(temporary, self.folder / name)
        names = list(self._pending)
        self._pending.clear()
        removed = []
        for name in stale:
            if (self.folder / name).is_file():
                (self.folder / name).unlink()
                removed.append(name)
        return names, removed

    def _claim(self, name: str) -> None:
        if name == self.MANIFEST:
            raise ValueError(f"ReportFolder: {name} is the manifest's name; give the file another.")
        if name in self._pending:
            raise ValueError(f"ReportFolder: {name} was already written in this set.")

    def _start(self, name: str, writer, content: object, rows: int | None) -> None:
        temporary = self.folder / f".{name}.partial"
        self._pending[name] = (temporary, self._pool.submit(writer, content, temporary), rows)

    def _previous_tables(self) -> list[str]:
        """The plain file names of the tables (entries with rows) the folder's manifest lists (none when
        there is no readable manifest: then nothing is removed)."""
        try:
            listed = json.loads((self.folder / self.MANIFEST).read_text(encoding="utf-8"))["files"]
            names = [entry["name"] for entry in listed if "rows" in entry]
        except (OSError, ValueError, KeyError, TypeError):
            return []
        return [name for name in names if isinstance(name, str) and name not in ("", ".", "..")
                and Path(name).name == name and name != self.MANIFEST]

    def _discard(self) -> None:
        wait([future for _, future, _ in self._pending.values()])
        for temporary, _, _ in self._pending.values():
            temporary.unlink(missing_ok=True)
        self._pending.clear()


def _write_bytes(data: bytes, path: Path) -> None:
    path.write_bytes(data)


def _columnwise(frame: pd.DataFrame) -> bool:
    """Whether the column-at-a-time writer applies: not to a frame without columns (whose rows are empty
    lines) nor to one with a MultiIndex header; to_csv writes those."""
    return get_values_for_csv is not None and frame.shape[1] > 0 \
        and not isinstance(frame.columns, pd.MultiIndex)


def _csv_pieces(frame: pd.DataFrame) -> Iterator[bytes | memoryview]:
    """The BOM and header line (written by to_csv itself), then the rows, one batch of chunks at a time."""
    yield "\ufeff".encode() + frame.iloc[:0].to_csv(index=False).encode()
    n_columns = frame.shape[1]
    chunk = _PANDAS_CHUNK_CELLS // n_columns or 1
    batch = chunk * _CHUNKS_PER_BATCH
    columns = [_cell_source(frame.iloc[:, i]) for i in range(n_columns)]
    for start in range(0, len(frame), batch):
        stop = min(start + batch, len(frame))
        cells = [_cell_text(values, start, stop, chunk) for values in columns]
        if n_columns == 1:  # csv.writer quotes a row of one empty cell, which would otherwise vanish
            cells[0] = pc.if_else(pc.equal(cells[0], ""), '""', cells[0])
        cells[-1] = _append(cells[-1], "\n")
        # 64-bit offsets: the lines of a batch of long texts may pass 2 GB
        lines = pc.binary_join_element_wise(*[cell.cast(pa.large_string()) for cell in cells],
                                            pa.scalar(",", pa.large_string()))
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64, count=len(lines) + 1,
                                offset=lines.offset * 8)
        yield memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]


def _cell_source(column: pd.Series) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """A column's values as to_csv hands them to get_values_for_csv: a numpy array or an extension array
    (datetimes as a DatetimeArray)."""
    values = column.array
    return values.to_numpy() if isinstance(values, pd.arrays.NumpyExtensionArray) else values


def _cell_text(values: np.ndarray | pd.api.extensions.ExtensionArray, start: int, stop: int,
               chunk: int) -> pa.StringArray:
    """The CSV cells of rows [start, stop) of a column, quoted as csv.writer quotes them: one string per
    row, never null (a missing value is an empty cell)."""
    part = values[start:stop]
    if isinstance(part, np.ndarray):
        if part.dtype == np.float64:
            return _float_text(part)
        if part.dtype.kind in "iu":
            return pc.cast(pa.array(part), pa.string())
        if part.dtype.kind == "b":
            return pc.if_else(pa.array(part), "True", "False")
        if part.dtype == object and pd.api.types.infer_dtype(part, skipna=True) in ("string", "empty"):
            return _quoted(pc.fill_null(pa.array(part, type=pa.string(), from_pandas=True), ""))
    elif isinstance(part.dtype, pd.StringDtype):
        return _quoted(pc.fill_null(pc.cast(_arrow(part), pa.string()), ""))
    elif isinstance(part, pd.arrays.IntegerArray):
        return pc.fill_null(pc.cast(_arrow(part), pa.string()), "")
    elif isinstance(part, pd.arrays.BooleanArray):
        return pc.fill_null(pc.if_else(_arrow(part), "True", "False"), "")
    elif isinstance(part, pd.Categorical) and part.categories.dtype.kind not in "Mm":
        return _category_text(part)
    return _quoted(_pandas_text(values, start, stop, chunk))


def _float_text(values: np.ndarray) -> pa.StringArray:
    """Each float as numpy's astype(str) writes it for to_csv, which is Python's repr ('100.0', '0.1',
    '1e-05', '1e+16', 'inf'), and NaN as an empty cell.

    numpy's formatting takes about 1 µs a value, so it is kept for the few values the faster ways do not
    cover: whole numbers below 1e16 are their integer plus '.0', and other values from 1e-4 to 1e16 are
    Arrow's shortest round-trip text, the same digits as repr, when Arrow does not write an exponent
    there (checked against numpy on 26 million values: random bit patterns, 1 to 4 decimal places, ratios).
    """
    with np.errstate(invalid="ignore"):  # a signalling NaN
        whole = (np.trunc(values) == values) & (np.abs(values) < 1e16) & ~((values == 0) & np.signbit(values))
    text = _append(pc.cast(pa.array(np.where(whole, values, 0).astype(np.int64)), pa.string()), ".0")
    if whole.all():
        return text
    rest = values[~whole]
    rest_text = pc.cast(pa.array(rest, from_pandas=True), pa.string())  # NaN: null, filled below
    magnitude = np.abs(rest)
    exponent = pc.fill_null(pc.match_substring(rest_text, "e"), False).to_numpy(zero_copy_only=False)
    by_numpy = ~np.isnan(rest) & ~((magnitude >= 1e-4) & (magnitude < 1e16) & ~exponent)
    if by_numpy.any():
        rest_text = pc.replace_with_mask(rest_text, pa.array(by_numpy), pa.array(rest[by_numpy].astype(str)))
    return pc.fill_null(pc.replace_with_mask(text, pa.array(~whole), rest_text), "")


def _category_text(values: pd.Categorical) -> pa.StringArray:
    """Each category's text, as csv.writer writes the category's value, taken by code; empty if missing."""
    labels = pd.Categorical.from_codes(np.arange(len(values.categories)), dtype=values.dtype)
    label_text = _quoted(pa.array([str(label) for label in np.asarray(labels.astype(object))],
                                  type=pa.string()))
    codes = values.codes
    return pc.fill_null(pc.take(label_text, pa.array(codes, mask=codes < 0)), "")


def _pandas_text(values: np.ndarray | pd.api.extensions.ExtensionArray, start: int, stop: int,
                 chunk: int) -> pa.StringArray:
    """Cells formatted by pandas as to_csv formats them, chunk by chunk, then str() as csv.writer applies
    it to whatever is not text yet."""
    pieces = []
    for first in range(start, stop, chunk):
        cells = get_values_for_csv(values[first:min(first + chunk, stop)], date_format=None, na_rep="",
                                   quoting=csv.QUOTE_MINIMAL, float_format=None, decimal=".")
        if pd.api.types.infer_dtype(cells, skipna=False) != "string":
            cells = ["" if cell is None else str(cell) for cell in cells]
        pieces.append(pa.array(cells, type=pa.string()))
    return pa.concat_arrays(pieces)


def _quoted(text: pa.StringArray) -> pa.StringArray:
    """Cells that csv.writer would quote, in quotes, with their quotes doubled."""
    needs_quotes = pc.match_substring_regex(text, _quote_pattern())
    if not pc.any(needs_quotes).as_py():
        return text
    quoted = pc.binary_join_element_wise('"', pc.replace_substring(text, '"', '""'), '"', "")
    return pc.if_else(needs_quotes, quoted, text)


@cache
def _quote_pattern() -> str:
    """A regex character class of what makes csv.writer quote a cell in to_csv's dialect: the delimiter,
    the quote, the line terminator and, only in newer Pythons (CPython gh-67044: 3.13.0 does, 3.11.7 and
    3.12.1 do not), a bare carriage return; so the running csv module is asked."""
    def quotes(character: str) -> bool:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{character}b"])
        return buffer.getvalue().startswith('"')

    candidates = {",": ",", '"': '"', "\n": r"\n", "\r": r"\r"}
    return "[" + "".join(escaped for character, escaped in candidates.items() if quotes(character)) + "]"


def _arrow(values: pd.api.extensions.ExtensionArray) -> pa.Array:
    """An extension array's values as one Arrow array (pandas' Arrow-backed columns are chunked)."""
    array = pa.array(values)
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def _append(text: pa.StringArray, suffix: str) -> pa.StringArray:
    """`suffix` added to every string (a slice past the end of a string is its end)."""
    return pc.binary_replace_slice(text, start=2**30, stop=2**30, replacement=suffix)
