"""Northwind Analytics: a deterministic fictional B2B SaaS company that plants six truths (see README.md).

Run ``python -m sample_data.generate --out DIR [--customers N] [--events M] [--format csv|parquet]
[--seed S]``. The defaults reproduce the files shipped in ``sample_data/``.

History: 24 complete calendar months, 2024-11-01 .. 2026-10-31; nothing is dated on or after
2026-11-01 except the (exclusive) end of an invoice's service period. Column names are exactly the
contract names of ``ingest/contract.py``, so the loader needs no mapping.

Generation is memory-bounded: customers are simulated in fixed chunks (each with its own seeded
``numpy.random.Generator``), and events are generated month by month across all customers, sorted by
timestamp within the month and written in row groups, so the events file is in time order. Only a
small per-customer state (monthly event intensity, plan, user count) is kept for every customer.
"""
from __future__ import annotations

import argparse
import gzip
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = [
    "SampleParams",
    "generate",
    "main",
    "HISTORY_START",
    "HISTORY_END",
    "PRODUCT_CHANGE",
    "PLANS",
    "CHANNELS",
    "FEATURES",
    "GOALS",
    "FILE_NAMES",
    "SHIPPED_DIR",
    "shipped_files",
]

HISTORY_START = np.datetime64("2024-11-01", "D")
HISTORY_END = np.datetime64("2026-11-01", "D")  # exclusive: nothing is dated on or after it
PRODUCT_CHANGE = np.datetime64("2025-11-01", "D")  # the onboarding redesign that lifts later cohorts
N_MONTHS = 24
# first day of each month, with one extra month so that month m ends at _MONTH_START[m + 1]
_MONTH_START = np.arange("2024-11", "2028-01", dtype="datetime64[M]").astype("datetime64[D]")
_N_DAYS = (HISTORY_END - HISTORY_START).astype(int)  # 730

PLANS: tuple[str, ...] = ("Free", "Starter", "Team", "Business", "Enterprise")
_PLAN_PRICE = np.array([0.0, 49.0, 299.0, 1500.0, 6000.0])  # USD per month for the included seats
_PLAN_SEATS = np.array([3, 3, 10, 50, 200])  # seats included in the plan price
_SEAT_PRICE = np.array([0.0, 0.0, 25.0, 25.0, 20.0])  # USD per extra seat per month
_MAX_EXTRA = np.array([0, 0, 14, 60, 100_000])  # extra seats keep Team < $10k ARR, Business < $50k
ANNUAL_DISCOUNT = 0.85  # an annual plan is paid upfront: 12 months at 85% of the monthly price

CHANNELS: tuple[str, ...] = ("Organic", "Paid search", "Partners", "Outbound sales", "Events")
# target spend per new paying customer of the channel (Outbound sales spend is mostly SDR/AE salaries)
_CHANNEL_CAC = np.array([260.0, 480.0, 1900.0, 3100.0, 32000.0])

# Archetypes: how a customer behaves. Index into the _A_* arrays.
FREE, STARTER, TEAM_SELF, TEAM_SALES, BUSINESS, ENTERPRISE = range(6)
_A_SHARE = np.array([0.30, 0.30, 0.13, 0.13, 0.10, 0.04])
_A_PLAN = np.array([0, 1, 2, 2, 3, 4])
_A_CHANNEL_P = np.array([
    # Organic, Paid search, Partners, Outbound sales, Events
    [0.60, 0.35, 0.05, 0.00, 0.00],  # free tier that never converts
    [0.55, 0.45, 0.00, 0.00, 0.00],  # Starter, self-serve
    [0.45, 0.35, 0.20, 0.00, 0.00],  # Team, self-serve
    [0.00, 0.00, 0.00, 1.00, 0.00],  # Team, sales-led SMB
    [0.15, 0.00, 0.35, 0.35, 0.15],  # Business (mid-market)
    [0.00, 0.00, 0.00, 0.25, 0.75],  # Enterprise
])
_A_ANNUAL = np.array([0.0, 0.10, 0.20, 0.15, 0.40, 0.70])
# monthly churn hazard in the first 6 paying months and afterwards, before the product change
_A_HAZARD_EARLY = np.array([0.0, 0.10, 0.065, 0.075, 0.035, 0.020])
_A_HAZARD_LATE = np.array([0.0, 0.050, 0.025, 0.050, 0.015, 0.010])
_POST_CHANGE_EARLY = 0.35  # cohorts signed up after the product change churn far less early on
_POST_CHANGE_LATE = 0.75
_REACTIVATION_P = 0.10  # share of churns that come back 2-6 months later
_A_EVENTS = np.array([5.0, 9.0, 20.0, 16.0, 40.0, 80.0])  # events per active month at full intensity
_A_USERS = np.array([1.5, 2.0, 5.0, 5.0, 14.0, 40.0])  # mean active users
_A_TICKETS = np.array([0.04, 0.10, 0.25, 2.60, 0.30, 1.50])  # tickets per paying month
_A_MINUTES = np.array([10.0, 12.0, 16.0, 48.0, 18.0, 30.0])  # mean handle time, minutes
_POWER_SHARE = 0.20  # Business customers who are power users
_POWER_EVENTS = 4.0
_POWER_TICKETS = 8.0
_POWER_MINUTES = 1.7
# churners fade before they leave: event intensity in the 3rd, 2nd and last paid month before churn
_DECLINE = ((3, 0.55), (2, 0.25), (1, 0.04))

