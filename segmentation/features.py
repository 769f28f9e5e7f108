"""Per-customer features as of a date D: one row per customer, using only data strictly before D.

The heavy scans over ledger, revenue, events, tickets and NPS are ibis expressions (portable to
PostgreSQL, Spark, ...); each returns one small row per customer, joined here in pandas. Every rule is
stated in plain words next to its expression. Words mean what DEFINITIONS.md says.
"""
from __future__ import annotations

import datetime as dt
import warnings
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Collection, Iterator, Literal, Mapping

import duckdb
import ibis
import ibis.expr.operations as ops
import numpy as np
import pandas as pd
import pyarrow as pa

from economics.ledger import last_complete_month

__all__ = ["FeatureParams", "feature_params", "customer_features", "customer_features_at",
           "customer_features_by_date", "FEATURE_COLUMNS",
           "daily_net_revenue",
           "USER_COLUMNS",
           "month_start", "add_months", "as_date", "ACTIVITY_TABLES", "without_activity", "fetch",
           "second_connection", "beside_connection", "current_customers", "customer_status", "STATUSES"]

USER_COLUMNS: tuple[str, ...] = ("active_users_30d", "seat_pct_of_limit")   # see customer_features_at
FEATURE_COLUMNS: tuple[str, ...] = (
    "customer_id", "signup_date", "cohort", "tenure_days", "paying", "churned", "mrr", "arr", "mrr_3m_ago",
    "total_revenue", "first_paid_month", "recency_days", "frequency", "monetary", "events_30d",
    "events_prev_30d", "active_days_30d", "features_used_30d", "active_users_30d", "usage_trend",
    "days_to_key_event", "tickets_90d", "support_minutes_90d", "support_cost_90d", "nps_latest",
    "stated_goal", "usage_pct_of_limit", "seat_pct_of_limit",
)


@dataclass(frozen=True)
class FeatureParams:
    """Settings of the feature computation (from the definition's [features] and [economics] tables).

    key_event: event whose first occurrence marks activation ("" = any event).
    lookback_days: RFM window in days before D; None = all history before D.
    inactivity_days: transactional model: churned once this many days pass without a purchase.
    support_cost_per_minute: dollars per ticket minute (economics assumption, default $1.00).
    """

    key_event: str = ""
    lookback_days: int | None = None
    inactivity_days: int = 90
    support_cost_per_minute: float = 1.0


def feature_params(defn: Any) -> FeatureParams:
    """FeatureParams from a Definition: [features] keys plus [economics] support_cost_per_minute."""
    economics = getattr(defn, "economics", {}) or {}
    rate = economics.get("support_cost_per_minute", 1.0)
    return FeatureParams(key_event=defn.features.key_event, lookback_days=defn.features.lookback_days,
                         inactivity_days=defn.features.inactivity_days,
                         support_cost_per_minute=float(rate))


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day)


def as_date(value: Any) -> dt.date:
    """A plain date from a date, datetime, Timestamp or ISO string."""
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return pd.Timestamp(value).date()


def fetch(expr: ibis.Table, backend: Any = None) -> pd.DataFrame:
    """The result of an ibis table expression as pandas, converted from Arrow a whole column at a time.

    ibis 12's execute() converts every column holding a null to Python objects one value at a time, and a
    per-customer aggregate under a filter is null for each customer without a matching row: that was over
    half of a features computation at 100k customers. Here integers with nulls become float64 with NaN,
    dates datetime64[s] (as ibis gives them), timestamps datetime64, booleans with nulls objects (True,
    False, None). `backend`: the engine to run it on (default: the expression's own).
    """
    table = expr.to_pyarrow() if backend is None else backend.to_pyarrow(expr)
    for i, field in enumerate(table.schema):
        if pa.types.is_date(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.timestamp("s")))
    return table.to_pandas()


def drop_memtables(expr: ibis.Expr, backend: Any = None) -> None:
    """Unregister the in-memory tables (ibis.memtable) an expression holds from the engine that ran it
    (`backend`, default: the expression's own), once they are no longer needed.

    ibis 12 drops a garbage-collected memtable with DROP TABLE, but registers it in DuckDB as a view,
    which that statement leaves in place: without this, each memtable would keep its data in the
    workspace connection for the life of the app. Other engines are left to ibis. A memtable dropped
    here and used again is registered again.
    """
    backend = backend if backend is not None else expr._find_backend(use_default=True)
    con = getattr(backend, "con", None)
    if getattr(backend, "name", "") != "duckdb" or con is None:
        return
    registered = getattr(backend, "_memtables", None)
    for op in expr.op().find(ibis.expr.operations.InMemoryTable):
        try:
            con.unregister(op.name)
        except Exception:  # noqa: BLE001 - never registered there
            pass
        if registered is not None:
            registered.discard(op)


def second_connection(tables: Mapping[str, ibis.Table]) -> tuple[dict[str, ibis.Table], Any] | None:
    """The tables on a second connection to their DuckDB database, and that connection's backend (to
    disconnect after use): a connection runs one query at a time, two connections to one database run
    side by side, and DuckDB lets go of Python's lock while it works. None on another engine, for tables
    of several connections, or when a second connection cannot see a table (a temporary one)."""
    nodes = {node for t in tables.values() for node in t.op().find(ops.DatabaseTable)}
    sources = {id(node.source): node.source for node in nodes}
    if len(sources) != 1:
        return None
    backend = next(iter(sources.values()))
    if backend.name != "duckdb":
        return None
    try:
        other = ibis.duckdb.from_connection(backend.con.cursor())
    except duckdb.Error:   # e.g. a connection closed meanwhile
        return None
    try:
        for node in nodes:
            name = node.name.replace('"', '""')
            other.con.execute(f'SELECT 1 FROM "{name}" LIMIT 0')
    except duckdb.Error:
        other.disconnect()
        return None
    moved = {node: node.copy(source=other) for node in nodes}
    return {name: t.op().replace(moved).to_expr() for name, t in tables.items()}, other


@contextmanager
def beside_connection(tables: Mapping[str, ibis.Table]) -> Iterator[dict[str, ibis.Table] | None]:
    """`second_connection(tables)`'s tables (None when there is none), disconnected on leaving."""
    second = second_connection(tables)
    try:
        yield second[0] if second else None
    finally:
        if second:
            second[1].disconnect()


def _days_before(d: dt.date, dates: pd.Series) -> pd.Series:
    """Whole days from each date to D (NaN when missing)."""
    ts = pd.to_datetime(dates)
    return (pd.Timestamp(d) - ts).dt.days.astype("float64")


def _customers(tables: Mapping[str, ibis.Table], d: dt.date) -> pd.DataFrame:
    if "customers" not in tables:
        raise ValueError("customer_features: no `customers` table among the tables given "
                         f"({', '.join(sorted(tables)) or 'none'}); the loader always stores one; load data first.")
    cust = tables["customers"]
    # Customers who signed up strictly before D.
    frame = fetch(cust.filter(cust.signup_date < ibis.literal(d)))
    frame["customer_id"] = frame["customer_id"].astype("str")
    frame["signup_date"] = pd.to_datetime(frame["signup_date"])
    return frame


class _Dates:
    """The dates of batched queries: each scan joins its rows to the windows of the dates that hold them
    (a row once per such date, `_k` the date's index), so one query answers every date. The dates'
    bounds are a table of the engine (one row per date); the scanned rows are first narrowed by literals
    to the span of the windows, so an engine still skips the row groups (or partitions) outside it."""

    def __init__(self, dates: list[dt.date], params: FeatureParams) -> None:
        self.dates = list(dates)
        m_now = [last_complete_month(d) for d in self.dates]     # the last complete month
        m_3 = [add_months(m, -3) for m in m_now]
        columns: dict[str, pa.Array] = {
            "_k": pa.array(range(len(self.dates)), pa.int64()),
            "_d": pa.array(self.dates, pa.date32()),
            "_m_now": pa.array(m_now, pa.date32()),
            "_m_3": pa.array(m_3, pa.date32()),
            "_m_now_12": pa.array([add_months(m, -12) for m in m_now], pa.date32()),
            "_m_3_12": pa.array([add_months(m, -12) for m in m_3], pa.date32()),
        }
        if params.lookback_days is not None:
            columns["_win_month"] = pa.array(
                [month_start(d - dt.timedelta(days=params.lookback_days)) for d in self.dates], pa.date32())
        self.bounds = pa.table(columns)
        self.table = ibis.memtable(self.bounds)
        self.extra: list[ibis.Table] = []     # other memtables of its queries (join_days), dropped with it

    def release(self, backend: Any) -> None:
        """Unregister its tables from the engine that ran a query."""
        for t in [self.table, *self.extra]:
            drop_memtables(t, backend)
        self.extra.clear()

    def join(self, table: ibis.Table, column: str) -> ibis.Table:
        """The rows of `table` whose date `column` is before D, once per date, with the date's bounds as
        columns (first narrowed to the rows before the last date, by a literal)."""
        rows = table.filter(table[column] < ibis.literal(max(self.dates)))
        return rows.join(self.table, rows[column] < self.table._d)

    def before(self, first: int, last: int) -> list[tuple[dt.date, dt.date]]:
        """Each date's window of days [D - first days, D - last days)."""
        return [(d - dt.timedelta(days=first), d - dt.timedelta(days=last)) for d in self.dates]

    def join_days(self, table: ibis.Table, column: str, windows: list[tuple[dt.date, dt.date]]) -> ibis.Table:
        """The rows of `table` whose timestamp `column` falls on a day of [start, end) of the k-th window,
        once per such window, with `_k` and `_day` (the day's index in its window). An equality join on
        the calendar day with a small table of (day, window) pairs: much cheaper for the engine than a range
        join (no sort, no nested loop), and equal to it because windows start and end at midnight."""
        rows = _in_windows(table, column, windows)
        if len(windows) == 1:  # one window: the literal bounds alone select its rows
            return rows.mutate(_k=ibis.literal(0, type="int64"),
                               _day=rows[column].date().delta(ibis.literal(windows[0][0]), unit="day"))
        pairs = [(start + dt.timedelta(days=i), k, i) for k, (start, end) in enumerate(windows)
                 for i in range((end - start).days)]
        days = ibis.memtable(pa.table({"_date": pa.array([p[0] for p in pairs], pa.date32()),
                                       "_k": pa.array([p[1] for p in pairs], pa.int64()),
                                       "_day": pa.array([p[2] for p in pairs], pa.int64())}))
        self.extra.append(days)
        return rows.join(days, rows[column].date() == days._date)


