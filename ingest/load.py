"""Loading exports: read, recognise, map, type, validate, build the ledger, and store atomically.

`prepare` does everything except storing and never raises on bad input: every problem becomes a row of
the report (file, table, column, example rows, count, message, severity). `load` stores the result only
when there is no error, replacing the whole workspace in one transaction.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from ingest.contract import MAX_AMOUNT, STORED_TABLES, TABLE_ORDER, TABLES
from ingest.convert import DATE_FORMATS_TRIED, csat_words, to_bool, to_datetime, to_id, to_number, to_text
from ingest.ledger import build_ledger
from ingest.mapping import (MINUTE_SCALES, SYNONYMS, column_name, guess_mapping, guess_table, header_currency,
                            is_row_id, missing_required, normalise, revenue_shape)
from ingest.problems import Problems, file_rows, partial_month_message, repeated_invoices_message
from ingest.read import DEFAULT_SIZE_LIMIT, SUPPORTED_SUFFIXES, read_export, workbook_tables
from ingest.store import Workspace

__all__ = ["Upload", "LoadOptions", "LoadResult", "prepare", "load", "load_sample", "load_folder",
           "read_folder", "SAMPLE_DIR"]

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
_PREVIEW_ROWS = 20
# columns whose dates must not lie after the day of the load (a service period or a scheduled end may)
_NOT_FUTURE = {"customers": ("signup_date",), "revenue": ("date", "start_date"), "events": ("timestamp",),
               "tickets": ("created_at",), "spend": ("month",), "nps": ("date",)}
_COUNTS = {"employees", "seat_limit"}   # stored as numbers, counted in whole units: '1.200' employees is 1,200
_INTERVAL_MONTHS = {"month": 1, "monthly": 1, "quarter": 3, "quarterly": 3, "year": 12, "yearly": 12,
                    "annual": 12, "annually": 12, "week": 12 / 52, "weekly": 12 / 52, "day": 12 / 365,
                    "daily": 12 / 365}


@dataclass(frozen=True)
class Upload:
    """One file to load. `table` and `mapping` (contract column -> file column) override the guesses.
    `sheet`: the sheet of a workbook to read (split_workbooks), else the workbook's table sheet."""

    name: str
    data: bytes
    table: str | None = None
    mapping: dict[str, str] | None = None
    sheet: str | None = None

    @classmethod
    def from_path(cls, path: str | Path, table: str | None = None,
                  mapping: dict[str, str] | None = None) -> "Upload":
        path = Path(path)
        return cls(path.name, path.read_bytes(), table, mapping)


@dataclass(frozen=True)
class LoadOptions:
    """snapshot_date: the export day of a CRM snapshot; today: the load day (dates after it are errors);
    revenue_model: force "subscription" or "transactional" instead of detecting it; currency: the
    currency code of revenue without a currency column."""

    snapshot_date: date | None = None
    today: date | None = None
    size_limit: int = DEFAULT_SIZE_LIMIT
    revenue_model: str | None = None
    currency: str | None = None  # when the revenue has no currency column (shown as money without a code)
    source: str = "upload"


@dataclass
class LoadResult:
    """What a load found and built. `ok` is False when any problem is an error."""

    problems: Problems = field(default_factory=Problems)
    recognised: dict[str, str | None] = field(default_factory=dict)
    mappings: dict[str, dict[str, str]] = field(default_factory=dict)
    columns: dict[str, list[str]] = field(default_factory=dict)
    previews: dict[str, pd.DataFrame] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)
    version: str | None = None

    @property
    def ok(self) -> bool:
        return not self.problems.has_errors and "revenue" in self.tables

    def problems_frame(self) -> pd.DataFrame:
        return self.problems.frame()


# -- typing one table ---------------------------------------------------------------------------------
def _examples(raw: pd.Series, mask: pd.Series, n: int = 3) -> str:
    return ", ".join(repr(str(v)) for v in raw[mask].head(n))