FEATURES: tuple[str, ...] = (
    "dashboard_view", "report_export", "chart_create", "csv_import", "share_link", "template_use",
    "comment_add", "alert_create", "scheduled_report", "goal_tracking", "forecast_view",
    "integration_connect", "user_invite", "custom_fields", "api_call", "sso_login",
    "workflow_automation", "data_warehouse_sync", "audit_log_view", "role_permissions",
)
_BASIC = {"dashboard_view": 30, "report_export": 16, "chart_create": 10, "csv_import": 8, "share_link": 7,
          "template_use": 6, "comment_add": 5, "alert_create": 4, "scheduled_report": 3, "goal_tracking": 3,
          "forecast_view": 2, "integration_connect": 2, "user_invite": 2, "custom_fields": 1, "api_call": 0.6,
          "sso_login": 0.2, "workflow_automation": 0.4, "data_warehouse_sync": 0.1, "audit_log_view": 0.1,
          "role_permissions": 0.1}
_ADVANCED = {"dashboard_view": 12, "report_export": 4, "chart_create": 3, "csv_import": 1, "share_link": 2,
             "template_use": 1, "comment_add": 3, "alert_create": 3, "scheduled_report": 5, "goal_tracking": 2,
             "forecast_view": 4, "integration_connect": 3, "user_invite": 2, "custom_fields": 6,
             "api_call": 22, "sso_login": 12, "workflow_automation": 11, "data_warehouse_sync": 5,
             "audit_log_view": 3, "role_permissions": 3}


def _probs(weights: dict[str, float]) -> np.ndarray:
    p = np.array([weights[f] for f in FEATURES], dtype=float)
    return p / p.sum()


_A_FEATURE_P = np.stack([_probs(_BASIC), _probs(_BASIC), _probs(_BASIC), _probs(_BASIC),
                         _probs(_ADVANCED), _probs(_ADVANCED)])

GOALS: tuple[str, ...] = ("Save time on reporting", "Replace spreadsheets", "Board-ready metrics",
                          "Team collaboration", "Compliance")
_A_GOAL_P = np.array([
    [0.35, 0.45, 0.05, 0.13, 0.02],
    [0.35, 0.45, 0.05, 0.13, 0.02],
    [0.30, 0.20, 0.10, 0.37, 0.03],
    [0.30, 0.25, 0.15, 0.27, 0.03],
    [0.25, 0.07, 0.30, 0.28, 0.10],
    [0.12, 0.03, 0.45, 0.15, 0.25],
])
_A_NPS = np.array([6.8, 7.2, 7.6, 6.0, 7.6, 8.2])  # mean score
_COMMENTS = {
    "promoter": ("Saves us hours every week.", "The board deck practically builds itself.",
                 "Great support team.", "API and SSO made rollout painless.", "Love the dashboards."),
    "passive": ("Does the job.", "Good, but exports could be faster.", "Pricing is a bit steep.",
                "Would like more chart types.", "Setup took a while."),
    "detractor": ("Too complicated for our team.", "We still do most of it in spreadsheets.",
                  "Support tickets take too long.", "Onboarding was painful.", "Not sure we use it enough."),
}
_CATEGORIES = ("Onboarding", "How-to", "Bug", "Billing", "Integration", "Data import", "Feature request")
_CATEGORY_P = {
    "default": np.array([0.12, 0.30, 0.20, 0.12, 0.08, 0.10, 0.08]),
    "sales_smb": np.array([0.30, 0.35, 0.10, 0.07, 0.05, 0.10, 0.03]),
    "power": np.array([0.05, 0.15, 0.30, 0.03, 0.30, 0.10, 0.07]),
}
_INDUSTRIES = ("Software", "Retail & e-commerce", "Financial services", "Healthcare", "Manufacturing",
               "Logistics", "Professional services", "Education", "Media", "Real estate")
_INDUSTRY_P = np.array([0.24, 0.13, 0.11, 0.09, 0.09, 0.07, 0.12, 0.05, 0.06, 0.04])
_COUNTRIES = ("United States", "United Kingdom", "Germany", "Canada", "France", "Netherlands", "Australia",
              "Sweden", "Spain", "India", "Ireland", "Brazil")
_COUNTRY_P = np.array([0.46, 0.12, 0.08, 0.07, 0.05, 0.04, 0.04, 0.03, 0.03, 0.03, 0.03, 0.02])
_NAME_A = ("Blue", "Copper", "North", "Silver", "Harbor", "Granite", "Maple", "Summit", "Bright", "Cedar",
           "Iron", "Clear", "Red", "Golden", "Pine", "River", "Stone", "Oak", "Swift", "Atlas", "Nova",
           "True", "Wild", "Lake", "Prime", "Open", "Green", "High", "West", "East")
_NAME_B = ("field", "bridge", "light", "wave", "point", "works", "path", "gate", "stack", "line", "leaf",
           "peak", "shore", "forge", "well", "craft", "view", "sight", "hive", "loop")