def _in_windows(table: ibis.Table, column: str, windows: list[tuple[dt.date, dt.date]]) -> ibis.Table:
    """The rows of `table` whose timestamp `column` falls in the span of the windows of days: literal
    bounds, so that an engine skips the row groups (or partitions) outside it."""
    return table.filter(table[column] >= ibis.literal(_midnight(min(w[0] for w in windows))),
                        table[column] < ibis.literal(_midnight(max(w[1] for w in windows))))


_BY_DATE = ["customer_id", "_k"]


def _ledger_features(ledger: ibis.Table, dates: _Dates, params: FeatureParams) -> ibis.Table:
    # Ledger months up to the last complete month (DEFINITIONS.md "Months"; the month of D - 1 when D is a
    # month's first day). A month still running at D is left out: its invoices are not all in (an export
    # taken on the 17th lacks the renewals of the 18th to the 31st, which would read as churn), and revenue
    # dated on or after a D chosen inside the data would count in it.
    lg = dates.join(ledger, "month")
    lg = lg.filter(lg.month <= lg._m_now)
    in_window = lg.month >= lg._win_month if params.lookback_days is not None else ibis.literal(True)
    paid = lg.mrr_cents > 0
    return lg.group_by(_BY_DATE).aggregate(
        # MRR at D = ledger MRR of the last complete month; three months earlier likewise.
        mrr_cents=lg.mrr_cents.sum(where=lg.month == lg._m_now),
        mrr_3m_cents=lg.mrr_cents.sum(where=lg.month == lg._m_3),
        # Transactional "monthly revenue": average over the 12 complete months ending with that month.
        rev_12m_cents=lg.revenue_cents.sum(where=lg.month > lg._m_now_12),
        rev_12m_3_cents=lg.revenue_cents.sum(where=(lg.month > lg._m_3_12) & (lg.month <= lg._m_3)),
        # Total net revenue of every complete month before D.
        total_revenue_cents=lg.revenue_cents.sum(),
        # Net revenue of the RFM window's months.
        window_revenue_cents=lg.revenue_cents.sum(where=in_window),
        # Paid in some month before the last complete one (needed for churn: paid before, not now).
        paid_before=(paid & (lg.month < lg._m_now)).any(),
        first_paid_month=lg.month.min(where=paid),
        last_paid_month=lg.month.max(where=paid),
        # Paying months in the RFM window (the ledger has one row per customer and month, so counting
        # rows counts distinct months; a DISTINCT under a FILTER is several times slower).
        paying_months_window=lg.count(where=paid & in_window),
    )


def daily_net_revenue(revenue: ibis.Table, before: dt.date) -> ibis.Table:
    """Order revenue dated strictly before `before`, netted per customer and calendar day (customer_id, day,
    net cents). A purchase day is a day with net > 0 (DEFINITIONS.md RFM "positive revenue": an order
    cancelled the same day, or a day of returns, is none): the RFM features and the inactivity rule
    (economics.mrr) read purchases from it."""
    rv = revenue.filter(revenue.amount_cents.notnull(), revenue.date.notnull(), revenue.date < ibis.literal(before))
    return rv.group_by(["customer_id", rv.date.cast("date").name("day")]).aggregate(net=rv.amount_cents.sum())


def _order_features(revenue: ibis.Table, d: dt.date, params: FeatureParams) -> ibis.Table:
    window_start = None if params.lookback_days is None else d - dt.timedelta(days=params.lookback_days)
    daily = daily_net_revenue(revenue, d)
    in_window = daily.day >= ibis.literal(window_start) if window_start is not None else ibis.literal(True)
    positive = daily.net > 0
    return daily.group_by("customer_id").aggregate(
        # Last purchase = latest day with positive net revenue.
        last_purchase=daily.day.max(where=positive),
        # Purchase days in the RFM window.
        purchase_days_window=daily.count(where=positive & in_window),
        # Net order revenue (refund lines included) in the RFM window.
        order_window_cents=daily.net.sum(where=in_window),
    )


@ibis.udf.agg.builtin
def bitstring_agg(day: int, lowest: int, highest: int) -> bytes:
    """DuckDB: a bitmap with bit (day - lowest) set for each day."""


@ibis.udf.scalar.builtin
def bit_count(bits: bytes) -> int:
    """DuckDB: the number of set bits."""


@ibis.udf.scalar.builtin(name="bit_count")
def _word_bit_count(word: int) -> int:
    """DuckDB: the number of set bits of an integer."""


@ibis.udf.scalar.builtin
def factorial(n: int) -> int:
    """DuckDB: n! as a HUGEINT. factorial(0) is a 128-bit 1, which ibis has no type to write."""


_DAY_ZERO = dt.date(2000, 1, 1)
_WORD = 63  # values a BIGINT bitmap holds (bits 0-62: shifts stay positive)
_WIDE_WORD = 127  # values a HUGEINT bitmap holds
BATCH_ROWS = 3_000_000  # customer_features_at: customers x dates answered by one windowed query
PREFETCH_DATES = 5  # customer_features_at with `beside`: dates of a batch whose scans run beside Python
BITMAPS = True  # DuckDB fast paths of _distinct and _history_expr (tests switch them off to compare)


def _on_duckdb(table: ibis.Table) -> bool:
    return BITMAPS and table._find_backend(use_default=True).name == "duckdb"


def _word(bit: ibis.Value, wide: bool = False) -> ibis.Value:
    """Per group, a BIGINT with each value of `bit` (0-62) set, or with `wide` a HUGEINT (0-126): the
    engine keeps a fixed-size state."""
    one = factorial(ibis.literal(0)) if wide else ibis.literal(1, type="int64")
    return (one << bit).bit_or()


def _set_bits(word: ibis.Value) -> ibis.Value:
    return _word_bit_count(word).cast("int64").fill_null(0)


def _distinct(table: ibis.Table, value: ibis.Value, lowest: int, highest: int) -> ibis.Value:
    """Distinct values of an integer column within [lowest, highest], per group: COUNT(DISTINCT) on any
    engine; on DuckDB the set bits of a bitmap of the values, several times faster (no hash of
    group-value pairs): a BIGINT for up to 63 values (a fixed-size state: another 30% off a bitstring),
    else a bitstring. Equal by construction and tested equal."""
    if not _on_duckdb(table):
        return value.nunique()
    if highest - lowest < _WORD:
        return _set_bits(_word(value - lowest))
    return bit_count(bitstring_agg(value - lowest, 0, highest - lowest))


def _event_names(ev: ibis.Table, column: str) -> list[str] | None:
    """The values of a text column with few values (event names) in `ev`, sorted; None on engines
    other than DuckDB or with more than 4,096 of them (then COUNT(DISTINCT) counts them)."""
    if not _on_duckdb(ev):
        return None
    names = sorted(fetch(ev.select(name=ev[column]).filter(ibis._.name.notnull()).distinct())["name"].tolist())
    return names if 0 < len(names) <= 4096 else None


def _distinct_names(table: ibis.Table, column: str, names: list[str] | None) -> ibis.Value:
    """Distinct values of a text column per group, `names` holding every value present (_event_names):
    on DuckDB a bitmap of each value's position among them, about four times faster than a second
    DISTINCT in the same scan."""
    value = table[column]
    if names is None:
        return value.nunique()
    # Position among the names (NULL for a missing value, which COUNT(DISTINCT) skips too).
    position = ibis.literal(names, type="array<string>").index(value)
    return _distinct(table, position, 0, len(names) - 1)


def _history_metrics(ev: ibis.Table, params: FeatureParams, days: ibis.Value) -> dict[str, Any]:
    """Per group of the events `ev`: last_event (last active moment), first_event, event_days_window
    (`days`: the distinct calendar days with an event it counts), and first_key_event (the first time the
    key event happened) when a key event is set."""
    metrics: dict[str, Any] = dict(last_event=ev.timestamp.max(), first_event=ev.timestamp.min(),
                                   event_days_window=days)
    if "event" in ev.columns and params.key_event:
        metrics["first_key_event"] = ev.timestamp.min(where=ev.event == params.key_event)
    return metrics


