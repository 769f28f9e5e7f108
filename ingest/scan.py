"""Tables for the headless report: loaded frames in a fresh in-memory DuckDB, or Parquet folders scanned in place.

`memory_tables` puts the frames `ingest.load.prepare` built into a DuckDB database of their own (not the
app's shared workspace), with the memory limit and threads given. `scan_folder` is for Parquet exports too
big for pandas (100M events): it creates DuckDB views over the files, checks the required columns and
their types with the loader's messages, and builds the monthly ledger in SQL (ibis) following exactly
ingest/ledger.py's rules, so events are never loaded into pandas.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import ibis
import pandas as pd

from ingest.contract import MAX_AMOUNT, STORED_TABLES, TABLES
from ingest.mapping import guess_mapping, is_row_id, missing_required, revenue_shape
from ingest.problems import Problems, partial_month_message, repeated_invoices_message

__all__ = ["ScanOptions", "memory_tables", "scan_folder", "ledger_expr", "revenue_signups", "is_parquet_folder"]


@dataclass(frozen=True)
class ScanOptions:
    """memory_limit / threads: DuckDB's settings (None = DuckDB's defaults); today: the load day (dates
    after it are errors, as in ingest.load); revenue_model: force "subscription" or "transactional"."""

    memory_limit: str | None = None
    threads: int | None = None
    today: dt.date | None = None
    revenue_model: str | None = None


def _connect(memory_limit: str | None, threads: int | None) -> ibis.BaseBackend:
    config: dict[str, object] = {}
    if memory_limit:
        config["memory_limit"] = memory_limit
    if threads:
        config["threads"] = threads
    return ibis.duckdb.connect(**config)


def memory_tables(frames: Mapping[str, pd.DataFrame], memory_limit: str | None = None,
                  threads: int | None = None) -> dict[str, ibis.Table]:
    """The stored tables (ingest.contract.STORED_TABLES) in a new in-memory DuckDB, as ibis tables.

    Frames are the typed tables of a successful `prepare`; the database lives as long as the tables.
    """
    con = _connect(memory_limit, threads)
    raw = con.con  # the DuckDB connection: registering a frame keeps its storage types (DATE, BIGINT)
    out: dict[str, ibis.Table] = {}
    for name in STORED_TABLES:
        if name not in frames:
            continue
        raw.register("_incoming", frames[name])
        raw.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _incoming')
        raw.unregister("_incoming")
        out[name] = con.table(name)
    return out


def is_parquet_folder(folder: str | Path) -> bool:
    """True when every export in the folder is Parquet (and there is at least one)."""
    from ingest.read import SUPPORTED_SUFFIXES

    files = [p for p in Path(folder).iterdir()
             if p.is_file() and any(p.name.lower().endswith(s) for s in SUPPORTED_SUFFIXES)]
    return bool(files) and all(p.name.lower().endswith(".parquet") for p in files)


# -- scanning a Parquet folder in place ---------------------------------------------------------------
_KIND_OK = {
    "id": lambda t: t.is_string() or t.is_integer() or t.is_floating(),
    "text": lambda t: True,
    "date": lambda t: t.is_date() or t.is_timestamp(),
    "timestamp": lambda t: t.is_date() or t.is_timestamp(),
    "money": lambda t: t.is_numeric(),
    "number": lambda t: t.is_numeric(),
    "integer": lambda t: t.is_integer() or t.is_floating() or t.is_decimal(),
    "bool": lambda t: t.is_boolean() or t.is_integer(),
}
_KIND_WORDS = {"date": "a date (Parquet DATE or TIMESTAMP)", "timestamp": "a timestamp (Parquet TIMESTAMP)",
               "money": "a number", "number": "a number", "integer": "a whole number", "bool": "true/false",
               "id": "text or a number"}
_STORED_TYPES = {"id": "string", "text": "string", "date": "date", "timestamp": "timestamp", "money": "float64",
                 "number": "float64", "integer": "int64", "bool": "boolean"}
_INTERVALS = {"month": 1.0, "monthly": 1.0, "quarter": 3.0, "quarterly": 3.0, "year": 12.0, "yearly": 12.0,
              "annual": 12.0, "annually": 12.0, "week": 12 / 52, "weekly": 12 / 52, "day": 12 / 365,
              "daily": 12 / 365}


def _cast(value: ibis.Value, kind: str) -> ibis.Value:
    """A source column as its contract type (ids and text as strings, dates as DATE, money as float)."""
    if kind == "id" and value.type().is_floating():
        # ids stored as floats (a column with blanks, as pandas writes it): 17850.0 -> '17850', as
        # ingest.convert.to_id reads them from a file
        whole = value.notnull() & ~value.isnan() & (value == value.floor()) & (value.abs() < 9e18)   # fits int64
        return ibis.ifelse(whole, value.cast("int64").cast("string"),
                           ibis.ifelse(value.isnan(), ibis.null("string"), value.cast("string")))
    if kind in ("id", "text"):
        return value.cast("string")
    if kind == "date":
        return value.cast("date")
    if kind == "timestamp":
        return value.cast("timestamp")
    if kind == "bool":
        return value.cast("boolean")
    if kind == "integer":
        return value.cast("int64")
    return value.cast("float64")


def _typed_view(file: str, table: str, t: ibis.Table, mapping: dict[str, str], problems: Problems,
                keep_extra: bool) -> ibis.Table | None:
    """The contract columns of one file (renamed and cast), plus its other columns when keep_extra."""
    spec = TABLES[table]
    schema = t.schema()
    bad = False
    for column, source in mapping.items():
        kind = spec.kinds[column]
        if not _KIND_OK[kind](schema[source]):
            problems.error(file, table, source, f"Column {source} ({column}) is stored as {schema[source]}, not "
                           f"{_KIND_WORDS.get(kind, kind)}. Write it with that Parquet type, or export the file "
                           "as CSV so the loader can parse it.")
            bad = True
    if bad:
        return None
    cols: dict[str, ibis.Value] = {c: _cast(t[s], spec.kinds[c]) for c, s in mapping.items()}
    if keep_extra:
        from ingest.load import _RESERVED
        from ingest.mapping import column_name

        used = set(mapping.values())
        for source in t.columns:
            if source in used:
                continue
            name = column_name(source)
            if name in cols or name in _RESERVED:
                name = f"attr_{name}"
            dtype = schema[source]
            cols[name] = t[source] if (dtype.is_numeric() or dtype.is_temporal()) else t[source].cast("string")
    return t.select(**cols)


def _count(con: ibis.BaseBackend, expr: ibis.Value) -> int:
    return int(con.execute(expr) or 0)


def _month_index(day: ibis.Value) -> ibis.Value:
    return day.year().cast("int64") * 12 + day.month().cast("int64") - 1


def _months_covered(start: ibis.Value, end: ibis.Value) -> ibis.Value:
    """ingest.ledger.months_covered: whole months from start to end (exclusive), plus one for a partial
    remainder (end's day after start's day); never negative."""
    whole = _month_index(end) - _month_index(start)
    partial = ibis.ifelse(end.day() > start.day(), 1, 0).cast("int64")
    return ibis.greatest(whole + partial, 0)


def ledger_expr(con: ibis.BaseBackend, revenue: ibis.Table, data_end: dt.date) -> ibis.Table:
    """The monthly ledger of stored revenue rows as an ibis expression, by ingest/ledger.py's rules.

    Rules (DEFINITIONS.md "Revenue", as ingest.ledger.build_ledger): an invoice with a service period
    is spread over the months covered starting with period_start's month, each month getting the amount
    divided by the months (truncated toward zero) and the last month the leftover cents; without a
    service period it counts whole in the month of its date. A subscription row contributes mrr_cents to
    every month it covers from start_date to end_date (exclusive; open = data_end, and never past it).
    Rows are summed per customer and month; months with zero net revenue are dropped; mrr_cents =
    max(revenue_cents, 0), refund_cents = max(-revenue_cents, 0).
    Columns: customer_id, month (DATE, first day), revenue_cents, mrr_cents, refund_cents.
    """
    end = ibis.literal(data_end)
    inv = revenue.filter(revenue.amount_cents.notnull())
    has_period = inv.period_start.notnull() & inv.period_end.notnull()
    # An invoice covers max(months_covered(period), 1) months with a period, else 1 month from its date.
    inv = inv.select(
        customer_id=inv.customer_id,
        first=_month_index(ibis.ifelse(has_period, inv.period_start, inv.date)),
        n=ibis.ifelse(has_period, ibis.greatest(_months_covered(inv.period_start, inv.period_end), 1),
                      ibis.literal(1, "int64")),
        cents=inv.amount_cents.cast("int64"),
        split=ibis.literal(True),
    )
    sub = revenue.filter(revenue.mrr_cents.notnull())
    sub_end = ibis.least(sub.end_date.fill_null(end), end)
    # A subscription covers months_covered(start_date, min(end_date or data end, data end)) months.
    sub = sub.select(customer_id=sub.customer_id, first=_month_index(sub.start_date),
                     n=_months_covered(sub.start_date, sub_end), cents=sub.mrr_cents.cast("int64"),
                     split=ibis.literal(False))
    rows = inv.union(sub).filter(lambda r: r.n > 0)
    longest = int(con.execute(rows.n.max()) or 0)
    offsets = ibis.memtable({"k": list(range(max(longest, 1)))}, schema={"k": "int64"})
    # One row per covered month k = 0..n-1.
    spread = rows.join(offsets, offsets.k < rows.n)
    base = spread.cents.sign() * (spread.cents.abs() // spread.n)           # truncated toward zero
    last = spread.cents - base * (spread.n - 1)                              # leftover cents: last month
    amount = ibis.ifelse(spread.split, ibis.ifelse(spread.k == spread.n - 1, last, base), spread.cents)
    spread = spread.select(customer_id=spread.customer_id, month_index=spread.first + spread.k,
                           revenue_cents=amount.cast("int64"))
    monthly = spread.group_by(["customer_id", "month_index"]).aggregate(
        revenue_cents=spread.revenue_cents.sum())
    monthly = monthly.filter(monthly.revenue_cents != 0)
    mi = monthly.month_index
    return monthly.select(
        customer_id=monthly.customer_id,
        month=ibis.date((mi // 12).cast("int32"), (mi % 12 + 1).cast("int32"), ibis.literal(1, "int32")),
        revenue_cents=monthly.revenue_cents.cast("int64"),
        mrr_cents=ibis.greatest(monthly.revenue_cents, 0).cast("int64"),
        refund_cents=ibis.greatest(-monthly.revenue_cents, 0).cast("int64"),
    ).order_by(["customer_id", "month"])


def revenue_signups(revenue: ibis.Table) -> ibis.Table:
    """customer_id, signup_date (DATE) of the customers known from revenue rows (ingest.load's
    _customers_from_revenue rule): the first day with positive net revenue or a subscription (an order
    cancelled the same day is no purchase), else the first date."""
    days = revenue.group_by(["customer_id", "date"]).aggregate(
        net=revenue.amount_cents.fill_null(0).sum(), subscribed=(revenue.mrr_cents.fill_null(0) > 0).any())
    first = days.group_by("customer_id").aggregate(
        signup_date=days.date.min(where=(days.net > 0) | days.subscribed), any_date=days.date.min())
    return first.select(customer_id=first.customer_id,
                        signup_date=first.signup_date.fill_null(first.any_date).cast("date"))


def _revenue_view(file: str, t: ibis.Table, mapping: dict[str, str], problems: Problems
                  ) -> tuple[ibis.Table | None, str | None]:
    """Stored revenue columns (ingest.contract) from an invoice or subscription file."""
    shape = revenue_shape(mapping)
    if shape not in ("invoice", "subscription"):
        problems.error(file, "revenue", "", "A scanned Parquet revenue file must be invoices/orders (date, "
                       "amount) or subscriptions (start_date, mrr); for a CRM snapshot use CSV and "
                       "--snapshot-date.")
        return None, shape
    typed = _typed_view(file, "revenue", t, mapping, problems, keep_extra=False)
    if typed is None:
        return None, shape
    cols = typed.columns
    null_date = ibis.null("date")
    null_cents = ibis.null("int64")

    def col(name: str, default: ibis.Value) -> ibis.Value:
        return typed[name] if name in cols else default

    if shape == "invoice":
        amount = typed.amount if "amount" in cols else typed.quantity * typed.unit_price
        out = typed.select(
            customer_id=typed.customer_id, date=typed.date, amount_cents=(amount * 100).round().cast("int64"),
            period_start=col("period_start", null_date), period_end=col("period_end", null_date),
            start_date=null_date, end_date=null_date, mrr_cents=null_cents,
            plan=col("plan", ibis.null("string")), currency=col("currency", ibis.null("string")))
        out = out.filter(out.customer_id.notnull(), out.date.notnull(), out.amount_cents.notnull())
    else:
        per = ibis.literal(1.0)
        if "interval" in cols:
            # A price per billing interval becomes a monthly amount (quarter / 3, year / 12, ...).
            per = typed.interval.lower().strip().substitute(_INTERVALS, else_=ibis.literal(1.0)).cast("float64")
        out = typed.select(
            customer_id=typed.customer_id, date=typed.start_date, amount_cents=null_cents,
            period_start=null_date, period_end=null_date, start_date=typed.start_date,
            end_date=col("end_date", null_date), mrr_cents=(typed.mrr * 100 / per).round().cast("int64"),
            plan=col("plan", ibis.null("string")), currency=col("currency", ibis.null("string")))
        out = out.filter(out.customer_id.notnull(), out.start_date.notnull(), out.mrr_cents.notnull())
    return out, shape


def _once(con: ibis.BaseBackend, file: str, raw: ibis.Table, mapping: dict[str, str], problems: Problems
          ) -> ibis.Table:
    """The revenue file's rows, each repeat of an earlier row dropped when an id column names each row once
    (ingest.load's rule: one invoice exported twice), with a warning; as they are otherwise (no id column:
    no query at all)."""
    named = next((c for c in raw.columns if c not in mapping.values() and is_row_id(c)), None)
    if named is None:
        return raw
    rows = raw.distinct()
    stats = rows.aggregate(rows=rows.count(), ids=rows[named].nunique(), blank=rows[named].isnull().sum()).execute()
    distinct, ids, blank = (int(stats.iloc[0][c] or 0) for c in ("rows", "ids", "blank"))
    repeats = _count(con, raw.count()) - distinct
    if not repeats or ids != distinct or blank:
        return raw
    problems.warning(file, "revenue", named, repeated_invoices_message(repeats, named), count=repeats)
    return rows


def _parquet_view(con: ibis.BaseBackend, path: Path, name: str) -> ibis.Table:
    """A view over one Parquet file (not a temporary one: every connection to the database sees it)."""
    quoted = str(path).replace("'", "''")
    con.con.execute(f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet(\'{quoted}\')')
    return con.table(name)


def scan_folder(folder: str | Path, options: ScanOptions | None = None
                ) -> tuple[dict[str, ibis.Table], dict[str, str], Problems]:
    """Contract tables as DuckDB views over a folder of Parquet exports, without loading them into pandas.

    Files are named after the contract tables (customers.parquet, revenue.parquet, events.parquet, ...);
    columns are recognised as the loader recognises them (ingest.mapping) and must already have their
    types (dates as DATE/TIMESTAMP, amounts as numbers). The ledger is built in SQL (`ledger_expr`) and
    kept as a table. Views and ledger live in the connection's own in-memory database, not as temporary
    objects: a second connection to it (economics.report runs some queries on one) sees them.
    Returns (tables, meta, problems); tables is empty when there is an error.
    meta has the loader's keys: revenue_model, revenue_shape, min_date, max_date, default_as_of,
    last_complete_month, currency, files, source.
    """
    options = options or ScanOptions()
    today = options.today or dt.date.today()
    folder = Path(folder)
    problems = Problems()
    con = _connect(options.memory_limit, options.threads)
    views: dict[str, tuple[str, ibis.Table, dict[str, str]]] = {}
    from ingest.read import SUPPORTED_SUFFIXES

    for path in sorted(folder.iterdir()):
        if not path.is_file():
            continue
        if not path.name.lower().endswith(".parquet"):
            if any(path.name.lower().endswith(s) for s in SUPPORTED_SUFFIXES):
                problems.error(path.name, "", "", "Scanning reads Parquet files only: convert this file to "
                               "Parquet, or run without --scan to load every file.")
            continue
        table = path.name.split(".")[0].lower()
        if table == "ledger":  # built here from revenue, never taken from a file
            continue
        if table not in TABLES:
            problems.error(path.name, "", "", f"Unknown table {table!r}: name each Parquet file after its table "
                           f"({', '.join(TABLES)}).")
            continue
        try:
            raw = _parquet_view(con, path, f"_file_{table}")
        except Exception as exc:  # a damaged or non-Parquet file
            problems.error(path.name, table, "", f"Could not read this Parquet file ({exc}).")
            continue
        mapping = guess_mapping(table, list(raw.columns))
        missing = missing_required(table, mapping)
        if missing:
            problems.error(path.name, table, ", ".join(missing), f"Required column(s) not found: "
                           f"{', '.join(missing)}. Columns found: {', '.join(list(raw.columns)[:20])}. "
                           "Rename them to the contract names (see the README).")
            continue
        views[table] = (path.name, raw, mapping)
    if "revenue" not in views and not problems.has_errors:
        problems.error("", "revenue", "", "No revenue file was found. Revenue is required: revenue.parquet with "
                       "invoices or orders (customer_id, date, amount) or subscriptions (start_date, mrr).")
    if problems.has_errors:
        return {}, {}, problems

    rfile, rraw, rmap = views["revenue"]
    rsource = _once(con, rfile, rraw, rmap, problems)
    revenue, shape = _revenue_view(rfile, rsource, rmap, problems)
    tables: dict[str, ibis.Table] = {}
    for table in ("customers", "events", "tickets", "spend", "nps"):
        if table in views:
            file, raw, mapping = views[table]
            typed = _typed_view(file, table, raw, mapping, problems, keep_extra=table == "customers")
            if typed is not None:
                tables[table] = typed
    if revenue is None or problems.has_errors:
        return {}, {}, problems
    # as the loader stores them: every contract column of events, tickets, spend and nps, null when absent
    for table in ("events", "tickets", "spend", "nps"):
        if table in tables:
            t, kinds = tables[table], TABLES[table].kinds
            absent = {c: ibis.null(_STORED_TYPES[k]) for c, k in kinds.items() if c not in t.columns}
            tables[table] = t.mutate(**absent).select(*kinds) if absent else t.select(*kinds)

    # checks the loader makes, each one aggregate query
    for table, t in [("revenue", None), *tables.items()]:
        file, raw, mapping = views[table]
        for column, source in mapping.items():
            if TABLES[table].kinds[column] == "integer" and not raw.schema()[source].is_integer():
                value = raw[source]
                fractional = _count(con, (value.notnull() & (value != value.round())).sum())
                if fractional:
                    problems.error(file, table, source, f"{fractional:,} value(s) are not whole numbers.",
                                   count=fractional)
    if "nps" in tables:
        n = tables["nps"]
        outside = _count(con, ((n.score < 0) | (n.score > 10)).sum())
        if outside:
            problems.error(views["nps"][0], "nps", views["nps"][2]["score"], f"{outside:,} NPS score(s) are outside "
                           "0-10. NPS answers are whole numbers from 0 to 10.", count=outside)
    if "tickets" in tables and "minutes" in tables["tickets"].columns:
        tk = tables["tickets"]
        negative = _count(con, (tk.minutes < 0).sum())
        if negative:
            problems.error(views["tickets"][0], "tickets", views["tickets"][2]["minutes"], f"{negative:,} ticket(s) "
                           "have negative handle minutes. Handle time cannot be negative: fix or blank these "
                           "cells.", count=negative)
    future_cols = {"customers": "signup_date", "revenue": "date", "events": "timestamp", "tickets": "created_at",
                   "nps": "date", "spend": "month"}
    limit = ibis.literal(dt.datetime.combine(today + dt.timedelta(days=1), dt.time()))
    for table, column in future_cols.items():
        t = revenue if table == "revenue" else tables.get(table)
        if t is None:
            continue
        future = _count(con, (t[column].cast("timestamp") >= limit).sum())
        if future:
            problems.error(views[table][0], table, views[table][2].get(column, column), f"{future:,} date(s) are "
                           f"after today ({today:%d %b %Y}). Data cannot come from the future: check the "
                           "export.", count=future)
    if "customers" in tables:
        cu = tables["customers"]
        dup = _count(con, cu.count() - cu.customer_id.nunique())
        if dup:
            problems.error(views["customers"][0], "customers", views["customers"][2]["customer_id"], f"{dup:,} "
                           "customer_id value(s) appear more than once. Each customer needs one row.", count=dup)
    if problems.has_errors:
        return {}, {}, problems

    # customers: the file's (rows without an id or signup skipped), else derived from revenue
    derived = revenue_signups(revenue)
    if "customers" in tables:
        cu = tables["customers"]
        cu = cu.filter(cu.customer_id.notnull(), cu.signup_date.notnull())
        extra = derived.filter(~derived.customer_id.isin(cu.customer_id))
        n_extra = _count(con, extra.count())
        if n_extra:
            problems.warning(rfile, "revenue", rmap["customer_id"], f"Revenue of {n_extra:,} customer(s) not in "
                             "the customers file; they were added as customers with signup at their first "
                             "payment.", count=n_extra)
            fill = {c: ibis.null(cu.schema()[c]) for c in cu.columns if c not in ("customer_id", "signup_date")}
            cu = cu.union(extra.mutate(**fill).select(*cu.columns))
        tables["customers"] = cu
    else:
        tables["customers"] = derived

    # the end of the data closes open subscriptions (as ingest.load): the load day when a subscription is
    # open, else the day after the latest observed date
    stats = revenue.aggregate(max_date=revenue.date.max(), min_date=revenue.date.min(),
                              max_end=revenue.end_date.max(),
                              open_subs=(revenue.mrr_cents.notnull() & revenue.end_date.isnull()).sum(),
                              periods=revenue.period_start.notnull().sum(), rows=revenue.count(),
                              huge=(revenue.amount_cents.abs() >= MAX_AMOUNT * 100).sum()).execute()
    row = stats.iloc[0]
    if int(row["huge"] or 0):   # as the loader: 'inf', '1e20' or a misread column, not an amount
        problems.error(rfile, "revenue", rmap.get("amount", ""), f"{int(row['huge']):,} amount(s) are a trillion or "
                       "more. Check that the column holds amounts.", count=int(row["huge"]))
        return {}, {}, problems
    skipped = _count(con, rsource.count()) - int(row["rows"])   # the file's row count: Parquet metadata
    if skipped:
        needed = "a date or an amount" if shape == "invoice" else "a start date or an MRR"
        problems.warning(rfile, "revenue", "", f"{skipped:,} row(s) without a customer id, {needed} were "
                         "skipped.", count=skipped)
    events_max = None
    if "events" in tables:
        value = con.execute(tables["events"].timestamp.max())
        events_max = pd.Timestamp(value).date() if value is not None and not pd.isna(value) else None
    observed = [pd.Timestamp(row["max_date"]).date()]
    if pd.notna(row["max_end"]):
        observed.append(min(pd.Timestamp(row["max_end"]).date() - dt.timedelta(days=1), today))
    if events_max is not None:
        observed.append(events_max)
    data_end = today + dt.timedelta(days=1) if int(row["open_subs"] or 0) else max(observed) + dt.timedelta(days=1)
    ledger = con.create_table("ledger", ledger_expr(con, revenue, data_end))
    tables = {"customers": tables["customers"], "revenue": revenue, "ledger": ledger,
              **{t: tables[t] for t in ("events", "tickets", "spend", "nps") if t in tables}}
    if "spend" in tables:
        sp = tables["spend"]
        tables["spend"] = sp.mutate(month=sp.month.truncate("M").cast("date"))

    has_periods = int(row["rows"]) > 0 and int(row["periods"] or 0) / int(row["rows"]) > 0.5
    model = options.revenue_model or ("subscription" if shape == "subscription" or has_periods else "transactional")
    max_date = data_end - dt.timedelta(days=1)
    if events_max is not None:
        max_date = max(max_date, min(events_max, today))
    as_of = max_date + dt.timedelta(days=1)
    last_complete = (as_of.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    if as_of.day != 1:
        partial = as_of.replace(day=1)
        problems.warning(rfile, "revenue", "", partial_month_message(partial, max_date, last_complete, model))
    signup_min = con.execute(tables["customers"].signup_date.min())
    mins = [d for d in (row["min_date"], signup_min) if d is not None and not pd.isna(d)]
    meta = {
        "source": "scan", "revenue_model": model, "revenue_shape": shape or "", "snapshot_date": "",
        "currency": "", "files": json.dumps({t: v[0] for t, v in views.items()}),
        "min_date": str(min(pd.Timestamp(d).date() for d in mins)) if mins else "",
        "max_date": str(max_date), "default_as_of": str(as_of), "last_complete_month": f"{last_complete:%Y-%m}",
    }
    return tables, meta, problems