_NAME_C = ("Logistics", "Health", "Labs", "Analytics", "Retail", "Capital", "Foods", "Software", "Legal",
           "Energy", "Media", "Systems", "Partners", "Studio", "Robotics", "Supply", "Learning", "Group",
           "Homes", "Travel")
_NAME_SUFFIX = ("Inc.", "Ltd", "GmbH", "LLC", "Co.", "", "", "", "", "")
# event hours (UTC): business hours, a lunch dip, a little evening work
_HOUR_W = np.array([0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.5, 4, 7, 8, 8, 5.5, 7, 8, 7.5, 6, 4, 2.2, 1.4,
                    1.0, 0.8, 0.5, 0.3])
_HOUR_P = _HOUR_W / _HOUR_W.sum()

FILE_NAMES: dict[str, dict[str, str]] = {
    "csv": {"customers": "customers.csv", "revenue": "revenue.csv", "events": "events.csv.gz",
            "tickets": "tickets.csv", "spend": "spend.csv", "nps": "nps.csv"},
    "parquet": {t: f"{t}.parquet" for t in ("customers", "revenue", "events", "tickets", "spend", "nps")},
}

SHIPPED_DIR = Path(__file__).resolve().parent  # the default-size CSVs ship next to this module


def shipped_files() -> dict[str, Path]:
    """{table name: path} of the sample company's shipped CSV files (generate() with its defaults)."""
    return {table: SHIPPED_DIR / name for table, name in FILE_NAMES["csv"].items()}


_SCHEMAS: dict[str, pa.Schema] = {
    "customers": pa.schema([("customer_id", pa.string()), ("signup_date", pa.date32()), ("name", pa.string()),
                            ("plan", pa.string()), ("industry", pa.string()), ("employees", pa.int64()),
                            ("country", pa.string()), ("channel", pa.string()), ("seat_limit", pa.int64())]),
    "revenue": pa.schema([("customer_id", pa.string()), ("date", pa.date32()), ("amount", pa.float64()),
                          ("period_start", pa.date32()), ("period_end", pa.date32()), ("plan", pa.string()),
                          ("currency", pa.string())]),
    "events": pa.schema([("customer_id", pa.string()), ("timestamp", pa.timestamp("s")),
                         ("event", pa.string()), ("user_id", pa.string())]),
    "tickets": pa.schema([("customer_id", pa.string()), ("created_at", pa.timestamp("s")),
                          ("minutes", pa.float64()), ("category", pa.string()), ("csat", pa.float64())]),
    "spend": pa.schema([("month", pa.date32()), ("amount", pa.float64()), ("channel", pa.string())]),
    "nps": pa.schema([("customer_id", pa.string()), ("date", pa.date32()), ("score", pa.int64()),
                      ("comment", pa.string()), ("goal", pa.string())]),
}

_CHUNK = 50_000  # customers simulated at once; fixed so the output never depends on memory
_ROW_GROUP = 1_000_000


class SampleDataError(ValueError):
    """A generator argument is out of range."""


@dataclass(frozen=True)
class SampleParams:
    """Size and shape of the generated company.

    customers: number of customers (free and paying). events: target total event rows, or None for
    the natural volume (about 140 per customer). fmt: "csv" (events gzipped) or "parquet". seed:
    the only source of randomness.
    """

    customers: int = 3000
    events: int | None = None
    fmt: Literal["csv", "parquet"] = "csv"
    seed: int = 7

    def __post_init__(self) -> None:
        if self.customers < 1:
            raise SampleDataError(f"customers must be at least 1, got {self.customers}: pass --customers N >= 1.")
        if self.events is not None and self.events < 0:
            raise SampleDataError(f"events must be >= 0 or None, got {self.events}: pass --events M >= 0.")
        if self.fmt not in FILE_NAMES:
            raise SampleDataError(f"format {self.fmt!r} is unknown: use 'csv' or 'parquet'.")


# --------------------------------------------------------------------------------------------- sinks
class _Sink:
    """Appends pyarrow tables to one output file (CSV, gzipped CSV or Parquet)."""

    def __init__(self, path: Path, schema: pa.Schema, fmt: str) -> None:
        self.path, self.schema, self.fmt = path, schema, fmt
        self._first = True
        if fmt == "parquet":
            self._writer = pq.ParquetWriter(path, schema, compression="zstd")
        else:
            raw = open(path, "wb")
            # mtime=0 and no file name in the header: the same seed gives byte-identical files
            self._fh = (gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9)
                        if path.name.endswith(".gz") else raw)
            self._raw = raw

    def write(self, table: pa.Table) -> None:
        table = table.cast(self.schema)
        if self.fmt == "parquet":
            self._writer.write_table(table, row_group_size=_ROW_GROUP)
            return
        for start in range(0, max(table.num_rows, 1), _ROW_GROUP):
            part = table.slice(start, _ROW_GROUP)
            if part.num_rows == 0 and not self._first:
                return
            cols = {}
            for name, col in zip(part.column_names, part.columns):
                if pa.types.is_date(col.type):
                    cols[name] = pc.strftime(col.cast(pa.timestamp("s")), "%Y-%m-%d").to_numpy(zero_copy_only=False)
                elif pa.types.is_timestamp(col.type):
                    cols[name] = pc.strftime(col, "%Y-%m-%d %H:%M:%S").to_numpy(zero_copy_only=False)
                else:
                    cols[name] = col.to_pandas()
            text = pd.DataFrame(cols, columns=part.column_names).to_csv(index=False, header=self._first,
                                                                        lineterminator="\n")
            self._fh.write(text.encode("utf-8"))
            self._first = False

    def close(self) -> None:
        if self.fmt == "parquet":
            self._writer.close()
        else:
            if self._first:
                self.write(self.schema.empty_table())
            self._fh.close()
            if self._fh is not self._raw:
                self._raw.close()