def _history_expr(events: ibis.Table, params: FeatureParams, end: dt.date, wide: bool = True) -> ibis.Table:
    """_history_metrics per customer over every event before `end`.

    Distinct active days: COUNT(DISTINCT day) on any engine. On DuckDB, in two steps (twice as fast at
    100M events as one bitmap of every day per customer, whose variable-size state the engine handles
    slowly): per customer and block of 127 consecutive days (63 unless `wide`), a HUGEINT (BIGINT) with a
    bit per active day; then per customer, the sum of the blocks' set bits. Blocks do not overlap, so
    each day is counted once. See _history_result for why both widths."""
    ev = events.filter(events.timestamp < ibis.literal(_midnight(end)))
    if not _on_duckdb(ev):
        return ev.group_by("customer_id").aggregate(**_history_metrics(ev, params, ev.timestamp.date().nunique()))
    day = ev.timestamp.date().delta(ibis.literal(_DAY_ZERO), unit="day")
    size = _WIDE_WORD if wide else _WORD
    bit = ((day % size) + size) % size   # the day's place in its block (days before 2000 too)
    ev = ev.mutate(_block=day - bit, _bit=bit)
    blocks = ev.group_by(["customer_id", "_block"]).aggregate(**_history_metrics(ev, params, _word(ev._bit, wide)))
    combined: dict[str, Any] = dict(last_event=blocks.last_event.max(), first_event=blocks.first_event.min(),
                                    event_days_window=_set_bits(blocks.event_days_window).sum())
    if "first_key_event" in blocks.columns:
        combined["first_key_event"] = blocks.first_key_event.min()
    return blocks.group_by("customer_id").aggregate(**combined)


def _history_result(rows: "_Rows", events: ibis.Table, params: FeatureParams,
                    end: dt.date) -> tuple[np.ndarray, pd.DataFrame]:
    """_history_expr's result, positioned (`_Rows.positioned`, fetched, then joined to the positions). With
    127-day blocks first (1M customers / 100M events: 12.5 s and 1.5 GB for the features, against 14 s
    and 1.6 GB with 63-day blocks); when the engine runs out of memory with them (DuckDB did under a
    512 MB limit: it does not spill those states), again with 63-day blocks, which it spills."""
    try:
        return rows.positioned(_history_expr(events, params, end), join=False)
    except Exception as exc:  # noqa: BLE001 - the engine's own exception type
        if type(exc).__name__ != "OutOfMemoryException":
            raise
        return rows.positioned(_history_expr(events, params, end, wide=False), join=False)


def _history_window_expr(events: ibis.Table, d: dt.date, params: FeatureParams) -> ibis.Table:
    """The history query when the RFM window is a lookback of N days: last and first event (and first key
    event) over all events before D, active days within [D - N days, D)."""
    ev = events.filter(events.timestamp < ibis.literal(_midnight(d)))
    in_window = ev.timestamp >= ibis.literal(_midnight(d - dt.timedelta(days=params.lookback_days)))
    days = ev.timestamp.date().nunique(where=in_window)
    return ev.group_by("customer_id").aggregate(**_history_metrics(ev, params, days))


def _last_30_features(events: ibis.Table, dates: _Dates) -> ibis.Table:
    # The last 30 days, [D - 30 days, D). Filtered before its distinct counts (a DISTINCT under a
    # FILTER over all events is several times slower).
    l30 = dates.join_days(events, "timestamp", dates.before(30, 0))
    metrics: dict[str, Any] = dict(
        events_30d=l30.count(),                              # events in the last 30 days
        active_days_30d=_distinct(l30, l30._day, 0, 29),     # distinct calendar days with an event
    )
    if "event" in events.columns:
        names = _event_names(_in_windows(events, "timestamp", dates.before(30, 0)), "event")
        metrics["features_used_30d"] = _distinct_names(l30, "event", names)   # distinct event names
    return l30.group_by(_BY_DATE).aggregate(**metrics)


def _users_30_features(events: ibis.Table, dates: _Dates) -> ibis.Table:
    # Distinct users with an event in the last 30 days, [D - 30 days, D): a scan of its own, for the
    # dates that need it (the distinct count is half the cost of the last-30-day scan at 1M customers).
    l30 = dates.join_days(events, "timestamp", dates.before(30, 0))
    return l30.group_by(_BY_DATE).aggregate(active_users_30d=l30.user_id.nunique())


def _previous_30_features(events: ibis.Table, dates: _Dates) -> ibis.Table:
    # The 30 days before those, [D - 60 days, D - 30 days): a count.
    p30 = dates.join_days(events, "timestamp", dates.before(60, 30))
    return p30.group_by(_BY_DATE).aggregate(events_prev_30d=p30.count())


def _ticket_features(tickets: ibis.Table, dates: _Dates) -> ibis.Table:
    # Tickets created in the 90 days before D: [D - 90 days, D).
    tk = dates.join_days(tickets, "created_at", dates.before(90, 0))
    metrics: dict[str, Any] = dict(tickets_90d=tk.count())
    if "minutes" in tickets.columns:
        metrics["support_minutes_90d"] = tk.minutes.sum()   # summed handling minutes (missing = none)
    return tk.group_by(_BY_DATE).aggregate(**metrics)


def _nps_features(nps: ibis.Table, dates: _Dates) -> ibis.Table:
    # NPS answers dated strictly before D; the latest answer's score, and the latest stated goal.
    nv = dates.join(nps, "date")
    metrics: dict[str, Any] = dict(nps_latest=nv.score.argmax(nv.date))
    if "goal" in nps.columns:
        has_goal = nv.goal.notnull() & (nv.goal.strip() != "")
        metrics["stated_goal"] = nv.goal.argmax(nv.date, where=has_goal)
    return nv.group_by(_BY_DATE).aggregate(**metrics)


def _scans(tables: Mapping[str, ibis.Table], params: FeatureParams) -> dict[str, Any]:
    """The windowed per-customer scans of the tables present, by name: each (tables, dates) -> a query
    with one row per customer and date (`_k`). Customers without a row in a window are missing from its
    result: 0 once joined. Each runs as its own query: under a memory limit one query holding all the
    hash tables spills far more."""
    scans: dict[str, Any] = {}
    if "ledger" in tables:
        scans["ledger"] = lambda dates: _ledger_features(tables["ledger"], dates, params)
    if "events" in tables:
        scans["last_30"] = lambda dates: _last_30_features(tables["events"], dates)
        scans["previous_30"] = lambda dates: _previous_30_features(tables["events"], dates)
        if "user_id" in tables["events"].columns:
            scans["users_30"] = lambda dates: _users_30_features(tables["events"], dates)
    if "tickets" in tables:
        scans["tickets"] = lambda dates: _ticket_features(tables["tickets"], dates)
    if "nps" in tables:
        scans["nps"] = lambda dates: _nps_features(tables["nps"], dates)
    return scans


_ROW = "_row_"