def _convert(file: str, table: str, raw: pd.DataFrame, mapping: dict[str, str], problems: Problems,
             options: LoadOptions) -> pd.DataFrame:
    """The contract columns of one table, typed; plus the file's other columns (as `attr:<name>`)."""
    spec = TABLES[table]
    out = pd.DataFrame(index=raw.index)
    for column, source in mapping.items():
        kind = spec.kinds[column]
        values = raw[source]
        notes: list[str] = []   # what a converter guessed where nothing settled it (said as warnings)
        if kind == "id":
            out[column] = to_id(values)
        elif kind == "text":
            out[column] = to_text(values)
        elif kind in ("date", "timestamp"):
            parsed, bad = to_datetime(values, notes)
            if bad.any():
                problems.error(file, table, source, f"{int(bad.sum()):,} value(s) are not dates, e.g. "
                               f"{_examples(values, bad)}. Formats tried: {DATE_FORMATS_TRIED}. Use one "
                               "date format for the whole column.", rows=file_rows(bad), count=int(bad.sum()))
            out[column] = parsed.dt.normalize() if kind == "date" else parsed
        elif kind == "bool":
            parsed, bad = to_bool(values)
            if bad.any():
                problems.error(file, table, source, f"{int(bad.sum()):,} value(s) are not yes/no, e.g. "
                               f"{_examples(values, bad)}. Use Yes/No, True/False or 1/0.",
                               rows=file_rows(bad), count=int(bad.sum()))
            out[column] = parsed
        else:  # money, number, integer
            if column == "csat":
                values = csat_words(values)
            parsed, bad = to_number(values, whole=kind == "integer" or column in _COUNTS, notes=notes)
            # 'inf', '1e20': numbers to pandas, not amounts (an amount beyond a trillion: beyond what cents hold)
            bad = bad | (parsed.abs() >= (MAX_AMOUNT if kind == "money" else np.inf)).fillna(False)
            if bad.any():
                what = "amounts (or are infinite or over a trillion)" if kind == "money" else "numbers"
                problems.error(file, table, source, f"{int(bad.sum()):,} value(s) are not {what}, e.g. "
                               f"{_examples(values, bad)}. Remove text from this column (currency symbols "
                               "and thousands separators are fine).", rows=file_rows(bad), count=int(bad.sum()))
            if column == "minutes":
                parsed = parsed * MINUTE_SCALES.get(normalise(source), 1.0)
            if kind == "integer":
                fractional = parsed.notna() & (parsed != parsed.round())
                if fractional.any():
                    problems.error(file, table, source, f"{int(fractional.sum()):,} value(s) are not whole "
                                   f"numbers, e.g. {_examples(values, fractional)}.",
                                   rows=file_rows(fractional), count=int(fractional.sum()))
            out[column] = parsed
        for note in notes:
            problems.warning(file, table, source, note)
    used = set(mapping.values())
    for source in raw.columns:
        if source not in used:
            out[f"attr:{source}"] = raw[source]
    return out


def _drop_blank_required(file: str, table: str, frame: pd.DataFrame, mapping: dict[str, str],
                         required: tuple[str, ...], problems: Problems) -> pd.DataFrame:
    for column in required:
        if column not in frame:
            continue
        blank = frame[column].isna()
        if blank.any():
            problems.warning(file, table, mapping.get(column, column),
                             f"{int(blank.sum()):,} row(s) without {column} were skipped.{_share(frame, blank)}",
                             rows=file_rows(blank), count=int(blank.sum()))
            frame = frame[~blank]
    return frame


def _header_currency(mapping: dict[str, str]) -> str:
    """The currency the revenue's amount or MRR column names ("Amount (USD)"), else ""."""
    for column in ("amount", "mrr", "unit_price"):
        if column in mapping and header_currency(mapping[column]):
            return header_currency(mapping[column])
    return ""