# ------------------------------------------------------------------------------------------ helpers
def _rng(seed: int, stream: int, *keys: int) -> np.random.Generator:
    """An independent generator per (stream, chunk, month), so chunking never changes the output."""
    return np.random.default_rng([seed, stream, *keys])


def _month_of(days: np.ndarray) -> np.ndarray:
    """Month index (0 = 2024-11) of day offsets from HISTORY_START."""
    dates = HISTORY_START + days.astype("timedelta64[D]")
    return (dates.astype("datetime64[M]") - HISTORY_START.astype("datetime64[M]")).astype(int)


def _customer_ids(idx: np.ndarray, width: int) -> pa.Array:
    """Customer ids "C00001", ...: 1-based, zero-padded to a fixed width."""
    return pa.array(np.char.add("C", np.char.zfill((idx + 1).astype(str), width)).astype(object), pa.string())


def _weekday_weight(days: np.ndarray, weekend: float) -> np.ndarray:
    dow = ((HISTORY_START + days.astype("timedelta64[D]")).astype("datetime64[D]").view("int64") - 4) % 7
    return np.where(dow >= 5, weekend, 1.0)  # 1970-01-01 was a Thursday: dow 0 = Monday


def _times_in_month(rng: np.random.Generator, m: int, n: int, not_before: np.ndarray | None = None,
                    weekend: float = 0.18) -> np.ndarray:
    """n timestamps (seconds since epoch) in month m, weekday-heavy, in business hours.

    not_before: per-row day offset within the month (e.g. the signup day) before which no row falls.
    """
    start = _MONTH_START[m]
    n_days = int((_MONTH_START[m + 1] - start).astype(int))
    w = _weekday_weight((start - HISTORY_START).astype(int) + np.arange(n_days), weekend)
    day = rng.choice(n_days, size=n, p=w / w.sum())
    u = rng.random(n)
    if not_before is not None:
        early = day < not_before
        day = np.where(early, not_before + np.floor(u * (n_days - not_before)).astype(int), day)
    hour = rng.choice(24, size=n, p=_HOUR_P)
    sec = rng.integers(0, 3600, size=n)
    base = start.astype("datetime64[s]").astype("int64")
    return base + day * 86400 + hour * 3600 + sec


# ------------------------------------------------------------------------------- customer simulation
@dataclass(frozen=True)
class _Chunk:
    """What the event pass needs to know about a chunk of customers."""

    arch: np.ndarray  # int8
    users: np.ndarray  # int32, number of users
    signup_day: np.ndarray  # int32, day offset from HISTORY_START
    intensity: np.ndarray  # float32 (n, 24): expected events per month
    new_paying: np.ndarray  # (channels, months) new paying customers
    tables: dict[str, pa.Table]