class _Rows:
    """The customers' row positions as a table of the engine, so that per-customer query results come back
    positioned: the engine joins them on customer_id (its own hash join), and no customer id is hashed
    or converted again in pandas (at 1M customers that was most of the Python time of a features frame).

    `ids` are every customer's id, in the order of the customers frame the positions refer to; `keep`
    (default: all) marks the ones that are rows of the frame being built (the customers signed up before
    D), so one positions table serves every date of customer_features_at. On an engine other than the
    default one, the positions table is uploaded with the query.
    """

    def __init__(self, ids: pd.Series, keep: np.ndarray | None = None, table: ibis.Table | None = None) -> None:
        self.ids = ids
        self.backends: dict[int, Any] = {}
        # The ids as Arrow strings (no Python string objects): the engine scans the positions table natively.
        self.table = table if table is not None else ibis.memtable(pa.table(
            {"customer_id": pa.array(ids.astype("str"), pa.string()), _ROW: np.arange(len(ids), dtype="int64")}))
        keep = np.ones(len(ids), dtype=bool) if keep is None else np.asarray(keep, dtype=bool)
        self.keep = keep
        self.n = int(keep.sum())
        # Position among all customers -> row of the frame (-1: not a row of it).
        self.row_of = np.where(keep, np.cumsum(keep) - 1, -1)

    def at(self, keep: np.ndarray) -> "_Rows":
        """The same positions table for the frame of the customers `keep` marks (released with this one)."""
        view = _Rows(self.ids, keep, self.table)
        view.backends = self.backends
        return view

    def positioned(self, expr: ibis.Table, join: bool = True) -> tuple[np.ndarray, pd.DataFrame]:
        """The result of a per-customer query (one row per customer_id) without its customer_id, and each
        result row's position among all customers (rows of customers absent from the table are dropped;
        a customer id listed twice gets its result at both positions).

        join=False: the result is fetched first, then joined to the positions in a second query (0.1 s at
        1M customers). For the heaviest aggregation (the event history): sharing its query with the join,
        under the engine's memory limit, DuckDB spilled the aggregation to disk (2-4 s more at 1M/100M).
        """
        backend = expr._find_backend(use_default=True)
        found = expr if join else ibis.memtable(expr.to_pyarrow())
        t = self.table
        joined = found.join(t, found.customer_id.cast("string") == t.customer_id)
        self.backends[id(backend)] = backend
        try:
            part = fetch(joined.select(t[_ROW], *[found[c] for c in found.columns if c != "customer_id"]), backend)
        finally:
            if not join:
                drop_memtables(found, backend)
        return part.pop(_ROW).to_numpy(dtype="int64"), part

    def release(self) -> None:
        """Unregister the positions table from the engines that used it."""
        for backend in self.backends.values():
            drop_memtables(self.table, backend)
        self.backends.clear()

    def add(self, base: pd.DataFrame, result: ibis.Table | tuple) -> pd.DataFrame:
        """`base` (the frame's rows, in order) with the columns of a per-customer query added (the query, or
        its result as `positioned` gives it, or as `_split` gives a date's part of it: the positions, the
        whole result and the result rows they belong to): a left join on customer_id, as DataFrame.merge
        gives it (customers without a result row get missing values: integers become floats with NaN,
        booleans objects)."""
        positions, part, *picked = result if isinstance(result, tuple) else self.positioned(result)
        rows = self.row_of[positions]
        ok = rows >= 0
        source = np.full(self.n, -1, dtype="intp")
        source[rows[ok]] = picked[0][ok] if picked else np.flatnonzero(ok)
        out = base.copy(deep=False)
        for col in part.columns:
            values = pd.api.extensions.take(part[col].array, source, allow_fill=True)
            out[col] = pd.Series(values, index=base.index, name=col)
        return out

    def put(self, base: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
        """`base` with columns given over all customers (in the order of `ids`), taken at the frame's rows."""
        out = base.copy(deep=False)
        for col, values in columns.items():
            out[col] = pd.Series(values[self.keep], index=base.index, name=col)
        return out


class _Windowed:
    """The windowed scans (_scans) of several dates: one query per scan answers all of them, and its result
    is split by date. `take(scan, d)` gives the result of one date, positioned as `_Rows.positioned`
    gives it, once (then it is let go)."""

    def __init__(self, tables: Mapping[str, ibis.Table], dates: list[dt.date], params: FeatureParams,
                 rows: _Rows, users: Collection[dt.date] | None = None, skip: Collection[str] = ()) -> None:
        self.scans = {name: scan for name, scan in _scans(tables, params).items() if name not in skip}
        self.dates = _Dates(dates, params)
        # The dates whose frames count active users (all by default; see customer_features_at).
        self.user_dates = self.dates if users is None else _Dates([d for d in dates if d in users], params)
        self.rows = rows
        self.parts: dict[tuple[str, dt.date | None], tuple] = {}
        self.lazy: set[str] = set()    # scans run only when taken

    def run_all(self) -> "_Windowed":
        """Every scan run now (customer_features_at runs the next batch's beside the current one)."""
        for scan in self.scans:
            if scan not in self.lazy and (scan != "users_30" or self.user_dates.dates):
                try:
                    self._run(scan)
                except Exception as exc:  # noqa: BLE001 - the intervals' failure is the taker's to handle
                    if scan != "intervals":
                        raise
                    self.parts[(scan, None)] = (exc,)
        return self

    def counts_users(self, d: dt.date) -> bool:
        return d in self.user_dates.dates

    def take(self, scan: str, d: dt.date | None) -> tuple:
        if (scan, d) not in self.parts:
            self._run(scan)
        result = self.parts.pop((scan, d))
        if isinstance(result[0], Exception):
            raise result[0]
        return result

    def _run(self, scan: str) -> None:
        dates = self.user_dates if scan == "users_30" else self.dates
        expr = self.scans[scan](dates)
        try:
            positions, part = self.rows.positioned(expr)
        finally:
            dates.release(expr._find_backend(use_default=True))
        if scan == "intervals":   # _EventIntervals' query: by interval, not by date
            self.parts[(scan, None)] = (positions, part)
            return
        for d, result in _split(positions, part, dates.dates).items():
            self.parts[(scan, d)] = result


def _split(positions: np.ndarray, part: pd.DataFrame, dates: list[dt.date]) -> dict[dt.date, tuple]:
    """A batched query's positioned result split by date (its `_k` column: the date's index): for each date
    its positions, the whole result and the result rows of that date (no copy of the result per date)."""
    k = part.pop("_k").to_numpy(dtype="int64")
    if len(dates) == 1:
        return {dates[0]: (positions, part)}
    order = np.argsort(k, kind="stable")
    edges = np.searchsorted(k[order], np.arange(len(dates) + 1))
    return {d: (positions[order[edges[i]:edges[i + 1]]], part, order[edges[i]:edges[i + 1]])
            for i, d in enumerate(dates)}


def customer_features(tables: Mapping[str, ibis.Table], as_of: dt.date, params: FeatureParams,
                      revenue_model: Literal["subscription", "transactional"] = "subscription") -> pd.DataFrame:
    """One row per customer signed up before D, with the features segmentation schemes and rules use.

    Parameters
    ----------
    tables : name -> ibis.Table with the contract columns (ingest/contract.py); keys only for tables present.
    as_of : the as-of date D; only data strictly before D is used (DEFINITIONS.md "Time").
    params : FeatureParams.
    revenue_model : "subscription" or "transactional" (DEFINITIONS.md "Revenue model").

    Returns
    -------
    pandas DataFrame, one row per customer with signup_date < D, columns (money in dollars, float):
    customer_id, signup_date, cohort (signup month), tenure_days (D - signup_date);
    The ledger columns read complete months only (economics.ledger.last_complete_month: the month of D - 1
    when D is a month's first day, else the month before D's): mrr (subscription: ledger MRR of the last
    complete month; transactional: average monthly revenue of the 12 complete months ending with it, net of
    returns across them and never below 0),
    arr = 12 x mrr,
    mrr_3m_ago (the same, three months earlier), paying (mrr > 0), churned (subscription: paid in an
    earlier month and MRR of the last complete month is 0; transactional: last purchase + inactivity_days
    < D), total_revenue (net ledger revenue of every complete month before D), first_paid_month;
    recency_days, frequency, monetary (DEFINITIONS.md RFM: active days are event days when there is an
    events table; otherwise purchase days (transactional) or the days of paying ledger months
    (subscription: recency from the last day of the last paying month, or D - 1 when that is the last
    complete month; frequency counts the months);
    frequency counts them in the lookback window; monetary = net revenue in the window);
    events_30d, events_prev_30d, active_days_30d, features_used_30d, active_users_30d (last 30 days
    [D - 30, D) and the 30 before), usage_trend = (events_30d - events_prev_30d) / (events_30d +
    events_prev_30d) in [-1, 1] (NaN when both are 0), days_to_key_event (signup to first key event);
    tickets_90d, support_minutes_90d, support_cost_90d (= minutes x support_cost_per_minute, DEFINITIONS.md
    "Cost to serve"); nps_latest (0-10), stated_goal (latest NPS goal, else a customers `goal` column);
    usage_pct_of_limit (events_30d / usage_limit x 100), seat_pct_of_limit (active_users_30d /
    seat_limit x 100) where those columns exist; then every other customers column (attributes).
    Columns from an absent table are NaN; customers absent from a present table get 0 counts.
    """
    return _features(tables, as_date(as_of), params, revenue_model)


def _features(tables: Mapping[str, ibis.Table], d: dt.date, params: FeatureParams, revenue_model: str,
              customers: pd.DataFrame | None = None, all_rows: _Rows | None = None,
              history: Mapping[str, np.ndarray] | None = None, windowed: _Windowed | None = None,
              ledger: Mapping[str, np.ndarray] | None = None,
              counts: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """customer_features at d; with `customers` (every customer), `all_rows` (their positions), `history`,
    `ledger` and `counts` (the event history, ledger columns and the last 30 days' and the 30 before's
    event columns over every customer) and `windowed` (the windowed scans of several dates, positioned by
    all_rows) when customer_features_at knows them."""
    if customers is not None and all_rows is not None and windowed is not None:
        # Customers who signed up strictly before D (the table's order kept, as the query returns it).
        keep = (customers["signup_date"] < pd.Timestamp(d)).to_numpy(dtype=bool)
        frame = customers[keep].reset_index(drop=True)
        return _assemble(tables, d, params, revenue_model, frame, all_rows.at(keep), history, windowed, ledger,
                         counts)
    frame = _customers(tables, d)
    rows = _Rows(frame["customer_id"])
    try:
        return _assemble(tables, d, params, revenue_model, frame, rows, history,
                         _Windowed(tables, [d], params, rows))
    finally:
        rows.release()


def _assemble(tables: Mapping[str, ibis.Table], d: dt.date, params: FeatureParams, revenue_model: str,
              frame: pd.DataFrame, rows: _Rows, history: Mapping[str, np.ndarray] | None,
              windowed: _Windowed, ledger: Mapping[str, np.ndarray] | None = None,
              counts: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """The features of the customers `frame` (signed up before d), their results positioned by `rows`."""
    users = windowed.counts_users(d)
    out = pd.DataFrame({"customer_id": frame["customer_id"], "signup_date": frame["signup_date"]})
    out["cohort"] = out["signup_date"].dt.to_period("M").dt.to_timestamp()
    out["tenure_days"] = _days_before(d, out["signup_date"])

    # -- revenue ---------------------------------------------------------------------------
    if "ledger" in tables:
        out = rows.put(out, ledger) if ledger is not None else rows.add(out, windowed.take("ledger", d))
    else:
        for col in ("mrr_cents", "mrr_3m_cents", "rev_12m_cents", "rev_12m_3_cents", "total_revenue_cents",
                    "window_revenue_cents", "paying_months_window"):
            out[col] = np.nan
        out["paid_before"] = False
        out["first_paid_month"] = pd.NaT
        out["last_paid_month"] = pd.NaT
    for col in ("mrr_cents", "mrr_3m_cents", "rev_12m_cents", "rev_12m_3_cents", "total_revenue_cents",
                "window_revenue_cents", "paying_months_window"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64").fillna(0.0)
    out["paid_before"] = out["paid_before"].astype("boolean").fillna(False).astype(bool)
    transactional = revenue_model == "transactional"
    if transactional:
        out["mrr"] = np.maximum(out["rev_12m_cents"], 0) / 12 / 100
        out["mrr_3m_ago"] = np.maximum(out["rev_12m_3_cents"], 0) / 12 / 100
    else:
        out["mrr"] = out["mrr_cents"] / 100
        out["mrr_3m_ago"] = out["mrr_3m_cents"] / 100
    out["arr"] = out["mrr"] * 12
    out["paying"] = out["mrr"] > 0
    out["total_revenue"] = out["total_revenue_cents"] / 100
    out["first_paid_month"] = pd.to_datetime(out["first_paid_month"])

    orders = None
    if transactional and "revenue" in tables and "amount_cents" in tables["revenue"].columns:
        orders = rows.add(out[["customer_id"]], _order_features(tables["revenue"], d, params))
        orders["last_purchase"] = pd.to_datetime(orders["last_purchase"])
    if transactional:
        if orders is not None:
            cutoff = pd.Timestamp(d) - pd.Timedelta(days=params.inactivity_days)
            # Churned once inactivity_days pass without a purchase: last purchase + N days < D.
            out["churned"] = (orders["last_purchase"] < cutoff).fillna(False).to_numpy(dtype=bool)
        else:
            out["churned"] = False
    else:
        # Subscription churn: paid in an earlier month, and the last complete month has no MRR.
        out["churned"] = out["paid_before"] & ~out["paying"]

    # -- events ----------------------------------------------------------------------------
    has_events = "events" in tables
    if has_events:
        # Events strictly before D (an event on D itself is excluded): last and first event, first key
        # event, and the RFM frequency: distinct calendar days with an event in the lookback window (all
        # history by default); accumulated by customer_features_at when it computes several dates.
        if history is not None:
            out = rows.put(out, history)
        elif params.lookback_days is None:
            out = rows.add(out, _history_result(rows, tables["events"], params, d))
        else:
            out = rows.add(out, _history_window_expr(tables["events"], d, params))
        if counts is not None:
            out = rows.put(out, counts)
        else:
            out = rows.add(out, windowed.take("last_30", d))
            out = rows.add(out, windowed.take("previous_30", d))
        if "user_id" in tables["events"].columns and users:
            out = rows.add(out, windowed.take("users_30", d))
        for col in ("events_30d", "events_prev_30d", "active_days_30d", "event_days_window",
                    "features_used_30d", "active_users_30d"):
            if col in out:
                out[col] = pd.to_numeric(out[col], errors="coerce").astype("float64").fillna(0.0)
        out["last_event"] = pd.to_datetime(out["last_event"])
    for col in ("events_30d", "events_prev_30d", "active_days_30d", "features_used_30d", "active_users_30d"):
        if col not in out:
            out[col] = np.nan
    total = out["events_30d"] + out["events_prev_30d"]
    out["usage_trend"] = ((out["events_30d"] - out["events_prev_30d"]) / total.where(total > 0)).astype("float64")
    if has_events and "first_key_event" in out:
        key_time = pd.to_datetime(out["first_key_event"])
    elif has_events:
        key_time = pd.to_datetime(out["first_event"])
    else:
        key_time = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["days_to_key_event"] = (key_time.dt.normalize() - out["signup_date"]).dt.days.astype("float64")

    # -- RFM (DEFINITIONS.md): active days from events when there are events, else positive revenue ----
    if has_events:
        last_active = out["last_event"].dt.normalize()
        out["frequency"] = out["event_days_window"]
    elif orders is not None:
        last_active = orders["last_purchase"].to_numpy()
        out["frequency"] = pd.to_numeric(orders["purchase_days_window"], errors="coerce").fillna(0).to_numpy(
            dtype="float64")
    else:
        # A paying month covers each of its days: the last active day is the last day of the last paying
        # month (a customer paying in October is active on 31 October, not dormant since the 1st), or D - 1
        # for a customer paying in the last complete month: it pays at D (a D inside November reads October).
        month_end = pd.to_datetime(out["last_paid_month"]) + pd.offsets.MonthEnd(0)
        now = pd.Timestamp(last_complete_month(d))
        last_active = month_end.where(pd.to_datetime(out["last_paid_month"]) < now,
                                      pd.Timestamp(d) - pd.Timedelta(days=1))
        last_active = last_active.where(out["last_paid_month"].notna())
        out["frequency"] = out["paying_months_window"]
    out["recency_days"] = _days_before(d, pd.Series(last_active, index=out.index))
    if orders is not None:
        out["monetary"] = pd.to_numeric(orders["order_window_cents"], errors="coerce").fillna(0).to_numpy(
            dtype="float64") / 100
    else:
        out["monetary"] = out["window_revenue_cents"] / 100

    # -- support ---------------------------------------------------------------------------
    if "tickets" in tables:
        out = rows.add(out, windowed.take("tickets", d))
        out["tickets_90d"] = pd.to_numeric(out["tickets_90d"], errors="coerce").astype("float64").fillna(0.0)
        if "support_minutes_90d" in out:
            # Rounded to a millionth of a minute: a sum of doubles depends on its order (0.1 + 0.2 is not 0.3,
            # and the engine's threads add in any order), and customers with equal minutes must tie in the
            # health score's percentile ranks, run after run.
            out["support_minutes_90d"] = pd.to_numeric(out["support_minutes_90d"], errors="coerce").astype(
                "float64").fillna(0.0).round(6)
        else:
            out["support_minutes_90d"] = np.nan
    else:
        out["tickets_90d"] = np.nan
        out["support_minutes_90d"] = np.nan
    out["support_cost_90d"] = out["support_minutes_90d"] * params.support_cost_per_minute

    # -- NPS and goal ----------------------------------------------------------------------
    if "nps" in tables:
        out = rows.add(out, windowed.take("nps", d))
        out["nps_latest"] = pd.to_numeric(out["nps_latest"], errors="coerce").astype("float64")
    else:
        out["nps_latest"] = np.nan
    if "stated_goal" not in out:
        out["stated_goal"] = pd.Series(pd.NA, index=out.index, dtype="str")
    if "goal" in frame.columns:
        attr_goal = frame["goal"].astype("str").where(frame["goal"].notna())
        out["stated_goal"] = out["stated_goal"].where(out["stated_goal"].notna(), attr_goal.to_numpy())
    out["stated_goal"] = out["stated_goal"].astype("str").where(out["stated_goal"].notna())

    # -- limits ----------------------------------------------------------------------------
    def pct(numerator: pd.Series, col: str) -> pd.Series:
        if col not in frame.columns:
            return pd.Series(np.nan, index=out.index)
        limit = pd.to_numeric(frame[col], errors="coerce").astype("float64").to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            return pd.Series(np.where(limit > 0, numerator.to_numpy(dtype="float64") / limit * 100, np.nan),
                             index=out.index)
    out["usage_pct_of_limit"] = pct(out["events_30d"], "usage_limit")
    out["seat_pct_of_limit"] = pct(out["active_users_30d"], "seat_limit")

    # -- attributes: every other customers column ------------------------------------------
    result = out[[c for c in FEATURE_COLUMNS if users or c not in USER_COLUMNS]]
    attrs = [c for c in frame.columns if c not in result.columns and c not in ("customer_id", "signup_date")]
    for col in attrs:
        result[col] = frame[col].array   # as stored (no round trip through Python objects)
    for col in ("paying", "churned"):
        result[col] = result[col].astype(bool)
    return result.reset_index(drop=True)


def _history_increments(events: ibis.Table, params: FeatureParams, dates: _Dates,
                        windows: list[tuple[dt.date, dt.date]]) -> ibis.Table:
    """_history_metrics over each of several windows of days [start, end), in one query: per customer and
    window (`_k`)."""
    ev = dates.join_days(events, "timestamp", windows)
    longest = max((end - start).days for start, end in windows)
    days = _distinct(ev, ev._day, 0, longest - 1)   # distinct calendar days with an event
    return ev.group_by(_BY_DATE).aggregate(**_history_metrics(ev, params, days))


class _EventHistory:
    """The all-history event columns before each of several dates, accumulated date by date.

    Asked for dates in increasing order, it scans only the events since the previous date (the first
    time: every event before the first date) and folds them into running per-customer values: the latest
    last event, the earliest first event and first key event, and the sum of distinct active days (dates
    are midnights, so a day never falls on both sides of one and each active day is counted once). The
    increments of the dates announced by `plan` are scanned in one query. Memory is the increments of one
    plan plus four values per customer; only used when the RFM window is all history (lookback_days =
    "all").
    """

    def __init__(self, events: ibis.Table, params: FeatureParams, rows: _Rows) -> None:
        self.events, self.params, self.rows = events, params, rows
        n = len(rows.ids)
        self.has_key = "event" in events.columns and bool(params.key_event)
        self.last = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        self.first = self.last.copy()
        self.key = self.last.copy()
        self.days = np.zeros(n, dtype="int64")
        self.until: dt.date | None = None
        self.planned: list[dt.date] = []
        self.parts: dict[dt.date, tuple] = {}

    def plan(self, dates: list[dt.date]) -> None:
        """The next dates it will be asked for, in increasing order: their increments come from one query."""
        self.planned = sorted(dates)

    def _scan(self, d: dt.date) -> None:
        dates = [p for p in self.planned if p >= d] if d in self.planned else [d]
        if self.until is None:
            # Every event before the first date: a scan of its own (no lower bound).
            self.parts[dates[0]] = _history_result(self.rows, self.events, self.params, dates[0])
            starts, dates = dates[:-1], dates[1:]
        else:
            starts = [self.until, *dates[:-1]]
        if not dates:
            return
        batch = _Dates(dates, self.params)
        expr = _history_increments(self.events, self.params, batch, list(zip(starts, dates)))
        try:
            positions, part = self.rows.positioned(expr)
        finally:
            batch.release(expr._find_backend(use_default=True))
        self.parts.update(_split(positions, part, dates))

    def history(self, d: dt.date) -> dict[str, np.ndarray]:
        """last_event, first_event, event_days_window (and first_key_event) before d, over every customer
        (NaT and 0 for those without an event before d). The running arrays themselves: valid until the
        next call (`_Rows.put` takes a copy of its rows)."""
        if self.until is not None and d < self.until:
            raise ValueError(f"_EventHistory: dates must come in increasing order ({d} after {self.until}).")
        if self.until is None or d > self.until:
            if d not in self.parts:
                self._scan(d)
            at, part, *picked = self.parts.pop(d)
            rows = picked[0] if picked else slice(None)

            def values(col: str, dtype: str = "datetime64[us]") -> np.ndarray:
                return part[col].to_numpy(dtype=dtype)[rows]
            self.last[at] = np.fmax(self.last[at], values("last_event"))
            self.first[at] = np.fmin(self.first[at], values("first_event"))
            if self.has_key:
                self.key[at] = np.fmin(self.key[at], values("first_key_event"))
            self.days[at] += values("event_days_window", "int64")
            self.until = d
        out = {"last_event": self.last, "first_event": self.first, "event_days_window": self.days}
        if self.has_key:
            out["first_key_event"] = self.key
        return out


_WINDOW_EDGES = (0, 30, 60)   # days before each date where its windows begin or end: [D-30, D), [D-60, D-30)


class _EventIntervals:
    """The event columns of several dates (the event history, the last 30 days and the 30 before) from
    per-customer aggregates of the intervals between consecutive window edges: each event read once.

    The edges are each date D, D - 30 days and D - 60 days (and more between edges over 63 days apart,
    so that a BIGINT holds a bit per day of an interval). Per customer and interval the engine gives the
    events, a bitmap of the days with one, a bitmap of the event names, and the first and last day with
    an event (and with the key event). A date's last 30 days are those of the intervals tiling
    [D - 30, D), summed (days: set bits, intervals do not overlap; names: the set bits of their OR), the
    30 before likewise; its history is every interval before D folded into running values, after the
    events before the first edge (one all-history query, _history_result). The intervals give first and
    last events as days (midnight): the features read them by calendar day (recency, days to the key
    event). The windowed scans of the batches of customer_features_at query the intervals up to each
    batch's last date (`expr`, on whichever connection runs it); an interval is let go once no date still
    to come reads it. The windowed scans joined every event to each window holding it: an event in the
    last 30 days of one month start and the 30 before the next was read twice, and once more by the
    history (about a fifth of the report's time at 100k customers).
    """

    def __init__(self, events: ibis.Table, params: FeatureParams, rows: "_Rows", dates: list[dt.date],
                 names: list[str] | None) -> None:
        self.events, self.params, self.rows, self.names = events, params, rows, names
        self.dates = sorted(dates)
        bounds = sorted({d - dt.timedelta(days=back) for d in self.dates for back in _WINDOW_EDGES})
        self.edges = [bounds[0]]
        for bound in bounds[1:]:
            while (bound - self.edges[-1]).days > _WORD:
                self.edges.append(self.edges[-1] + dt.timedelta(days=_WORD))
            self.edges.append(bound)
        self.index = {edge: i for i, edge in enumerate(self.edges)}
        self.has_key = "event" in events.columns and bool(params.key_event)
        n = len(rows.ids)
        self.last = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        self.first = self.last.copy()
        self.key = self.last.copy()
        self.days = np.zeros(n, dtype="int64")
        self.folded: int | None = None   # intervals folded into the running values (None: not even the start)
        self.fetched = 0                  # intervals added so far
        # interval -> (a batch's result columns, the rows of that interval among them)
        self.store: dict[int, tuple[dict[str, np.ndarray], np.ndarray]] = {}

    def expr(self, events: ibis.Table, batch: "_Dates") -> ibis.Table:
        """The intervals from the previous batch's last date (or the first edge) to this batch's last date:
        per customer and interval (`_iv`, its index), on the connection of `events`."""
        earlier = [d for d in self.dates if d < min(batch.dates)]
        lo = self.index[max(earlier)] if earlier else 0
        hi = self.index[max(batch.dates)]
        ev = batch.join_days(events, "timestamp", list(zip(self.edges[lo:hi], self.edges[lo + 1:hi + 1])))
        ev = ev.mutate(_iv=(ev._k + lo).cast("int32"))
        # Small types from the engine on (a day of an interval fits an int8): the result has a row per
        # customer and interval, several million at 1M customers.
        metrics: dict[str, Any] = dict(events=ev.count().cast("int32"), days=_word(ev._day),
                                       last_day=ev._day.max().cast("int8"), first_day=ev._day.min().cast("int8"))
        if self.names is not None:
            # Each name's place among them (NULL for a missing name: no bit, as COUNT(DISTINCT) skips it).
            metrics["names"] = _word(ibis.literal(self.names, type="array<string>").index(ev.event)).fill_null(0)
        if self.has_key:
            metrics["key_day"] = ev._day.min(where=ev.event == self.params.key_event).fill_null(-1).cast("int8")
        return ev.group_by(["customer_id", "_iv"]).aggregate(**metrics)

    def add(self, result: tuple, batch: list[dt.date]) -> None:
        """The query result of the batch of `batch` (positioned, as _Windowed.take gives it), kept by
        interval."""
        self.fetched = self.index[max(batch)]
        positions, part = result[:2]
        iv = part.pop("_iv").to_numpy(dtype="int32")
        columns = {col: part[col].to_numpy() for col in part.columns}   # the engine's types, no copy
        columns["positions"] = positions.astype("int32")
        order = np.argsort(iv, kind="stable").astype("int32")
        present, starts = np.unique(iv[order], return_index=True)
        for i, first, last in zip(present, starts, [*starts[1:], len(order)]):
            self.store[int(i)] = (columns, order[first:last])

    def _intervals(self, start: dt.date, end: dt.date, columns: tuple[str, ...]
                   ) -> Iterator[tuple[int, np.ndarray, dict[str, np.ndarray]]]:
        """(interval, positions, the `columns`) of each interval with an event in [start, end)."""
        for i in range(self.index[start], self.index[end]):
            if i in self.store:
                values, rows = self.store[i]
                yield i, values["positions"][rows], {col: values[col][rows] for col in columns}

    def at(self, d: dt.date) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """(history, windows) at d over every customer: last_event, first_event, event_days_window (and
        first_key_event) before d, as _EventHistory.history gives them (the running arrays: valid until the
        next call); events_30d, active_days_30d, features_used_30d (with event names) and events_prev_30d
        (0 for customers without an event there). Dates come in increasing order, each batch's intervals
        added (`add`) before its first date."""
        if self.index[d] > self.fetched:
            raise RuntimeError(f"_EventIntervals: the intervals before {d} were not added.")
        if self.folded is None:
            # Every event before the first edge: a query of its own (no lower bound).
            at, part = _history_result(self.rows, self.events, self.params, self.edges[0])
            self._fold(at, *(part[col].to_numpy(dtype="datetime64[us]") if col in part else None
                             for col in ("last_event", "first_event", "first_key_event")),
                       part["event_days_window"].to_numpy(dtype="int64"))
            self.folded = 0
        read = ("last_day", "first_day", "days") + (("key_day",) if self.has_key else ())
        for i, at, values in self._intervals(self.edges[self.folded], d, read):
            edge = np.datetime64(self.edges[i], "us")

            def day(col: str) -> np.ndarray:
                offset = values[col].astype("timedelta64[D]")
                return np.where(values[col] >= 0, edge + offset, np.datetime64("NaT"))
            self._fold(at, day("last_day"), day("first_day"), day("key_day") if self.has_key else None,
                       np.bitwise_count(values["days"]))
        self.folded = self.index[d]
        windows = {}
        for name, (start, end) in {"30d": (30, 0), "prev_30d": (60, 30)}.items():
            events, days = np.zeros(len(self.days)), np.zeros(len(self.days))
            names = np.zeros(len(self.days), dtype="int64") if name == "30d" and self.names is not None else None
            read = ("events", "days") + (("names",) if names is not None else ())
            for _, at, values in self._intervals(d - dt.timedelta(days=start), d - dt.timedelta(days=end), read):
                events[at] += values["events"]     # a customer once per interval
                days[at] += np.bitwise_count(values["days"])
                if names is not None:
                    names[at] |= values["names"]
            windows[f"events_{name}"] = events
            if name == "30d":
                windows["active_days_30d"] = days
                if names is not None:
                    windows["features_used_30d"] = np.bitwise_count(names).astype("float64")
        # Let go of the intervals no date to come reads (its windows start 60 days before it).
        later = [self.index[day - dt.timedelta(days=_WINDOW_EDGES[-1])] for day in self.dates if day > d]
        keep_from = min(later + [self.folded])
        for i in [i for i in self.store if i < keep_from]:
            del self.store[i]
        history = {"last_event": self.last, "first_event": self.first, "event_days_window": self.days}
        if self.has_key:
            history["first_key_event"] = self.key
        return history, windows

    def _fold(self, at: np.ndarray, last: np.ndarray, first: np.ndarray, key: np.ndarray | None,
              days: np.ndarray) -> None:
        self.last[at] = np.fmax(self.last[at], last)
        self.first[at] = np.fmin(self.first[at], first)
        if self.has_key:
            self.key[at] = np.fmin(self.key[at], key)
        self.days[at] += days


def _event_intervals(events: ibis.Table, params: FeatureParams, rows: "_Rows",
                     dates: list[dt.date]) -> _EventIntervals | None:
    """_EventIntervals for these dates when it applies: on DuckDB (bitmaps), with the RFM window all
    history, and at most 63 event names (a BIGINT of them); else None."""
    if not _on_duckdb(events) or params.lookback_days is not None or len(dates) < 2:
        return None
    names = None
    if "event" in events.columns:
        span = [(min(dates) - dt.timedelta(days=_WINDOW_EDGES[-1]), max(dates))]
        names = _event_names(_in_windows(events, "timestamp", span), "event")
        if names is None or len(names) > _WORD:
            return None
    return _EventIntervals(events, params, rows, dates, names)


# The running values _LedgerHistory.at reads at each kind of boundary (the others are not kept there).
_LEDGER_READS = {"now": ("mrr",), "before": ("paid",), "m3": ("mrr", "revenue"), "window": ("revenue", "paid"),
                 "now_12": ("revenue",), "m3_12": ("revenue",)}


class _LedgerHistory:
    """_ledger_features' columns at several dates, each ledger row read once.

    _ledger_features joins every ledger row to every later date: at 13 month starts, each row about 9
    times (most of a batch's ledger query). Here the rows are grouped by customer and bin of months
    between consecutive boundaries (every month a date's columns read: the last complete month and the month
    before it, three months earlier, the month before the RFM window, and for the transactional model
    twelve months before those), the bins are folded in order into running per-customer values (net
    revenue, paying months, first and last paid month), and a date's columns are those values, or their
    differences, at its boundaries. The bins of the dates announced by `plan` come from one query;
    running values are kept at a boundary only while a date still to come reads it.
    """

    def __init__(self, ledger: ibis.Table, params: FeatureParams, rows: "_Rows", dates: list[dt.date],
                 transactional: bool) -> None:
        self.ledger, self.rows = ledger, rows
        self.needs = {d: self._boundaries(d, params, transactional) for d in sorted(dates)}
        self.bounds = sorted({b for need in self.needs.values() for b in need.values()})
        n = len(rows.ids)
        self.revenue = np.zeros(n, dtype="int64")
        self.paid = np.zeros(n, dtype="int64")
        self.first = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
        self.last = self.first.copy()
        self.folded = -1          # index (in bounds) of the last boundary folded in
        self.queried = -1         # index of the last boundary whose bin was queried
        self.kept: dict[dt.date, dict[str, np.ndarray]] = {}
        self.planned: list[dt.date] = []
        self.pending: tuple | None = None
        self.until: dt.date | None = None  # the last date given

    @staticmethod
    def _boundaries(d: dt.date, params: FeatureParams, transactional: bool) -> dict[str, dt.date]:
        now = last_complete_month(d)     # the last complete month: the months read are <= it
        need = {"now": now, "before": add_months(now, -1), "m3": add_months(now, -3)}
        if params.lookback_days is not None:
            first = month_start(d - dt.timedelta(days=params.lookback_days))
            need["window"] = min(add_months(first, -1), now)    # an empty window: now - now
        if transactional:
            need["now_12"] = add_months(now, -12)
            need["m3_12"] = add_months(need["m3"], -12)
        return need

    def plan(self, dates: list[dt.date]) -> None:
        """The next dates it will be asked for: their bins come from one query."""
        self.planned = sorted(dates)

    def _scan(self, d: dt.date) -> None:
        ahead = [p for p in self.planned if p >= d] if d in self.planned else [d]
        top = self.bounds.index(max(self.needs[p]["now"] for p in ahead))
        bounds = self.bounds[self.queried + 1:top + 1]
        lg = self.ledger.filter(self.ledger.month <= ibis.literal(bounds[-1]))
        if self.queried >= 0:
            lg = lg.filter(lg.month > ibis.literal(self.bounds[self.queried]))
        first = self.queried + 1
        lg = lg.mutate(_bin=ibis.cases(*[(lg.month <= ibis.literal(b), first + i) for i, b in enumerate(bounds)]),
                       _top=ibis.cases(*[(lg.month <= ibis.literal(b), ibis.literal(b)) for b in bounds]))
        paid = lg.mrr_cents > 0
        expr = lg.group_by(["customer_id", "_bin"]).aggregate(
            revenue=lg.revenue_cents.sum().cast("int64"), paid=lg.count(where=paid),
            first_paid=lg.month.min(where=paid), last_paid=lg.month.max(where=paid),
            # MRR of the bin's last month (a boundary), as _ledger_features reads it at `now` and `m3`.
            mrr=lg.mrr_cents.sum(where=lg.month == lg._top).cast("int64"))
        positions, part = self.rows.positioned(expr)
        bins = part.pop("_bin").to_numpy(dtype="int64")
        order = np.argsort(bins.astype(np.min_scalar_type(top)), kind="stable")   # a radix sort of small ints
        edges = np.searchsorted(bins[order], np.arange(first, top + 2))
        # Rows in bin order, as arrays (MRR of no row at the bin's last month: 0).
        values = {"positions": positions[order],
                  "revenue": part["revenue"].to_numpy(dtype="int64")[order],
                  "paid": part["paid"].to_numpy(dtype="int64")[order],
                  "first": part["first_paid"].to_numpy(dtype="datetime64[D]")[order],
                  "last": part["last_paid"].to_numpy(dtype="datetime64[D]")[order],
                  "mrr": np.nan_to_num(part["mrr"].to_numpy(dtype="float64"), nan=0).astype("int64")[order]}
        self.pending = (first, edges, values)
        self.queried = top

    def _fold(self, upto: int) -> None:
        while self.folded < upto:
            i = self.folded + 1
            if self.pending is None or not (self.pending[0] <= i <= self.queried):
                raise RuntimeError("_LedgerHistory: a boundary was folded before its bin was queried.")
            first, edges, values = self.pending
            rows = slice(edges[i - first], edges[i - first + 1])
            at = values["positions"][rows]
            # One result row per customer and bin: each position once in a bin.
            self.revenue[at] += values["revenue"][rows]
            self.paid[at] += values["paid"][rows]
            self.first[at] = np.fmin(self.first[at], values["first"][rows])
            self.last[at] = np.fmax(self.last[at], values["last"][rows])
            bound = self.bounds[i]
            # What the dates still to come read at this boundary, kept as it is now.
            reads = {value for day, need in self.needs.items() if self.until is None or day > self.until
                     for kind, at_bound in need.items() if at_bound == bound for value in _LEDGER_READS[kind]}
            if reads:
                kept = {}
                if "mrr" in reads:
                    kept["mrr"] = np.zeros(len(self.revenue), dtype="int64")
                    kept["mrr"][at] = values["mrr"][rows]
                if "revenue" in reads:
                    kept["revenue"] = self.revenue.copy()
                if "paid" in reads:
                    kept["paid"] = self.paid.copy()
                self.kept[bound] = kept
            self.folded = i
            if self.folded == self.queried:
                self.pending = None

    def at(self, d: dt.date) -> dict[str, np.ndarray]:
        """_ledger_features' columns at d over every customer (0, False and NaT for those without a ledger
        row before d). Dates must come in increasing order."""
        need = self.needs[d]
        now = self.bounds.index(need["now"])
        if now < self.folded:
            raise ValueError(f"_LedgerHistory: dates must come in increasing order ({d}).")
        if now > self.queried:
            self._scan(d)
        self._fold(now)
        kept = self.kept
        revenue, paid = self.revenue.astype("float64"), self.paid
        zeros = np.zeros(len(revenue))
        out = {
            "mrr_cents": kept[need["now"]]["mrr"].astype("float64"),
            "mrr_3m_cents": kept[need["m3"]]["mrr"].astype("float64"),
            "rev_12m_cents": revenue - kept[need["now_12"]]["revenue"] if "now_12" in need else zeros,
            "rev_12m_3_cents": (kept[need["m3"]]["revenue"] - kept[need["m3_12"]]["revenue"]).astype("float64")
            if "m3_12" in need else zeros,
            "total_revenue_cents": revenue,
            "window_revenue_cents": revenue - kept[need["window"]]["revenue"] if "window" in need else revenue,
            "paid_before": kept[need["before"]]["paid"] > 0,
            "first_paid_month": self.first.astype("datetime64[s]"),
            "last_paid_month": self.last.astype("datetime64[s]"),
            "paying_months_window": (paid - kept[need["window"]]["paid"] if "window" in need else paid).astype(
                "float64"),
        }
        # Let go of the boundaries no later date reads.
        self.until = d
        later = [n for day, n in self.needs.items() if day > d]
        for bound in [b for b in kept if not any(b in n.values() for n in later)]:
            del kept[bound]
        return out


ACTIVITY_TABLES: tuple[str, ...] = ("events", "tickets", "nps")


def current_customers(features: pd.DataFrame) -> pd.DataFrame:
    """The rows of customers who can still churn at D: paying and not churned (DEFINITIONS.md "Churn").

    Under subscription revenue every paying customer is one. On order data `paying` means net revenue in
    the 12 months before D, which a customer keeps for months after the inactivity rule has churned it:
    those are lost already, neither at risk of churning (the churn model never trained on them) nor
    candidates for an upsell.
    """
    missing = [c for c in ("paying", "churned") if c not in features.columns]
    if missing:
        raise ValueError(f"current_customers: missing column(s) {', '.join(missing)}; pass customer_features.")
    return features[features["paying"].astype(bool) & ~features["churned"].astype(bool)]


# A customer's status at D (DEFINITIONS.md "Churn"), in display order.
STATUSES = ("Paying", "Never paid", "Churned")


def customer_status(features: pd.DataFrame) -> pd.Series:
    """Each customer's status at D, aligned with `features`: "Churned" (churned as DEFINITIONS.md "Churn" says
    for the revenue model), "Paying" (not churned, and paying in the last complete month or since: revenue in
    the month still running, `monetary` > 0, makes a customer who started this month paying; on Online
    Retail 40 December buyers read "Never paid" without it), "Never paid" (neither: a trial, a sign-up who
    never converted, a customer whose orders were all returned). A categorical of STATUSES.
    """
    current_customers(features.head(0))   # the same columns check
    churned = features["churned"].to_numpy(dtype=bool)
    paying = features["paying"].to_numpy(dtype=bool)
    if "monetary" in features:
        paying = paying | (features["monetary"].fillna(0).to_numpy(dtype="float64") > 0)
    codes = np.where(churned, 2, np.where(paying, 0, 1))
    return pd.Series(pd.Categorical.from_codes(codes, categories=list(STATUSES)), index=features.index,
                     name="status")


def without_activity(tables: Mapping[str, ibis.Table]) -> dict[str, ibis.Table]:
    """The tables without events, tickets and NPS answers. Features computed from them have the customer,
    revenue and tenure columns exactly as with every table, and the activity columns missing: enough for
    the schemes of schemes.REVENUE_ONLY_SCHEMES (value tier, lifecycle, size band, attributes), in a
    fraction of the time (the event scan is most of a features computation)."""
    return {name: table for name, table in tables.items() if name not in ACTIVITY_TABLES}


def customer_features_by_date(tables: Mapping[str, ibis.Table], dates: list[dt.date], params: FeatureParams,
                               revenue_model: Literal["subscription", "transactional"] = "subscription",
                               users: Collection[dt.date] | None = None) -> dict[dt.date, pd.DataFrame]:
    """customer_features_at's frames by date, the next dates' scans on a second connection when the tables
    can have one (second_connection), closed afterwards."""
    if len(set(dates)) < 2:
        return dict(customer_features_at(tables, dates, params, revenue_model, users=users))
    with beside_connection(tables) as beside:
        return dict(customer_features_at(tables, dates, params, revenue_model, users=users, beside=beside))


def customer_features_at(tables: Mapping[str, ibis.Table], dates: list[dt.date], params: FeatureParams,
                         revenue_model: Literal["subscription", "transactional"] = "subscription",
                         users: Collection[dt.date] | None = None, beside: Mapping[str, ibis.Table] | None = None):
    """`customer_features` at several dates, one (date, features) pair at a time, in date order.

    Each frame equals `customer_features(tables, date, params, revenue_model)`, except that only the dates
    in `users` (default: every date) count active users: the others' frames lack USER_COLUMNS, for frames
    only labelled with schemes that do not read them (`schemes.reads_users`); the distinct count of users
    is half the cost of the last-30-day scan. The windowed scans (last 30 days, the 30 before, users,
    tickets, NPS) run once for a batch of dates (as many as keep a batch's results near BATCH_ROWS
    customer rows); the event history (the all-events scan) and the ledger columns are accumulated from
    date to date, each event and ledger row read once (_EventHistory, _LedgerHistory); on DuckDB, with the
    RFM window all history, the events' last 30 days, the 30 before and their history come from one query
    per batch by interval between the windows' edges, each event read once (_EventIntervals). One date's
    frame is built at a time. Use it for segment history (a label per month start).

    `beside`: the same tables on a second connection to their database (`second_connection`). The
    dates then go in batches of at most PREFETCH_DATES, and each batch's windowed scans run there, in a
    thread of their own, while the frames of the batch before are built and used: the engine works
    beside Python instead of after it. The frames are the same.
    """
    days = sorted({as_date(d) for d in dates})
    if not days:
        return
    customers = _customers(tables, dt.date.max)
    rows = _Rows(customers["customer_id"])
    history = ledger = intervals = None
    if "events" in tables:
        intervals = _event_intervals(tables["events"], params, rows, days)
    if "events" in tables and params.lookback_days is None and len(days) > 1 and intervals is None:
        history = _EventHistory(tables["events"], params, rows)
    if "ledger" in tables and len(days) > 1:
        ledger = _LedgerHistory(tables["ledger"], params, rows, days, revenue_model == "transactional")
    per_batch = max(1, BATCH_ROWS // max(len(customers), 1))
    if beside is not None:
        per_batch = min(per_batch, PREFETCH_DATES)
    batches = [days[first:first + per_batch] for first in range(0, len(days), per_batch)]
    user_dates = None if users is None else {as_date(d) for d in users}

    def windowed_scans(batch: list[dt.date], on: Mapping[str, ibis.Table]) -> _Windowed:
        windowed = _Windowed(on, batch, params, rows, user_dates, skip=("ledger",) if ledger is not None else ())
        if intervals is not None:
            # The intervals answer the last 30 days and the 30 before (run only if the intervals fail).
            windowed.scans["intervals"] = lambda dates, into=intervals: into.expr(on["events"], dates)
            windowed.lazy = {"last_30", "previous_30"}
        return windowed

    def failed(exc: Exception) -> None:
        warnings.warn(f"customer_features_at: the accumulated event history failed ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0]}); computing each date's history separately.", RuntimeWarning,
                      stacklevel=3)

    pool = ThreadPoolExecutor(max_workers=1) if beside is not None and len(batches) > 1 else None
    ahead: Future | None = None
    try:
        for i, batch in enumerate(batches):
            windowed = ahead.result() if ahead is not None else windowed_scans(batch, tables)
            ahead = pool.submit(windowed_scans(batches[i + 1], beside).run_all) \
                if pool is not None and i + 1 < len(batches) else None
            if history is not None:
                history.plan(batch)
            if ledger is not None:
                ledger.plan(batch)
            for d in batch:
                known = counts = None
                try:
                    # e.g. the engine's memory limit: then date by date
                    if intervals is not None:
                        if d == batch[0]:
                            intervals.add(windowed.take("intervals", None), batch)
                        known, counts = intervals.at(d)
                    elif history is not None:
                        known = history.history(d)
                except Exception as exc:  # noqa: BLE001 - the engine's own exception types
                    failed(exc)
                    known = counts = history = intervals = None
                    if ahead is not None:
                        # The prefetched scans' connection runs the windowed scans left to run now.
                        wait([ahead])
                        pool.shutdown()
                        pool = None
                yield d, _features(tables, d, params, revenue_model, customers, rows, known, windowed,
                                   ledger.at(d) if ledger is not None else None, counts)
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)   # before its tables are let go
        rows.release()