def _repeated_rows(file: str, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    """The revenue rows, each repeat of an earlier row (every column the same) dropped when an id column
    names each row once (`is_row_id`: the same invoice exported twice, e.g. by overlapping exports), and said
    in a warning otherwise (two identical order lines can be two sales)."""
    repeat = frame.duplicated(keep="first")
    if not repeat.any():
        return frame
    n, rows = int(repeat.sum()), file_rows(repeat)
    kept = frame[~repeat]
    named = next((c for c in frame.columns if c.startswith("attr:") and is_row_id(c[5:])
                  and kept[c].notna().all() and not kept[c].duplicated().any()), None)
    if named is not None:
        problems.warning(file, "revenue", named[5:], repeated_invoices_message(n, named[5:]), rows=rows, count=n)
        return kept
    problems.warning(file, "revenue", "", f"{n:,} row(s) repeat an earlier row exactly (every column the same). "
                     "They count as separate sales; if two exports overlap, remove the repeats and load again.",
                     rows=rows, count=n)
    return frame


def _share(frame: pd.DataFrame, skipped: pd.Series) -> str:
    """How much of an order or invoice file's net amount the skipped rows hold, in words ("" when the file
    has no amount or they hold none): guest checkouts without a customer id can be a sixth of a shop's
    revenue, which every figure then leaves out."""
    if "amount" in frame:
        amount = frame["amount"]
    elif "quantity" in frame and "unit_price" in frame:
        amount = frame["quantity"] * frame["unit_price"]
    else:
        return ""
    total, held = float(amount.sum()), float(amount[skipped].sum())
    if not held or total <= 0:
        return ""
    return (f" They hold {held:,.2f} of the file's {total:,.2f} net amount ({held / total:.1%}): every revenue "
            "figure covers the customers with an id only.")


def _to_cents(values: pd.Series) -> pd.Series:
    return (values * 100).round().astype("Int64")


def _revenue_rows(file: str, frame: pd.DataFrame, mapping: dict[str, str], problems: Problems,
                  options: LoadOptions) -> tuple[pd.DataFrame, str | None]:
    """Normalise any revenue shape into the stored revenue columns; returns (rows, shape)."""
    shape = revenue_shape(mapping)
    n = len(frame)
    na_date = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    na_cents = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    rows = pd.DataFrame({"customer_id": frame["customer_id"]}, index=frame.index)
    for c in ("date", "period_start", "period_end", "start_date", "end_date"):
        rows[c] = frame[c] if c in frame else na_date
    rows["amount_cents"] = na_cents
    rows["mrr_cents"] = na_cents
    for c in ("plan", "currency"):
        rows[c] = frame[c] if c in frame else pd.Series(pd.NA, index=frame.index, dtype="string")
    if shape == "invoice":
        amount = frame["amount"] if "amount" in frame else frame["quantity"] * frame["unit_price"]
        rows["amount_cents"] = _to_cents(amount)
        _refunded_beyond_paid(file, rows, mapping.get("amount") or mapping.get("unit_price", ""), problems)
        required = ["date", "amount_cents"]
        if "period_start" in frame and "period_end" in frame:
            backwards = frame["period_end"] < frame["period_start"]
            if backwards.any():
                problems.error(file, "revenue", mapping["period_end"], f"{int(backwards.sum()):,} row(s) "
                               "have a service period that ends before it starts. Check the two columns are "
                               "not swapped.", rows=file_rows(backwards), count=int(backwards.sum()))
    elif shape == "subscription":
        mrr = frame["mrr"]
        if "interval" in frame:
            per = frame["interval"].str.lower().map(_INTERVAL_MONTHS)
            unknown = per.isna() & frame["interval"].notna()
            if unknown.any():
                problems.error(file, "revenue", mapping["interval"], f"{int(unknown.sum()):,} billing "
                               f"interval(s) are not month, quarter, year, week or day, e.g. "
                               f"{_examples(frame['interval'], unknown)}.", rows=file_rows(unknown),
                               count=int(unknown.sum()))
            mrr = mrr / per.fillna(1.0)
        rows["mrr_cents"] = _to_cents(mrr)
        rows["date"] = frame["start_date"]
        required = ["start_date", "mrr_cents"]
        if "end_date" in frame:
            backwards = frame["end_date"] < frame["start_date"]
            if backwards.any():
                problems.error(file, "revenue", mapping["end_date"], f"{int(backwards.sum()):,} "
                               "subscription(s) end before they start. Check the start and end columns.",
                               rows=file_rows(backwards), count=int(backwards.sum()))
    elif shape == "snapshot":
        if options.snapshot_date is None:
            problems.error(file, "revenue", "", "This is a CRM snapshot (tenure in months, MRR and churned "
                           "per customer), which needs the date it was exported: set the snapshot date "
                           "(the Data page's date box, or --snapshot-date).")
            return rows.iloc[0:0], shape
        snap = pd.Timestamp(options.snapshot_date)
        tenure = frame["tenure_months"].fillna(0)
        negative = tenure < 0
        if negative.any():
            problems.error(file, "revenue", mapping["tenure_months"], f"{int(negative.sum()):,} tenure "
                           "value(s) are negative.", rows=file_rows(negative), count=int(negative.sum()))
        start = pd.Series([snap - pd.DateOffset(months=int(t)) for t in tenure.clip(lower=0)],
                          index=frame.index, dtype="datetime64[ns]") if n else na_date
        rows["start_date"] = start
        rows["date"] = start
        rows["end_date"] = na_date.mask(frame["churned"].fillna(False).astype(bool), snap)
        rows["mrr_cents"] = _to_cents(frame["mrr"])
        required = ["mrr_cents"]
    else:
        return rows.iloc[0:0], None
    for column in required:
        blank = rows[column].isna()
        if blank.any():
            source = mapping.get(column.replace("_cents", ""), column)
            problems.warning(file, "revenue", source, f"{int(blank.sum()):,} row(s) without "
                             f"{column.replace('_cents', '')} were skipped.", rows=file_rows(blank),
                             count=int(blank.sum()))
            rows = rows[~blank]
    return rows, shape


def _refunded_beyond_paid(file: str, rows: pd.DataFrame, column: str, problems: Problems) -> None:
    """A warning naming the customers the file refunds more than it shows them paying (a refund typed with
    extra digits reads as a large refund and months of 0 revenue, with nothing else to say so)."""
    cents = rows["amount_cents"]
    if not (cents < 0).any():
        return
    by_customer = cents.groupby(rows["customer_id"].to_numpy(), sort=False)
    net = by_customer.sum(min_count=1)
    over = net.index[(net < 0).fillna(False).to_numpy(dtype=bool)]
    if not len(over):
        return
    first = over[0]
    mine = rows["customer_id"] == first
    paid, refunded = cents[mine & (cents > 0)].sum(), -cents[mine & (cents < 0)].sum()
    bad = (rows["customer_id"].isin(over) & (cents < 0)).fillna(False).astype(bool)
    problems.warning(file, "revenue", column, f"{len(over):,} customer(s) were refunded more than the file shows "
                     f"them paying, e.g. {first}: paid {paid / 100:,.2f}, refunded {refunded / 100:,.2f}. An amount "
                     "typed with extra digits does this, as does an export that starts after the orders it "
                     "refunds: check these refund rows. Their months count as 0 revenue, the excess as refunds.",
                     rows=file_rows(bad), count=int(bad.sum()))


def _attributes(frame: pd.DataFrame, file: str, table: str, problems: Problems,
                allowed: frozenset[str] = frozenset()) -> pd.DataFrame:
    """Typed extra columns: numeric when every non-blank value is a number, else text.

    Names become snake_case; a name the contract reserves gets an `attr_` prefix unless it is `allowed`
    (a revenue file's Country column becomes the derived customers' country).
    """
    out = pd.DataFrame(index=frame.index)
    taken = set(frame.columns)
    for column in [c for c in frame.columns if c.startswith("attr:")]:
        source = column[5:]
        name = column_name(source)
        if name in taken or name in out or (name in _RESERVED and name not in allowed):
            name = f"attr_{name}"
        values, bad = to_number(frame[column])
        blank = frame[column].isna() | frame[column].astype("string").str.strip().eq("").fillna(True)
        if not bad.any() and (~blank).any():
            if blank.any():
                rows = file_rows(blank) if pd.api.types.is_integer_dtype(frame.index) else ()
                problems.warning(file, table, source, f"{int(blank.sum()):,} blank value(s) in a numeric "
                                 "column; kept as missing (not zero).", rows=rows, count=int(blank.sum()))
            out[name] = values
        else:
            out[name] = to_text(frame[column])
    return out


_RESERVED = {c for spec in TABLES.values() for c in spec.kinds} | {"tenure_days", "mrr", "arr", "cohort"}


def _customers_from_revenue(revenue: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """Customers known only from revenue: signup = the first day with positive net revenue (an order
    cancelled the same day is no purchase), else the first date."""
    sub = revenue[revenue["customer_id"].isin(ids)]
    days = sub.assign(net=sub["amount_cents"].fillna(0), subscribed=sub["mrr_cents"].fillna(0) > 0).groupby(
        ["customer_id", "date"], as_index=False).agg(net=("net", "sum"), subscribed=("subscribed", "any"))
    first = days[(days["net"] > 0) | days["subscribed"]].groupby("customer_id")["date"].min()
    first = first.reindex(ids).fillna(sub.groupby("customer_id")["date"].min())
    return pd.DataFrame({"customer_id": pd.array(ids, dtype="string"),
                         "signup_date": first.to_numpy(dtype="datetime64[ns]")})


def _constant_attributes(raw_attrs: pd.DataFrame, customer_id: pd.Series) -> pd.DataFrame:
    """Extra revenue columns that hold one value per customer (Country, Contract): customer attributes.

    One row per customer (a CRM snapshot) keeps the file's rows, so problems can name them.
    """
    if customer_id.is_unique:
        return raw_attrs.assign(customer_id=customer_id.to_numpy())
    keys = customer_id.to_numpy()
    keep = {}
    for column in raw_attrs.columns:
        grouped = raw_attrs[column].groupby(keys)
        if (grouped.nunique() <= 1).mean() >= 0.95:
            keep[column] = grouped.first()
    frame = pd.DataFrame(keep, index=pd.Index(pd.unique(keys)))
    return frame.assign(customer_id=frame.index)  # indexed by customer: no file rows to name


# -- the whole load -----------------------------------------------------------------------------------
def split_workbooks(uploads: list[Upload], sheets: Mapping[str, list[str]] | None = None) -> list[Upload]:
    """The uploads, with each workbook that holds a sheet per table (ingest.read.workbook_tables) as one
    upload per such sheet, named "book.xlsx (sheet Revenue)". `sheets`: each upload's table sheets when
    the caller knows them (the Data page remembers them per uploaded file). An upload given its table, or
    already one sheet, stays as it is."""
    out = []
    for up in uploads:
        found = [] if up.table is not None or up.sheet is not None else \
            (sheets[up.name] if sheets is not None and up.name in sheets else workbook_tables(up.name, up.data))
        out += [Upload(f"{up.name} (sheet {sheet})", up.data, sheet=sheet) for sheet in found] or [up]
    return out


def prepare(uploads: list[Upload], options: LoadOptions | None = None) -> LoadResult:
    """Read, recognise and check every upload, and build the typed tables; store nothing."""
    options = options or LoadOptions()
    today = options.today or date.today()
    result = LoadResult()
    problems = result.problems
    typed: dict[str, tuple[str, pd.DataFrame, dict[str, str]]] = {}

    uploads = split_workbooks(uploads)
    sheet_of = {up.name: up.sheet for up in uploads}
    for up in uploads:
        raw = read_export(up.name, up.data, problems, options.size_limit, up.sheet)
        if raw is None:
            result.recognised[up.name] = None
            continue
        columns = list(raw.columns)
        result.columns[up.name] = columns
        result.previews[up.name] = raw.head(_PREVIEW_ROWS)
        table = up.table or guess_table(up.name, columns)
        result.recognised[up.name] = table
        if table is None:
            problems.error(up.name, "", "", "Could not tell which table this file is. Columns found: "
                           f"{', '.join(columns[:15])}. Revenue needs customer_id with date + amount, "
                           "start_date + mrr, or tenure + mrr + churned; choose the table below and map its "
                           "columns.")
            continue
        if table not in TABLES:
            problems.error(up.name, "", "", f"Unknown table {table!r}; choose one of {', '.join(TABLE_ORDER)}.")
            continue
        if table in typed:
            other = typed[table][0]
            fix = "Put their rows in one sheet" if up.sheet and sheet_of[other] else "Upload one file per table"
            problems.error(up.name, table, "", f"Two files are both the {table} table ({other} and {up.name}). "
                           f"{fix}, or set the right table for each.")
            continue
        mapping = guess_mapping(table, columns)
        chosen = [source for source in (up.mapping or {}).values() if source]
        if twice := sorted({source for source in chosen if chosen.count(source) > 1}):
            targets = [target for target, source in (up.mapping or {}).items() if source == twice[0]]
            problems.error(up.name, table, twice[0], f"Column {twice[0]!r} is mapped to both {' and '.join(targets)}: "
                           "a column holds one of them. Pick the right column for each in the mapping.")
            continue
        for target, source in (up.mapping or {}).items():
            if not source:
                mapping.pop(target, None)
            elif source not in columns:
                problems.error(up.name, table, source, f"The mapping names column {source!r} for {target}, "
                               f"but the file has no such column. Columns found: {', '.join(columns[:15])}.")
            else:
                mapping = {k: v for k, v in mapping.items() if v != source}
                mapping[target] = source
        result.mappings[up.name] = mapping
        missing = missing_required(table, mapping)
        if missing:
            tried = "; ".join(f"{m}: {', '.join(SYNONYMS[table].get(m, ())[:8])}" for m in missing
                              if m in SYNONYMS[table])
            # A folder's file named after the wrong table (a CRM snapshot saved as customers.csv) whose
            # columns are a revenue export's: say where it belongs.
            as_revenue = table != "revenue" and not missing_required("revenue", guess_mapping("revenue", columns))
            hint = (" These columns are a revenue export's (orders, subscriptions or a CRM snapshot): load the "
                    "file as the revenue table (in a folder, name it revenue.csv; a snapshot also needs the day "
                    "it was exported, --snapshot-date in the report command)." if as_revenue else "")
            problems.error(up.name, table, ", ".join(missing), f"Required column(s) not found: "
                           f"{', '.join(missing)}. Columns found: {', '.join(columns[:20])}. "
                           f"Names tried: {tried or 'see the README'}. Map them on the Data page, or rename "
                           f"the columns.{hint}")
            continue
        try:
            frame = _convert(up.name, table, raw, mapping, problems, options)
        except Exception as exc:  # noqa: BLE001 - a value no check foresaw: said, never a traceback
            problems.error(up.name, table, "", _unforeseen(exc))
            continue
        typed[table] = (up.name, frame, mapping)

    if "revenue" not in typed and not problems.has_errors:
        problems.error("", "revenue", "", "No revenue file was found. Revenue is required: upload invoices "
                       "or orders, subscriptions, or a CRM snapshot.")
    if problems.has_errors:
        return result
    try:
        _build_tables(typed, options, today, result)
    except Exception as exc:  # noqa: BLE001 - as above: the load stops with a message, nothing stored
        result.tables.clear()
        problems.error(typed["revenue"][0], "", "", _unforeseen(exc))
    return result


def _unforeseen(exc: Exception) -> str:
    what = ": ".join(filter(None, [type(exc).__name__, (str(exc).splitlines() or [""])[0][:200]]))
    return (f"The files could not be checked ({what}). Nothing was stored. Check the column mapping and the values "
            "the other messages name; if the file looks right, report this message with the file's first lines.")


def _build_tables(typed: dict, options: LoadOptions, today: date, result: LoadResult) -> None:
    problems = result.problems
    tables: dict[str, pd.DataFrame] = {}

    # revenue first: it decides who the customers are when no customers table is given
    file, frame, mapping = typed["revenue"]
    frame = _drop_blank_required(file, "revenue", frame, mapping, ("customer_id",), problems)
    frame = _repeated_rows(file, frame, problems)
    revenue, shape = _revenue_rows(file, frame, mapping, problems, options)
    if revenue.empty and not problems.has_errors:
        problems.error(file, "revenue", "", "No row is left once the rows without a customer id, a date or an "
                       "amount are skipped (see the warnings). Check that the columns are mapped to the right "
                       "ones on the Data page, or that the export holds its values.")
    if revenue.empty:
        return
    revenue_attrs = frame.loc[revenue.index, [c for c in frame.columns if c.startswith("attr:")]]
    currencies = sorted(revenue["currency"].dropna().str.upper().unique())
    if len(currencies) > 1:
        problems.error(file, "revenue", mapping.get("currency", "currency"), f"Revenue is in {len(currencies)} "
                       f"currencies ({', '.join(currencies[:6])}). Amounts cannot be added across currencies: "
                       "convert them to one currency first, or upload one currency at a time.")

    customers_file = typed.get("customers")
    if customers_file:
        cfile, cframe, cmap = customers_file
        cframe = _drop_blank_required(cfile, "customers", cframe, cmap, ("customer_id",), problems)
        dup = cframe["customer_id"].duplicated(keep=False)
        if dup.any():
            problems.error(cfile, "customers", cmap["customer_id"], f"{int(cframe['customer_id'][dup].nunique()):,} "
                           f"customer_id value(s) appear more than once, e.g. "
                           f"{_examples(cframe['customer_id'], dup)}. Each customer needs one row.",
                           rows=file_rows(dup), count=int(dup.sum()))
        cframe = _drop_blank_required(cfile, "customers", cframe, cmap, ("signup_date",), problems)
        contract = [c for c in TABLES["customers"].kinds if c in cframe]
        customers = pd.concat([cframe[contract], _attributes(cframe, cfile, "customers", problems)], axis=1)
        unknown = ~revenue["customer_id"].isin(customers["customer_id"])
        if unknown.any():
            ids = pd.Index(revenue.loc[unknown, "customer_id"].unique())
            problems.warning(file, "revenue", mapping["customer_id"], f"{unknown.sum():,} revenue row(s) of "
                             f"{len(ids):,} customer(s) are not in the customers file; they were added as "
                             "customers with signup at their first payment.", rows=file_rows(unknown),
                             count=int(unknown.sum()))
            customers = pd.concat([customers, _customers_from_revenue(revenue, ids)], ignore_index=True)
    else:
        ids = pd.Index(revenue["customer_id"].unique())
        customers = _customers_from_revenue(revenue, ids)
        if len(revenue_attrs.columns):
            constant = _constant_attributes(revenue_attrs, revenue["customer_id"])
            attrs = _attributes(constant.drop(columns="customer_id"), file, "revenue", problems,
                                allowed=frozenset(TABLES["customers"].optional))
            attrs["customer_id"] = constant["customer_id"].to_numpy()
            customers = customers.merge(attrs, on="customer_id", how="left")
    customers["customer_id"] = customers["customer_id"].astype("string")
    known = set(customers["customer_id"])

    for table in ("events", "tickets", "nps", "spend"):
        if table not in typed:
            continue
        tfile, tframe, tmap = typed[table]
        spec = TABLES[table]
        tframe = _drop_blank_required(tfile, table, tframe, tmap, spec.required, problems)
        if table == "tickets" and "minutes" in tframe:
            negative = tframe["minutes"] < 0
            if negative.any():
                problems.error(tfile, table, tmap["minutes"], f"{int(negative.sum()):,} ticket(s) have negative "
                               f"handle minutes, e.g. {_examples(tframe['minutes'], negative)}. Handle time "
                               "cannot be negative: fix or blank these cells.", rows=file_rows(negative),
                               count=int(negative.sum()))
        if table == "nps":
            outside = (tframe["score"] < 0) | (tframe["score"] > 10)
            if outside.any():
                problems.error(tfile, table, tmap["score"], f"{int(outside.sum()):,} NPS score(s) are outside "
                               f"0-10, e.g. {_examples(tframe['score'], outside)}. NPS answers are whole "
                               "numbers from 0 to 10.", rows=file_rows(outside), count=int(outside.sum()))
        if table == "spend":
            tframe = tframe.assign(month=tframe["month"].dt.to_period("M").dt.to_timestamp())
        if "customer_id" in spec.required:
            unknown = ~tframe["customer_id"].isin(known)
            if unknown.any():
                problems.warning(tfile, table, tmap["customer_id"], f"{int(unknown.sum()):,} row(s) belong to "
                                 f"{tframe.loc[unknown, 'customer_id'].nunique():,} customer_id(s) not found in "
                                 "customers or revenue, e.g. "
                                 f"{_examples(tframe['customer_id'], unknown)}; they were left out.",
                                 rows=file_rows(unknown), count=int(unknown.sum()))
                tframe = tframe[~unknown]
        columns = [c for c in spec.kinds if c in tframe]
        out = tframe[columns].copy()
        for c in spec.kinds:
            if c not in out:
                kind = spec.kinds[c]
                out[c] = pd.Series(pd.NaT if kind in ("date", "timestamp") else
                                   (np.nan if kind in ("money", "number") else pd.NA), index=out.index,
                                   dtype={"date": "datetime64[ns]", "timestamp": "datetime64[ns]",
                                          "money": "float64", "number": "float64"}.get(kind, "string"))
        if table == "nps":
            out["score"] = out["score"].astype("Int64")
        tables[table] = out.reset_index(drop=True)

    # dates after the day of the load cannot be real
    all_frames = {"revenue": revenue, **tables, **({"customers": customers} if customers_file else {})}
    sources = {"customers": customers_file[0] if customers_file else file, "revenue": file,
               **{t: typed[t][0] for t in tables}}
    maps = {"revenue": mapping, **({"customers": customers_file[2]} if customers_file else {}),
            **{t: typed[t][2] for t in tables}}
    limit = pd.Timestamp(today) + pd.Timedelta(days=1)
    for table, columns in _NOT_FUTURE.items():
        frame_t = all_frames.get(table)
        if frame_t is None:
            continue
        for c in columns:
            if c not in frame_t:
                continue
            future = frame_t[c] >= limit
            if future.fillna(False).any():
                future = future.fillna(False)
                problems.error(sources[table], table, maps.get(table, {}).get(c, c),
                               f"{int(future.sum()):,} date(s) are after today ({today:%d %b %Y}), e.g. "
                               f"{frame_t.loc[future, c].head(3).dt.strftime('%Y-%m-%d').tolist()}. Data cannot "
                               "come from the future: check the export, or whether day and month are swapped.",
                               rows=file_rows(future), count=int(future.sum()))
    if problems.has_errors:
        return

    # the end of the data closes open subscriptions: the snapshot day, else the load day
    if shape == "snapshot":
        # Customers active on the snapshot day pay for its month: open subscriptions run to the month's end,
        # so the snapshot month is complete and its churn (churned subscriptions end at snapshot_date) counts.
        data_end = pd.Timestamp(options.snapshot_date).to_period("M").to_timestamp() + pd.DateOffset(months=1)
        problems.warning(file, "revenue", mapping.get("churned", "churned"), f"A CRM snapshot records churn only in "
                         f"its own month ({options.snapshot_date:%B %Y}): customers who left earlier are not in it. "
                         "Monthly churn pooled over several months would understate it, so it is pooled "
                         "over the snapshot month alone (a churn window of 1 month) unless the definition "
                         "sets its own churn_window_months.")
    else:
        observed = [revenue["date"].max()]
        if revenue["end_date"].notna().any():  # a closed subscription is observed until its end
            observed.append(min(revenue["end_date"].max() - pd.Timedelta(days=1), pd.Timestamp(today)))
        if "events" in tables and len(tables["events"]):
            observed.append(tables["events"]["timestamp"].max().normalize())
        open_subs = revenue["mrr_cents"].notna() & revenue["end_date"].isna()
        data_end = (pd.Timestamp(today) + pd.Timedelta(days=1) if open_subs.any()
                    else max(d for d in observed if pd.notna(d)) + pd.Timedelta(days=1))
    ledger = build_ledger(revenue, data_end)

    # detect the revenue model (DEFINITIONS.md "Revenue model")
    has_periods = revenue["period_start"].notna().mean() > 0.5 if len(revenue) else False
    model = options.revenue_model or ("subscription" if shape in ("subscription", "snapshot") or has_periods
                                      else "transactional")
    last_date = (data_end - pd.Timedelta(days=1)).date()
    ends = [last_date]
    if "events" in tables and len(tables["events"]):
        ends.append(min(tables["events"]["timestamp"].max().date(), today))
    max_date = max(ends)
    as_of = max_date + timedelta(days=1)
    last_complete = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
    if as_of.day != 1:
        partial = as_of.replace(day=1)
        problems.warning(file, "revenue", "", partial_month_message(partial, max_date, last_complete, model))
    min_date = min(d for d in [revenue["date"].min(), customers["signup_date"].min()] if pd.notna(d)).date()

    stored = {"customers": customers.reset_index(drop=True), "revenue": revenue.reset_index(drop=True),
              "ledger": ledger, **tables}
    result.tables = {t: _storage_types(t, stored[t]) for t in STORED_TABLES if t in stored}
    result.meta = {
        "source": options.source,
        "revenue_model": model,
        "revenue_shape": shape or "",
        "snapshot_date": str(options.snapshot_date or ""),
        "currency": currencies[0] if currencies else (options.currency or _header_currency(mapping)),
        "files": json.dumps({t: typed[t][0] for t in typed}),
        "min_date": str(min_date),
        "max_date": str(max_date),
        "default_as_of": str(as_of),
        "last_complete_month": f"{last_complete:%Y-%m}",
    }


_DATE_COLUMNS = {"customers": ("signup_date",), "revenue": ("date", "period_start", "period_end", "start_date",
                                                            "end_date"),
                 "ledger": ("month",), "spend": ("month",), "nps": ("date",)}


def _storage_types(table: str, frame: pd.DataFrame) -> pd.DataFrame:
    """DATE columns as dates (the store keeps them as DuckDB DATE), text as strings."""
    frame = frame.copy()
    for c in _DATE_COLUMNS.get(table, ()):
        if c in frame:
            frame[c] = frame[c].astype("datetime64[ns]").astype("date32[pyarrow]")
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].astype("string")
    return frame


def load(workspace: Workspace, uploads: list[Upload], options: LoadOptions | None = None) -> LoadResult:
    """Prepare the uploads and, when nothing is an error, replace the workspace with them in one go."""
    result = prepare(uploads, options)
    if result.ok:
        # The warnings stay with the data (the Data page shows them): rows skipped, an incomplete last month.
        warnings = [{"file": p.file, "column": p.column, "message": p.message}
                    for p in result.problems.items if p.severity == "warning"]
        result.version = workspace.replace(result.tables, {**result.meta, "warnings": json.dumps(warnings)})
    return result


def read_folder(folder: str | Path) -> list[Upload]:
    """Uploads for the files of a folder named after the contract tables (revenue.csv, events.parquet...)."""
    folder = Path(folder)
    uploads = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or not any(path.name.lower().endswith(s) for s in SUPPORTED_SUFFIXES):
            continue
        stem = path.name.split(".")[0].lower()
        uploads.append(Upload.from_path(path, table=stem if stem in TABLES else None))
    return uploads


def load_folder(workspace: Workspace | None, folder: str | Path,
                options: LoadOptions | None = None) -> LoadResult:
    """Load every export in a folder; with workspace None, only prepare (for the report command)."""
    uploads = read_folder(folder)
    return prepare(uploads, options) if workspace is None else load(workspace, uploads, options)


def load_sample(workspace: Workspace) -> LoadResult:
    """Replace the workspace with the built-in sample company (sample_data/)."""
    result = load_folder(workspace, SAMPLE_DIR, LoadOptions(source="sample"))
    if not result.ok:  # the shipped sample is tested; this only fires on a broken checkout
        raise ValueError("The sample company in sample_data/ did not load:\n" + result.problems.text())
    return result