def _simulate_chunk(seed: int, chunk: int, start: int, n: int, width: int) -> _Chunk:
    rng = _rng(seed, 1, chunk)
    idx = np.arange(start, start + n)
    arch = rng.choice(6, size=n, p=_A_SHARE).astype(np.int8)
    u = rng.random(n)
    channel = (u[:, None] > np.cumsum(_A_CHANNEL_P[arch], axis=1)).sum(axis=1)
    channel = np.minimum(channel, len(CHANNELS) - 1)
    sales_led = np.isin(channel, (3, 4)) | ((arch == BUSINESS) & (channel == 2))

    # signups grow over time and land on weekdays (sales-led deals almost never on weekends)
    all_days = np.arange(_N_DAYS)
    growth = 1.0 + 1.3 * all_days / _N_DAYS
    w_self = growth * _weekday_weight(all_days, 0.45)
    w_sales = growth * _weekday_weight(all_days, 0.03)
    signup_day = np.where(sales_led, rng.choice(_N_DAYS, size=n, p=w_sales / w_sales.sum()),
                          rng.choice(_N_DAYS, size=n, p=w_self / w_self.sum()))
    signup_month = _month_of(signup_day)
    post_change = (HISTORY_START + signup_day.astype("timedelta64[D]")) >= PRODUCT_CHANGE

    # trials: self-serve customers pay after a 14-day trial, sales-led ones on the contract date;
    # billing is on the same day of every month (moved to the 1st of the next month after the 28th)
    trial = np.where(sales_led, 0, 14)
    pay_date = HISTORY_START + (signup_day + trial).astype("timedelta64[D]")
    dom = (pay_date - pay_date.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    pay_date = np.where(dom > 28, (pay_date.astype("datetime64[M]") + 1).astype("datetime64[D]"), pay_date)
    bill_day = np.where(dom > 28, 1, dom)
    first_month = (pay_date.astype("datetime64[M]") - HISTORY_START.astype("datetime64[M]")).astype(int)
    payer = (arch != FREE) & (first_month < N_MONTHS)
    first_month = np.where(payer, first_month, -1)

    annual = payer & (rng.random(n) < _A_ANNUAL[arch])
    plan = _A_PLAN[arch].copy()
    extra = np.select([plan == 2, plan == 3, plan == 4],
                      [rng.integers(0, 5, n), rng.integers(0, 21, n), rng.integers(0, 101, n)], 0)
    power = (arch == BUSINESS) & (rng.random(n) < _POWER_SHARE)

    # ---- monthly lifecycle, vectorised over customers
    active = np.zeros(n, bool)
    tenure = np.zeros(n, int)
    react_at = np.full(n, -1)
    paid = np.zeros((n, N_MONTHS), bool)
    inv_c, inv_m, inv_amt, inv_annual, inv_plan = [], [], [], [], []
    for m in range(N_MONTHS):
        rm = _rng(seed, 2, chunk, m)
        starting = first_month == m
        back = react_at == m
        react_at[back] = -1
        tenure[starting | back] = 0
        active |= starting | back
        cont = active & ~starting & ~back
        early = tenure <= 6
        h = np.where(early, _A_HAZARD_EARLY[arch], _A_HAZARD_LATE[arch])
        h = h * np.where(post_change, np.where(early, _POST_CHANGE_EARLY, _POST_CHANGE_LATE), 1.0)
        renewal = annual & (tenure % 12 == 0)
        # an annual customer decides once a year, a little stickier than twelve monthly decisions
        h_annual = 1.0 - (1.0 - 0.8 * _A_HAZARD_LATE[arch]) ** 12
        p_churn = np.where(annual, np.where(renewal, h_annual, 0.0), h)
        churn = cont & (rm.random(n) < p_churn)
        active &= ~churn
        comes_back = churn & (rm.random(n) < _REACTIVATION_P)
        react_at[comes_back] = m + rm.integers(2, 7, comes_back.sum())

        # seat expansion and contraction: any month on monthly plans, at renewal on annual plans
        can_change = cont & ~churn & (~annual | renewal) & (plan >= 2)
        p_up = np.where(annual, 0.30, 0.04)
        p_down = np.where(annual, 0.10, 0.02)
        r = rm.random(n)
        up = can_change & (r < p_up)
        down = can_change & (r >= p_up) & (r < p_up + p_down)
        extra = np.where(up, extra + rm.integers(1, 6, n) * np.where(plan == 4, 5, 1), extra)
        extra = np.where(down, np.maximum(extra - rm.integers(1, 4, n), 0), extra)
        extra = np.minimum(extra, _MAX_EXTRA[plan])
        # a few Starter customers upgrade to Team
        upgrade = cont & ~churn & ~annual & (plan == 1) & (rm.random(n) < 0.006)
        plan = np.where(upgrade, 2, plan)

        invoiced = active & (~annual | (tenure % 12 == 0))
        price = _PLAN_PRICE[plan] + extra * _SEAT_PRICE[plan]
        amount = np.where(annual, np.round(12 * price * ANNUAL_DISCOUNT, 2), price)
        c = np.flatnonzero(invoiced)
        inv_c.append(c)
        inv_m.append(np.full(c.size, m))
        inv_amt.append(amount[c])
        inv_annual.append(annual[c])
        inv_plan.append(plan[c])
        paid[:, m] = active
        tenure[active] += 1
    ever_paid = paid.any(axis=1)
    current_plan = np.where(ever_paid, plan, 0)

    # ---- revenue (invoices and a few partial refunds)
    ic, im = np.concatenate(inv_c), np.concatenate(inv_m)
    iamt, iann, iplan = np.concatenate(inv_amt), np.concatenate(inv_annual), np.concatenate(inv_plan)
    idate = _MONTH_START[im] + (bill_day[ic] - 1).astype("timedelta64[D]")
    iend = _MONTH_START[im + np.where(iann, 12, 1)] + (bill_day[ic] - 1).astype("timedelta64[D]")
    rr = _rng(seed, 3, chunk)
    refund = (~iann) & (rr.random(ic.size) < 0.012)
    rdate = idate + rr.integers(2, 15, ic.size).astype("timedelta64[D]")
    refund &= rdate < HISTORY_END
    ramt = -np.round(iamt * rr.uniform(0.1, 0.5, ic.size), 2)
    rc = np.concatenate([ic, ic[refund]])
    rev = {
        "customer_id": rc,
        "date": np.concatenate([idate, rdate[refund]]),
        "amount": np.concatenate([iamt, ramt[refund]]),
        "period_start": np.concatenate([idate, idate[refund]]),
        "period_end": np.concatenate([iend, iend[refund]]),
        "plan": np.concatenate([iplan, iplan[refund]]),
    }
    order = np.lexsort((rev["amount"] < 0, rc, rev["date"]))
    ids = _customer_ids(idx, width)
    plan_names = pa.array(PLANS)
    revenue = pa.table({
        "customer_id": ids.take(pa.array(rc[order])),
        "date": pa.array(rev["date"][order]),
        "amount": pa.array(rev["amount"][order]),
        "period_start": pa.array(rev["period_start"][order]),
        "period_end": pa.array(rev["period_end"][order]),
        "plan": plan_names.take(pa.array(rev["plan"][order])),
        "currency": pa.array(np.full(order.size, "USD", dtype=object), pa.string()),
    })

    # ---- activity intensity: paying months, the trial, the free tier; churners fade out first
    mult = rng.lognormal(0.0, 0.45, n) * np.where(power, _POWER_EVENTS, 1.0)
    months = np.arange(N_MONTHS)
    intensity = np.where(paid, _A_EVENTS[arch][:, None] * mult[:, None], 0.0)
    after_first = months[None, :] == first_month[:, None]
    intensity = np.where(after_first, intensity * 0.7, intensity)  # ramping up in the first month
    churn_at = np.zeros_like(paid)
    churn_at[:, 1:] = paid[:, :-1] & ~paid[:, 1:]
    factor = np.ones((n, N_MONTHS))
    for lag, f in _DECLINE:
        factor[:, :-lag] = np.where(churn_at[:, lag:], factor[:, :-lag] * f, factor[:, :-lag])
    intensity *= factor
    # trial month(s): signup month until the first invoice
    in_trial = (months[None, :] >= signup_month[:, None]) & (
        (months[None, :] < first_month[:, None]) | ((first_month[:, None] < 0) & (arch[:, None] != FREE))
    ) & (months[None, :] <= signup_month[:, None] + 1)
    intensity = np.where(in_trial & ~paid, _A_EVENTS[arch][:, None] * mult[:, None] * 0.5, intensity)
    # the free tier drifts away: usage decays over a few months
    free_life = rng.geometric(0.30, n)
    k = months[None, :] - signup_month[:, None]
    free_on = (arch[:, None] == FREE) & (k >= 0) & (k < free_life[:, None])
    intensity = np.where(free_on, _A_EVENTS[FREE] * mult[:, None] * 0.8 ** np.maximum(k, 0), intensity)
    # the signup month is partly over at signup
    n_days_m = (_MONTH_START[1:N_MONTHS + 1] - _MONTH_START[:N_MONTHS]).astype(int)
    signup_dom = signup_day - (_MONTH_START[signup_month] - HISTORY_START).astype(int)
    frac = 1.0 - signup_dom / n_days_m[signup_month]
    intensity = np.where(k == 0, intensity * frac[:, None], intensity)
    intensity = intensity.astype(np.float32)

    # ---- support tickets while paying (sales-led SMB need hand-holding; Business power users push limits)
    rate = _A_TICKETS[arch] * np.where(power, _POWER_TICKETS, 1.0)
    onboarding = ((months[None, :] - first_month[:, None]) < 2) & sales_led[:, None]
    lam = np.where(paid, rate[:, None] * np.where(onboarding, 1.8, 1.0), 0.0)
    lam = np.where(in_trial & ~paid, 0.05, lam)
    rt = _rng(seed, 4, chunk)
    counts = rt.poisson(lam)
    tc, tm = np.nonzero(counts)
    reps = counts[tc, tm]
    tc, tm = np.repeat(tc, reps), np.repeat(tm, reps)
    t_not_before = np.where(tm == signup_month[tc], signup_dom[tc], 0)
    t_ts = np.empty(tc.size, dtype=np.int64)
    for m in np.unique(tm):
        sel = tm == m
        t_ts[sel] = _times_in_month(rt, int(m), int(sel.sum()), t_not_before[sel], weekend=0.05)
    mean_min = _A_MINUTES[arch[tc]] * np.where(power[tc], _POWER_MINUTES, 1.0)
    minutes = np.round(rt.lognormal(np.log(mean_min) - 0.32, 0.8), 1)  # lognormal mean = mean_min
    minutes = np.maximum(minutes, 1.0)
    cat_group = np.where(power[tc], 2, np.where(arch[tc] == TEAM_SALES, 1, 0))
    cat_p = np.stack([_CATEGORY_P["default"], _CATEGORY_P["sales_smb"], _CATEGORY_P["power"]])
    ucat = rt.random(tc.size)
    cat = np.minimum((ucat[:, None] > np.cumsum(cat_p[cat_group], axis=1)).sum(axis=1), len(_CATEGORIES) - 1)
    csat = np.clip(np.round(rt.normal(4.3 - 0.012 * minutes, 0.8)), 1, 5)
    csat = np.where(rt.random(tc.size) < 0.38, np.nan, csat)  # many tickets get no rating
    order = np.lexsort((tc, t_ts))
    tickets = pa.table({
        "customer_id": ids.take(pa.array(tc[order])),
        "created_at": pa.array(t_ts[order].astype("datetime64[s]")),
        "minutes": pa.array(minutes[order]),
        "category": pa.array(_CATEGORIES).take(pa.array(cat[order])),
        "csat": pa.array(csat[order], from_pandas=True),
    })

    # ---- NPS: surveyed 3 months after signup and every 6 months after, about a third answer
    rn = _rng(seed, 5, chunk)
    reachable = (paid | free_on) & (k >= 3) & ((k - 3) % 6 == 0)
    answers = reachable & (rn.random((n, N_MONTHS)) < 0.33)
    nc, nm = np.nonzero(answers)
    fading = factor[nc, nm] < 1.0
    mean = _A_NPS[arch[nc]] + np.where(post_change[nc], 0.6, 0.0) - np.where(fading, 2.5, 0.0)
    score = np.clip(np.round(rn.normal(mean, 1.7)), 0, 10).astype(np.int64)
    n_date = np.empty(nc.size, dtype="datetime64[D]")
    for m in np.unique(nm):
        sel = nm == m
        n_date[sel] = _times_in_month(rn, int(m), int(sel.sum())).astype("datetime64[s]").astype("datetime64[D]")
    band = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    pick = rn.integers(0, 5, nc.size)
    comment = np.array([_COMMENTS[b][p] for b, p in zip(band, pick)], dtype=object)
    comment = np.where(rn.random(nc.size) < 0.45, None, comment)
    ug = rn.random(nc.size)
    goal = np.minimum((ug[:, None] > np.cumsum(_A_GOAL_P[arch[nc]], axis=1)).sum(axis=1), len(GOALS) - 1)
    order = np.lexsort((nc, n_date))
    nps = pa.table({
        "customer_id": ids.take(pa.array(nc[order])),
        "date": pa.array(n_date[order]),
        "score": pa.array(score[order]),
        "comment": pa.array(comment[order], pa.string()),
        "goal": pa.array(GOALS).take(pa.array(goal[order])),
    })

    # ---- customers
    a = rng.integers(0, len(_NAME_A), n)
    b = rng.integers(0, len(_NAME_B), n)
    c3 = rng.integers(0, len(_NAME_C), n)
    s = rng.integers(0, len(_NAME_SUFFIX), n)
    names = [f"{_NAME_A[i]}{_NAME_B[j]} {_NAME_C[q]} {_NAME_SUFFIX[x]}".strip()
             for i, j, q, x in zip(a, b, c3, s)]
    emp_median = np.array([8, 12, 45, 60, 300, 3000])[arch]
    employees = np.maximum(1, np.round(rng.lognormal(np.log(emp_median), 0.7))).astype(np.int64)
    seat_limit = _PLAN_SEATS[current_plan] + np.where(ever_paid, extra, 0)
    signup_date = HISTORY_START + signup_day.astype("timedelta64[D]")
    customers = pa.table({
        "customer_id": ids,
        "signup_date": pa.array(signup_date),
        "name": pa.array(names, pa.string()),
        "plan": plan_names.take(pa.array(current_plan)),
        "industry": pa.array(_INDUSTRIES).take(pa.array(rng.choice(len(_INDUSTRIES), n, p=_INDUSTRY_P))),
        "employees": pa.array(employees),
        "country": pa.array(_COUNTRIES).take(pa.array(rng.choice(len(_COUNTRIES), n, p=_COUNTRY_P))),
        "channel": pa.array(CHANNELS).take(pa.array(channel)),
        "seat_limit": pa.array(seat_limit.astype(np.int64)),
    })

    new_paying = np.zeros((len(CHANNELS), N_MONTHS), dtype=np.int64)
    np.add.at(new_paying, (channel[ever_paid], first_month[ever_paid]), 1)
    users = np.maximum(1, rng.poisson(_A_USERS[arch] * np.where(power, 1.5, 1.0))).astype(np.int32)
    return _Chunk(arch=arch, users=users, signup_day=signup_day.astype(np.int32), intensity=intensity,
                  new_paying=new_paying,
                  tables={"customers": customers, "revenue": revenue, "tickets": tickets, "nps": nps})


def _spend(seed: int, new_paying: np.ndarray) -> pa.Table:
    """Spend per month and channel: about the channel's target CAC per new paying customer.

    A month without new customers of a channel still has some spend (salaries, retainers); by the
    CAC definition it pools into the following months.
    """
    rng = _rng(seed, 6)
    noise = rng.lognormal(0.0, 0.12, new_paying.shape)
    base = np.where(new_paying > 0, new_paying, 0.5)
    amount = np.round(_CHANNEL_CAC[:, None] * base * noise, 0)
    ch, m = np.meshgrid(np.arange(len(CHANNELS)), np.arange(N_MONTHS), indexing="ij")
    order = np.lexsort((ch.ravel(), m.ravel()))
    return pa.table({
        "month": pa.array(_MONTH_START[m.ravel()[order]]),
        "amount": pa.array(amount.ravel()[order]),
        "channel": pa.array(CHANNELS).take(pa.array(ch.ravel()[order])),
    })


def _write_events(sink: _Sink, seed: int, arch: np.ndarray, users: np.ndarray, signup_day: np.ndarray,
                  intensity: np.ndarray, scale: float, width: int) -> int:
    """Events month by month across all customers, sorted by timestamp: the file is in time order."""
    n = arch.size
    ids_all = None if n > 2_000_000 else _customer_ids(np.arange(n), width)
    signup_month = _month_of(signup_day)
    signup_dom = signup_day - (_MONTH_START[signup_month] - HISTORY_START).astype(int)
    max_users = int(users.max()) if n else 1
    user_suffix = pa.array([f"u{i}" for i in range(1, max_users + 1)])
    features = pa.array(FEATURES)
    total = 0
    for m in range(N_MONTHS):
        parts_c, parts_t, parts_f, parts_u = [], [], [], []
        for chunk, start in enumerate(range(0, n, _CHUNK)):
            stop = min(start + _CHUNK, n)
            rng = _rng(seed, 7, m, chunk)
            counts = rng.poisson(intensity[start:stop, m].astype(np.float64) * scale)
            c = np.repeat(np.arange(start, stop), counts)
            if c.size == 0:
                continue
            not_before = np.where(signup_month[c] == m, signup_dom[c], 0)
            ts = _times_in_month(rng, m, c.size, not_before)
            feat = np.empty(c.size, dtype=np.int8)
            a = arch[c]
            for arch_id in range(_A_FEATURE_P.shape[0]):
                sel = a == arch_id
                feat[sel] = rng.choice(len(FEATURES), size=int(sel.sum()), p=_A_FEATURE_P[arch_id])
            # a few users do most of the clicking
            user = np.floor(users[c] * rng.random(c.size) ** 2).astype(np.int32)
            parts_c.append(c)
            parts_t.append(ts)
            parts_f.append(feat)
            parts_u.append(user)
        if not parts_c:
            continue
        c, ts = np.concatenate(parts_c), np.concatenate(parts_t)
        feat, user = np.concatenate(parts_f), np.concatenate(parts_u)
        order = np.lexsort((c, ts))
        for lo in range(0, order.size, _ROW_GROUP):
            o = order[lo:lo + _ROW_GROUP]
            cid = ids_all.take(pa.array(c[o])) if ids_all is not None else _customer_ids(c[o], width)
            table = pa.table({
                "customer_id": cid,
                "timestamp": pa.array(ts[o].astype("datetime64[s]")),
                "event": features.take(pa.array(feat[o])),
                "user_id": pc.binary_join_element_wise(cid, user_suffix.take(pa.array(user[o])), "-"),
            })
            sink.write(table)
        total += order.size
    return total


def generate(out_dir: str | Path, customers: int = 3000, events: int | None = None,
             fmt: Literal["csv", "parquet"] = "csv", seed: int = 7) -> dict[str, Path]:
    """Write the sample company's six tables into out_dir and return {table name: path}.

    Tables and columns (the contract names of ingest/contract.py):
    customers (customer_id, signup_date, name, plan, industry, employees, country, channel, seat_limit),
    revenue (customer_id, date, amount, period_start, period_end, plan, currency; one row per invoice,
    period_end exclusive, annual invoices cover 12 months, refunds are negative lines),
    events (customer_id, timestamp, event, user_id; in time order), tickets (customer_id, created_at,
    minutes, category, csat), spend (month, amount, channel), nps (customer_id, date, score, comment,
    goal). The planted truths are described in sample_data/README.md.
    """
    params = SampleParams(customers=customers, events=events, fmt=fmt, seed=seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = FILE_NAMES[params.fmt]
    paths = {t: out / names[t] for t in names}
    width = max(5, len(str(params.customers)))
    sinks = {t: _Sink(paths[t], _SCHEMAS[t], params.fmt) for t in ("customers", "revenue", "tickets", "nps")}
    n = params.customers
    arch = np.empty(n, np.int8)
    users = np.empty(n, np.int32)
    signup_day = np.empty(n, np.int32)
    intensity = np.empty((n, N_MONTHS), np.float32)
    new_paying = np.zeros((len(CHANNELS), N_MONTHS), np.int64)
    try:
        for chunk, start in enumerate(range(0, n, _CHUNK)):
            size = min(_CHUNK, n - start)
            part = _simulate_chunk(params.seed, chunk, start, size, width)
            arch[start:start + size] = part.arch
            users[start:start + size] = part.users
            signup_day[start:start + size] = part.signup_day
            intensity[start:start + size] = part.intensity
            new_paying += part.new_paying
            for t, table in part.tables.items():
                sinks[t].write(table)
    finally:
        for s in sinks.values():
            s.close()
    spend_sink = _Sink(paths["spend"], _SCHEMAS["spend"], params.fmt)
    spend_sink.write(_spend(params.seed, new_paying))
    spend_sink.close()
    natural = float(intensity.sum(dtype=np.float64))
    scale = 1.0 if params.events is None or natural == 0 else params.events / natural
    events_sink = _Sink(paths["events"], _SCHEMAS["events"], params.fmt)
    try:
        _write_events(events_sink, params.seed, arch, users, signup_day, intensity, scale, width)
    finally:
        events_sink.close()
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command line: python -m sample_data.generate --out DIR [--customers N] [--events M] ..."""
    parser = argparse.ArgumentParser(prog="python -m sample_data.generate", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory (created if missing)")
    parser.add_argument("--customers", type=int, default=3000, help="number of customers (default 3000)")
    parser.add_argument("--events", type=int, default=None,
                        help="target number of event rows (default: natural volume, ~140 per customer)")
    parser.add_argument("--format", dest="fmt", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    paths = generate(args.out, customers=args.customers, events=args.events, fmt=args.fmt, seed=args.seed)
    for table, path in paths.items():
        print(f"{table:10s} {path}  ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
