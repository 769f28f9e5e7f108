"""Unit economics by segment: what each segment is worth (LTV), costs to win (CAC) and to serve, and whether it pays.

Every formula is DEFINITIONS.md "Value" and "Segments over time":

- customers, MRR, ARPA use the segment at D; MRR is the ledger value of the last complete month L
  (the month of D - 1 when D is the first of a month, DEFINITIONS.md "Months").
- churn, revenue churn, NRR, GRR and expansion put each customer in the segment it had at the start of
  each month measured (`segment_history`), so an Enterprise customer that decays and then churns counts
  as Enterprise churn only if it was Enterprise at the start of its churn month.
- CAC uses the segment at acquisition (`acquisition.segment`). Onboarding is a cost of the value tier at
  acquisition (`acquisition.value_tier`): each customer's own cost, averaged over the segment's customers
  at D like the other costs of their net LTV (an SMB customer acquired as Self-serve cost what Self-serve
  costs to onboard).

The ledger is taken as a pandas frame (the app's per-customer inputs are small) and the monthly scan
over it runs as the ibis expression of `economics.mrr.customer_months` on an in-memory table, joined with
the segment history, so the same rules produce MRR movements and segment churn.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from economics.assumptions import Assumptions
from economics.costs import observed_months
from economics.ledger import (LedgerError, add_months, as_date, check_ledger_frame, churn_window,
                              first_churn_month, last_complete_month, months_between)
from economics.mrr import RevenueModel, customer_months
from segmentation.features import drop_memtables
from segmentation.schemes import UNATTRIBUTED

__all__ = ["EconomicsInputs", "SegmentEconomics", "EconomicsBase", "segment_economics", "economics_base",
           "window_status", "attribute_cac", "wilson_interval",
           "verdict", "shown_ltv_cac", "shown_payback", "waterfall", "encode_ids", "ledger_customers",
           "CODED_FRAMES", "ALL_CUSTOMERS", "UNATTRIBUTED", "ECONOMICS_COLUMNS"]

ALL_CUSTOMERS = "All customers"
UNLABELLED = "Unknown"

ECONOMICS_COLUMNS: tuple[str, ...] = (
    "segment", "customers", "paying_customers", "share", "mrr", "mrr_share", "arpa", "logo_churn",
    "logo_churn_low", "logo_churn_high", "churn_events", "churn_exposure", "gross_revenue_churn",
    "net_revenue_churn", "nrr", "grr", "expansion_rate", "gross_margin", "lifetime_months", "ltv",
    "ltv_capped", "net_ltv", "net_ltv_low", "net_ltv_high", "small_sample", "cac", "blended_cac",
    "new_customers", "unattributed_new_customers", "net_ltv_cac", "payback_months", "onboarding_cost",
    "support_cost_pcm", "infra_cost_pcm", "support_share_of_revenue", "tickets_pcm", "contribution_pcm",
    "verdict", "verdict_rule", "note",
)


@dataclass(frozen=True, eq=False)
class EconomicsInputs:
    """Plain pandas inputs of segment_economics (built by the caller from the workspace).

    ledger: customer_id, month, revenue_cents, mrr_cents, refund_cents (contract ledger, integer cents).
    segment_at_d: customer_id, segment (label at D; customers counted in the table).
    segment_history: customer_id, month, segment (label at the start of each month).
    acquisition: customer_id, first_paid_month, channel, segment (at acquisition), value_tier (at
        acquisition; keys the onboarding cost).
    usage: customer_id, tickets, support_minutes, support_cost, events, seats over the usage window of
        `window_months` complete months (see economics.costs.customer_usage); missing columns count as 0.
    spend: month, amount, channel, segment (contract spend) or None.
    revenue: the contract revenue rows (customer_id, date, amount_cents); needed only for the
        transactional model (dates purchases for the inactivity rule).
    cac: optional, CAC per new customer of the churn window with its segment at acquisition (attribute_cac's
        columns and `segment`), computed by the caller for the window `cac_window` (first, last month); used
        only when that is the window segment_economics measures, else computed from `acquisition`.
    customer_codes: optional, the integer codes of the customer_id column of segment_at_d, segment_history,
        acquisition and usage (keys CODED_FRAMES), row for row, in one code space in which the ledger's
        customers in order of first appearance have codes 0, 1, ... (as `encode_ids(ledger ids, ...)` gives
        them); from a caller that builds inputs for many schemes over the same customers, so that the ids
        are hashed once, not once per scheme. Without it segment_economics encodes the ids itself.
    """

    ledger: pd.DataFrame
    segment_at_d: pd.DataFrame
    segment_history: pd.DataFrame
    acquisition: pd.DataFrame
    usage: pd.DataFrame
    window_months: int
    spend: pd.DataFrame | None
    as_of: date
    revenue_model: RevenueModel = "subscription"
    revenue: pd.DataFrame | None = None
    cac: pd.DataFrame | None = None
    cac_window: tuple[date, date] | None = None
    customer_codes: Mapping[str, np.ndarray] | None = None


CODED_FRAMES: tuple[str, ...] = ("segment_at_d", "segment_history", "acquisition", "usage")


@dataclass(frozen=True, eq=False)
class SegmentEconomics:
    """The result: `.table` one row per segment (ECONOMICS_COLUMNS), `.blended` one row for all customers,
    `.window` (first, last) complete month pooled for churn, `.assumptions` used."""

    table: pd.DataFrame
    blended: pd.DataFrame
    window: tuple[pd.Timestamp | None, pd.Timestamp | None]
    assumptions: Assumptions
    cac_by_customer: pd.DataFrame = field(default_factory=pd.DataFrame)


def wilson_interval(events: float, n: float, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (95% by default) for a proportion events / n; (nan, nan) when n = 0."""
    if not n:
        return math.nan, math.nan
    p = events / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def _month_ts(values: pd.Series) -> pd.Series:
    """Each date's month start, datetime64[us] (missing stays NaT); numpy's month unit truncates."""
    months = pd.to_datetime(values).to_numpy().astype("datetime64[M]").astype("datetime64[us]")
    return pd.Series(months, index=values.index, name=values.name)


def attribute_cac(acquisition: pd.DataFrame, spend: pd.DataFrame | None, first_month: date,
                  last_month: date, pool_months: int = 3) -> pd.DataFrame:
    """Spend attributed to each customer acquired from `first_month` to `last_month` (DEFINITIONS.md CAC).

    A spend row with a `segment` goes to that value-tier segment's new customers of its month; else a row
    with a `channel` goes to that channel's new customers of the month; else to all new customers of the
    month. The amount is divided equally over those customers. A month with spend and no matching new
    customers pools into the following months within a trailing `pool_months` window (the month itself and
    the next two); spend still unmatched then is left unattributed. Customers without a channel cannot
    receive channel spend: when spend is by channel they are "Unattributed" (cac NaN), never given the
    blended CAC.

    Returns customer_id, first_paid_month, attributed (bool), cac (dollars; NaN when unattributed).
    Spend from up to `pool_months - 1` months before `first_month` may pool into the window.
    """
    acq = acquisition.copy()
    acq["first_paid_month"] = _month_ts(acq["first_paid_month"])
    lo, hi = pd.Timestamp(first_month), pd.Timestamp(last_month)
    in_window = (acq["first_paid_month"] >= lo) & (acq["first_paid_month"] <= hi)
    if spend is None or len(spend) == 0:
        out = acq[in_window].assign(attributed=False, cac=math.nan)
        return out[["customer_id", "first_paid_month", "attributed", "cac"]].reset_index(drop=True)
    # Every customer acquired up to the window's end takes part, so spend of a month before the window
    # goes to that month's customers instead of pooling into the window.
    new = acq[acq["first_paid_month"] <= hi].copy()
    sp = spend.copy()
    sp["month"] = _month_ts(sp["month"])
    sp = sp[sp["month"] <= hi]
    seg = sp["segment"] if "segment" in sp.columns else pd.Series(pd.NA, index=sp.index, dtype="object")
    chan = sp["channel"] if "channel" in sp.columns else pd.Series(pd.NA, index=sp.index, dtype="object")
    seg = seg.astype("object").where(seg.notna() & (seg.astype("object") != ""), None)
    chan = chan.astype("object").where(chan.notna() & (chan.astype("object") != ""), None)
    sp["kind"] = np.where(seg.notna(), "segment", np.where(chan.notna(), "channel", "all"))
    sp["key"] = seg.fillna(chan).fillna("")
    channel_of = (new["channel"].astype("object") if "channel" in new.columns
                  else pd.Series(None, index=new.index, dtype="object"))
    channel_of = channel_of.where(channel_of.notna() & (channel_of != ""), None)
    tier_of = (new["value_tier"].astype("object") if "value_tier" in new.columns
               else pd.Series(None, index=new.index, dtype="object"))
    allocated = pd.Series(0.0, index=new.index)
    start = sp["month"].min() if len(sp) else lo
    calendar = pd.date_range(min(start, lo), hi, freq="MS")
    for (kind, key), rows in sp.groupby(["kind", "key"], sort=True):
        if kind == "segment":
            members = tier_of == key
        elif kind == "channel":
            members = channel_of == key
        else:
            members = pd.Series(True, index=new.index)
        members = members.fillna(False).astype(bool)
        by_month = rows.groupby("month")["amount"].sum()
        new_by_month = new.loc[members, "first_paid_month"].value_counts()
        per_customer: dict[pd.Timestamp, float] = {}
        pools: list[tuple[pd.Timestamp, float]] = []  # (month spent, amount not yet attributed)
        for month in calendar:
            # Spend pools for a trailing window: the month itself and the next pool_months - 1.
            pools = [(m, v) for m, v in pools if months_between(m.date(), month.date()) < pool_months]
            if month in by_month.index:
                pools.append((month, float(by_month[month])))
            n = int(new_by_month.get(month, 0))
            if n:
                per_customer[month] = sum(v for _, v in pools) / n
                pools = []
        if per_customer:
            share = new.loc[members, "first_paid_month"].map(pd.Series(per_customer, dtype="float64"))
            allocated = allocated.add(share.fillna(0.0), fill_value=0.0)
    # With spend by channel, a customer without a channel is "Unattributed", never given a blended CAC.
    unattributed = channel_of.isna() & bool((sp["kind"] == "channel").any())
    new["cac"] = allocated.where(~unattributed, math.nan)
    new["attributed"] = ~unattributed
    new = new[(new["first_paid_month"] >= lo)]
    return new[["customer_id", "first_paid_month", "attributed", "cac"]].reset_index(drop=True)


def _shown(value: float, thresholds: tuple[float, ...], digits: int) -> str:
    """A number for a rule text, with more digits when rounding would make it look equal to a threshold."""
    if math.isnan(value):
        return "n/a"
    if not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    text = f"{value:.{digits}f}"
    while digits < 6 and any(float(text) == t and value != t for t in thresholds):
        digits += 2
        text = f"{value:.{digits}f}"
    return text


def shown_ltv_cac(value: float, a: Assumptions) -> str:
    """Net LTV : CAC as the verdict rule prints it: rounded to 2 decimals, with more when rounding would make
    it read as a threshold (2.9975, not 3.00, beside "< 3"). Whatever shows the ratio beside the rule (a
    verdict card, the board pack's table) prints these digits, so one number reads one way."""
    return _shown(value, (a.healthy_ltv_cac, a.draining_ltv_cac), 2)


def shown_payback(value: float, a: Assumptions) -> str:
    """CAC payback in months as the verdict rule prints it: 1 decimal, more near the healthy threshold;
    "never" when contribution never pays CAC back (inf)."""
    return _shown(value, (a.healthy_payback_months,), 1) if not math.isinf(value) else "never"


def verdict(net_ltv_cac: float, payback_months: float, contribution_pcm: float, has_spend: bool,
            a: Assumptions, net_ltv: float = math.nan, symbol: str = "") -> tuple[str, str]:
    """("healthy" | "marginal" | "margin-draining" | "n/a", the rule in words with the numbers).

    DEFINITIONS.md "Verdict": healthy when net LTV : CAC >= healthy_ltv_cac and payback <=
    healthy_payback_months; margin-draining when net LTV : CAC < draining_ltv_cac or contribution per
    customer-month < 0; marginal otherwise. Without spend data (or without new customers to measure CAC)
    the verdict rests on contribution alone: margin-draining when it is negative, else healthy, and the
    rule says what was not tested. One exception follows from the rule itself: a negative net LTV
    (onboarding costs more than a lifetime of contribution) makes net LTV : CAC < 0 whatever CAC is, so
    the segment is margin-draining without spend data too. A segment with no paying customers
    (contribution NaN) gets "n/a". Amounts in the rule carry `symbol`, the data's currency symbol ("" when
    the data states no currency: the rule claims none).
    """
    money = f"{'-' if contribution_pcm < 0 else ''}{symbol}{abs(contribution_pcm):,.2f}"
    if math.isnan(contribution_pcm):
        return "n/a", "no paying customers: nothing to measure"
    if contribution_pcm < 0:
        return "margin-draining", f"contribution per customer-month {money} < 0"
    if (not has_spend or math.isnan(net_ltv_cac)) and net_ltv < 0:
        return "margin-draining", (f"net LTV -{symbol}{-net_ltv:,.0f} < 0: onboarding costs "
                                   f"more than a lifetime of contribution, so net LTV : CAC < "
                                   f"{a.draining_ltv_cac:g} whatever CAC is")
    if not has_spend or math.isnan(net_ltv_cac):
        # Why CAC is missing: no spend data, or no customer acquired into the segment in the window (a
        # tenure stage such as Established, which nobody is in when acquired).
        if not has_spend:
            return "healthy", (f"contribution per customer-month {money} >= 0; needs spend data to test "
                               f"net LTV : CAC >= {a.healthy_ltv_cac:g} and payback <= "
                               f"{a.healthy_payback_months:g} months")
        return "healthy", (f"contribution per customer-month {money} >= 0; net LTV : CAC and payback not "
                           "tested: no customer was acquired into this segment in the window, so it has no CAC")
    ratio = shown_ltv_cac(net_ltv_cac, a)
    payback = shown_payback(payback_months, a)
    if net_ltv_cac < a.draining_ltv_cac:
        return "margin-draining", f"net LTV : CAC {ratio} < {a.draining_ltv_cac:g}"
    if net_ltv_cac >= a.healthy_ltv_cac and payback_months <= a.healthy_payback_months:
        return "healthy", (f"net LTV : CAC {ratio} >= {a.healthy_ltv_cac:g} and payback {payback} <= "
                           f"{a.healthy_payback_months:g} months")
    return "marginal", (f"net LTV : CAC {ratio}, payback {payback} months: healthy needs >= "
                        f"{a.healthy_ltv_cac:g} and <= {a.healthy_payback_months:g} months; "
                        f"margin-draining below {a.draining_ltv_cac:g} or contribution < 0")


# Customers are joined by integer codes, not by their string ids: one pd.factorize over every id column of
# a call (each string hashed once), then each lookup is a numpy take. The ledger's customers take codes
# 0..k-1 in the order of `_LedgerView.ids`, so what is memoised per ledger keeps its codes across calls.
_MEMO_SIZE = 8


def _recall(memo: dict, key: tuple, anchors: tuple):
    """The value memoised under `key` if it was stored with these very objects (keys hold ids, which
    Python reuses once an object is gone), else None."""
    hit = memo.get(key)
    return hit[1] if hit is not None and all(a is b for a, b in zip(hit[0], anchors)) else None


def _remember(memo: dict, key: tuple, anchors: tuple, value):
    """Memoise `value` under `key` with the objects whose ids the key holds (at most _MEMO_SIZE entries)."""
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = (anchors, value)
    return value


@dataclass(frozen=True, eq=False)
class _LedgerView:
    """The ledger as arrays: unique customer ids (code = position), and per row its code, month, MRR."""

    ids: pd.Series
    code: np.ndarray
    month: np.ndarray
    mrr: np.ndarray


_VIEW_MEMO: dict[tuple, tuple[tuple, _LedgerView]] = {}


def _ledger_view(ledger: pd.DataFrame) -> _LedgerView:
    """Memoised for the ledger object the caller reuses (the app and the report pass one frame per date)."""
    hit = _recall(_VIEW_MEMO, (id(ledger),), (ledger,))
    if hit is not None:
        return hit
    code, ids = pd.factorize(ledger["customer_id"].astype("str"), use_na_sentinel=False)
    view = _LedgerView(ids=pd.Series(ids, dtype="str"), code=code,
                       month=_month_ts(ledger["month"]).to_numpy() if len(ledger) else
                       np.array([], dtype="datetime64[us]"),
                       mrr=ledger["mrr_cents"].to_numpy(dtype="int64"))
    return _remember(_VIEW_MEMO, (id(ledger),), (ledger,), view)


def encode_ids(*columns: pd.Series) -> tuple[list[np.ndarray], pd.Index]:
    """Integer codes of customer ids for several id columns in one code space, and the ids of the codes.

    One pd.factorize over all of them: each string is hashed once (a categorical column: only its
    categories). When the first column holds unique ids, its i-th id has code i.
    """
    parts = [c.cat.categories.to_series() if isinstance(c.dtype, pd.CategoricalDtype) else c for c in columns]
    joined = pd.concat([p.astype("str") for p in parts], ignore_index=True)
    codes, uniques = pd.factorize(joined, use_na_sentinel=False)
    out, start = [], 0
    for c, p in zip(columns, parts):
        part = codes[start:start + len(p)]
        start += len(p)
        if isinstance(c.dtype, pd.CategoricalDtype):  # a missing id (code -1) gets a code of its own
            part = np.append(part, len(uniques))[c.cat.codes.to_numpy()]
        out.append(part)
    return out, pd.Index(uniques)


def ledger_customers(ledger: pd.DataFrame) -> pd.Series:
    """The ledger's customer ids in order of first appearance: the first codes of the code space of
    segment_economics (EconomicsInputs.customer_codes). Memoised for the ledger object."""
    return _ledger_view(ledger).ids


def _customer_codes(inputs: EconomicsInputs, view: _LedgerView) -> tuple[dict[str, np.ndarray], int]:
    """The codes of CODED_FRAMES' customer ids (the inputs' own, or encode_ids over the ledger view's ids
    and theirs), and the size of the code space."""
    frames = {name: getattr(inputs, name) for name in CODED_FRAMES}
    if inputs.customer_codes is not None:
        codes = {name: np.asarray(inputs.customer_codes[name], dtype="int64") for name in CODED_FRAMES}
        for name, frame in frames.items():
            if len(codes[name]) != len(frame):
                raise ValueError(f"EconomicsInputs.customer_codes[{name!r}] has {len(codes[name]):,} codes for "
                                 f"{len(frame):,} rows; compute the codes from the same frames.")
        top = max([len(view.ids) - 1] + [int(c.max()) for c in codes.values() if len(c)])
        return codes, top + 1
    found, uniques = encode_ids(view.ids, *(f["customer_id"] if "customer_id" in f else pd.Series([], dtype="str")
                                            for f in frames.values()))
    return dict(zip(CODED_FRAMES, found[1:])), len(uniques) + 1  # one more for a missing id in a categorical


def _by_code(n: int, codes: np.ndarray, values: np.ndarray, fill: float = math.nan) -> np.ndarray:
    """An array over the code space: values at their customers' codes, `fill` elsewhere."""
    out = np.full(n, fill, dtype="float64")
    out[codes] = values
    return out


def _month_positions(months: pd.Series, wanted: list[pd.Timestamp]) -> np.ndarray:
    """Position of each row's month start in `wanted` (-1 when not wanted); only the column's distinct
    values are normalised. A sorted column of timestamps (the segment history, month after month) is read
    as runs of equal values, ten times faster than hashing it (0.34 s -> 0.03 s at 8M rows)."""
    index = pd.Index(wanted, dtype="datetime64[us]")
    values = months.to_numpy()
    if values.dtype.kind == "M" and len(values) > 1 and (values[1:] >= values[:-1]).all():  # NaT: not sorted
        starts = np.flatnonzero(np.r_[True, values[1:] != values[:-1]])
        pos = index.get_indexer(_month_ts(pd.Series(values[starts])))
        return np.repeat(pos, np.diff(np.r_[starts, len(values)])).astype("int64")
    codes, uniques = pd.factorize(months)
    if not len(uniques):
        return np.full(len(months), -1, dtype="int64")
    pos = index.get_indexer(_month_ts(pd.Series(uniques)))
    return np.where(codes >= 0, pos[codes], -1)


def _history_rows(history: pd.DataFrame, history_codes: np.ndarray, months: list[pd.Timestamp],
                  n: int) -> np.ndarray:
    """Per month of `months` and customer code, the row of `history` holding that customer's segment at
    that month's start (-1: none; of several rows, the last)."""
    mpos = _month_positions(history["month"], months)
    table = np.full((len(months), n), -1, dtype="int32" if len(history) < 2**31 else "int64")
    ok = mpos >= 0
    rows = np.arange(len(history), dtype=table.dtype)
    if ok.all():
        table[mpos, history_codes] = rows
    else:
        table[mpos[ok], history_codes[ok]] = rows[ok]
    return table


def _history_segments(history: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each segment_history row's segment as a code (0 = no label; one more entry, for row -1, is 0), and
    the names of the codes."""
    segment = history["segment"]
    if isinstance(segment.dtype, pd.CategoricalDtype):   # its codes as they are (unused categories sum to 0)
        labels, names = segment.cat.codes.to_numpy(), segment.cat.categories
    else:
        labels, names = pd.factorize(segment)  # a missing label -> -1 -> "no label"
    codes = np.zeros(len(labels) + 1, dtype="int64")
    codes[:-1] = labels
    codes[:-1] += 1
    return codes, np.array([UNLABELLED] + [str(s) for s in names], dtype=object)


def _sum_by_segment(seg: np.ndarray, names: np.ndarray,
                    values: dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]], sort: bool = False) -> pd.DataFrame:
    """segment and the sum of each value (float64) over the rows of each segment present (as a groupby
    would). A value given as (rows, weights) is nonzero only at those rows (in increasing order): summed
    over them alone, the same sums in the same order (`_sparse`)."""
    size = len(names)
    present = np.bincount(seg, minlength=size) > 0
    frame = pd.DataFrame({"segment": names[present]})
    for col, v in values.items():
        sums = np.bincount(seg[v[0]], weights=v[1], minlength=size) if isinstance(v, tuple) \
            else np.bincount(seg, weights=v, minlength=size)
        frame[col] = sums[present]
    if frame["segment"].is_unique:
        return frame.sort_values("segment", ignore_index=True) if sort else frame
    # Two codes may carry one name (a real "Unknown" label and a missing one): merged as one segment.
    return frame.groupby("segment", sort=sort).sum().reset_index()


def _sparse(values: np.ndarray) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """`values` (float64), or as (rows, weights) of its nonzero rows when they are under a quarter of them:
    most customer-months have no churn, contraction, expansion or reactivation, and summing those columns
    by segment for every scheme then reads a fraction of the rows."""
    rows = np.flatnonzero(values)
    return (rows, values[rows]) if len(rows) < len(values) // 4 else values


# The customer-month scan depends on the ledger, not on the segments: memoised for the ledger object the
# caller reuses (the app and the report pass the same frame for every scheme and threshold change).
_STATUS_MEMO: dict[tuple, tuple[tuple, tuple[int, dict, np.ndarray, np.ndarray]]] = {}
_STATUS_COLUMNS = ("active_start", "churned_customer", "prev_cents", "churned_cents", "contraction_cents",
                   "expansion_cents", "reactivation_cents")
# Summed by segment beside them: the customer-months that start with revenue (the revenue rates' base).
_REVENUE_BASE = "revenue_base_months"


def _window_months(first: date, last: date) -> list[pd.Timestamp]:
    return list(pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq="MS").astype("datetime64[us]"))


def _churn_window(view: _LedgerView, as_of: date, a: Assumptions, revenue_model: str) -> tuple[date, date]:
    """The churn window's first and last month (first > last: no window): trailing complete months, or
    all available: from the first month churn can be observed in (first_churn_month: month 1 of the data
    has no exposure; on order data no churn is dated before the inactivity days have passed)."""
    done = view.month[view.month <= np.datetime64(pd.Timestamp(last_complete_month(as_of)))]
    first_churn = (first_churn_month(as_date(pd.Timestamp(done.min())), revenue_model, a.inactivity_days)
                   if len(done) else None)
    return churn_window(as_of, a.churn_window_months, first_churn)


def window_status(ledger: pd.DataFrame, revenue: pd.DataFrame | None, as_of: date, revenue_model: str,
                  a: Assumptions, backend: Any = None) -> None:
    """Compute (on `backend`, default: the engine of in-memory tables) and keep what segment economics read
    of the engine for these very ledger and revenue frames under these assumptions, so that economics_base
    finds it ready: the report runs it on a second connection while it labels the features."""
    first, last = _churn_window(_ledger_view(ledger), as_of, a, revenue_model)
    if first <= last:
        _window_status(ledger, revenue, as_of, revenue_model, first, last, a.inactivity_days, backend)


def _window_status(ledger: pd.DataFrame, revenue: pd.DataFrame | None, as_of: date, revenue_model: str,
                   first: date, last: date, inactivity_days: int, backend: Any = None
                   ) -> tuple[int, dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]], np.ndarray, np.ndarray]:
    """customer_months (economics.mrr) over the window's months: the number of customer-months, their
    _STATUS_COLUMNS and _REVENUE_BASE as bincount weights (float64, `_sparse`), each one's customer code
    (`_LedgerView`) and its position among the window's months. Read column by column from the engine's
    Arrow result (no pandas frame: at 1M customers the frame and its copies were 1.8 GB of peak memory).
    Memoised for these very frames."""
    key = (id(ledger), id(revenue), as_of, revenue_model, inactivity_days, first, last)
    anchors = (ledger, revenue)
    hit = _recall(_STATUS_MEMO, key, anchors)
    if hit is not None:
        return hit
    check_ledger_frame(ledger)
    view = _ledger_view(ledger)
    # Customers go to the engine as their codes (the ledger view's; a customer found only in the revenue
    # table takes a code after those), so the customer-months come back as integers, not ids to hash.
    # An Arrow table (months as dates straight from datetime64, no Python date objects).
    ledger_t = ibis.memtable(pa.table({
        "customer_id": view.code.astype("int64"), "month": pa.array(view.month.astype("datetime64[D]")),
        **{c: ledger[c].to_numpy(dtype="int64") for c in ("revenue_cents", "mrr_cents", "refund_cents")}}))
    revenue_t = None
    if revenue_model == "transactional":
        if revenue is None:
            raise LedgerError("EconomicsInputs.revenue is None but the revenue model is transactional; "
                              "pass the revenue table (customer_id, date, amount_cents).")
        rev = revenue[["customer_id", "date", "amount_cents"]].copy()
        (_, rev_codes), _ = encode_ids(view.ids, rev["customer_id"])
        rev["customer_id"] = rev_codes.astype("int64")
        rev["date"] = pd.to_datetime(rev["date"]).dt.date
        revenue_t = ibis.memtable(rev, schema={"customer_id": "int64", "date": "date",
                                               "amount_cents": "int64"})
    status = customer_months(ledger_t, as_of, revenue_model, revenue=revenue_t, inactivity_days=inactivity_days)
    # Window months only.
    status = status.filter((status.month >= ibis.literal(first)) & (status.month <= ibis.literal(last)))
    query = status.select("customer_id", "month", *_STATUS_COLUMNS)
    table = query.to_pyarrow() if backend is None else backend.to_pyarrow(query)
    drop_memtables(query, backend)  # the ledger copies, once read
    n = table.num_rows

    def take(name: str, dtype: str) -> np.ndarray:
        # One column out of the result as numpy, its Arrow buffers let go at once (missing: 0).
        nonlocal table
        values = pc.fill_null(table.column(name), 0).to_numpy().astype(dtype, copy=False)
        table = table.drop_columns([name])
        return values

    codes = take("customer_id", "int64")
    # The months are within [first, last]: a month's position is its distance from `first` in months.
    month_index = take("month", "datetime64[D]").astype("datetime64[M]").astype("int64")
    positions = month_index - np.datetime64(first, "M").astype("int64")
    weights = {c: take(c, "float64") for c in _STATUS_COLUMNS}
    weights[_REVENUE_BASE] = (weights["prev_cents"] > 0).astype("float64")
    status = {c: _sparse(v) for c, v in weights.items()}
    return _remember(_STATUS_MEMO, key, anchors, (n, status, codes, positions))


def _cac_with_segments(acquisition: pd.DataFrame, spend: pd.DataFrame | None, first: date,
                      last: date) -> pd.DataFrame:
    """attribute_cac over the window [first, last] with each customer's segment at acquisition (the
    acquisition's `segment`; missing: UNLABELLED)."""
    cac = attribute_cac(acquisition, spend, first, last) if first <= last \
        else attribute_cac(acquisition, None, last, last)
    acq_seg = acquisition.set_index("customer_id")["segment"].astype("object") \
        if "segment" in acquisition else pd.Series(dtype="object")
    cac["segment"] = cac["customer_id"].map(acq_seg).fillna(UNLABELLED)
    return cac


def _segment_churn(base: "EconomicsBase", hist: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    """Per segment (at the start of each month) over the churn window: exposure, churn and MRR movements.
    Each customer-month takes the segment the customer had at that month's start."""
    agg = _sum_by_segment(hist[base.status_rows], names, base.status)
    counted = [*_STATUS_COLUMNS, _REVENUE_BASE]
    agg[counted] = agg[counted].round().astype("int64")   # counts and cents
    return agg.rename(columns={"active_start": "churn_exposure", "churned_customer": "churn_events",
                               "prev_cents": "start_cents"})


def _nrr_by_segment(base: "EconomicsBase", hist: np.ndarray, names: np.ndarray) -> pd.DataFrame:
    """segment (at the start of month L-11), nrr, grr and base (the customers paying in month L-12); empty
    with fewer than 13 complete months."""
    if base.nrr is None:
        return pd.DataFrame({"segment": pd.Series(dtype="object"), "nrr": [], "grr": [], "base": []})
    rows, mrr_then, pair_now = base.nrr
    # The 12 months measured start with L-11: the segment at its start (reflecting MRR in L-12).
    g = _sum_by_segment(hist[rows], names, {"mrr_cents_then": mrr_then, "mrr_cents_now": pair_now,
                                            "capped": np.minimum(pair_now, mrr_then),
                                            "base": np.ones(len(rows))}, sort=True)
    g = g.set_index("segment")
    g.loc[ALL_CUSTOMERS] = g.sum()
    return pd.DataFrame({"segment": g.index.astype("object"), "nrr": (g["mrr_cents_now"] / g["mrr_cents_then"]).values,
                         "grr": (g["capped"] / g["mrr_cents_then"]).values, "base": g["base"].values})


def _segment_codes(segment: pd.Series) -> tuple[np.ndarray, list]:
    """Each row's segment as a code, and the segments in order of first appearance (as pd.unique gives
    them); a missing label is UNLABELLED (one segment with a real UNLABELLED label). Categorical labels
    are read by their codes, not as a string per row."""
    raw, uniques = pd.factorize(segment, use_na_sentinel=True)
    names = list(np.asarray(uniques, dtype=object)) + [UNLABELLED]
    raw = np.where(raw < 0, len(names) - 1, raw)
    merged_code, merged = pd.factorize(pd.Index(names, dtype=object))
    code, order = pd.factorize(merged_code[raw])     # order of first appearance
    return code.astype("int64"), [merged[i] for i in order]


def _member_sums(inputs: EconomicsInputs, a: Assumptions, base: "EconomicsBase") -> pd.DataFrame:
    """Per segment at D (index: the segments in order of first appearance) the sums segment_economics
    reads: customers, paying (MRR of month L > 0), mrr_cents (month L), acquired (customers with a first
    paid month), onboarding (each acquired customer's cost of its value tier at acquisition), and over the
    paying customers months (usage exposure), support_cost, infra_cost, tickets: the base's per-customer
    arrays, summed by segment code."""
    seg, names = _segment_codes(inputs.segment_at_d["segment"])
    at_d, acq, acq_codes = base.codes["segment_at_d"], inputs.acquisition, base.codes["acquisition"]
    # One-off onboarding cost keyed by the value tier at acquisition (unknown tier: 0), of the customers
    # acquired (a first paid month before D): a customer who never paid was never onboarded and does not
    # dilute the mean (the blended row read $1,054 on the sample with them, $1,515 without).
    acquired = _by_code(base.n, acq_codes, np.ones(len(acq_codes)), fill=0.0)[at_d]
    cost_of_tier = pd.Series({k: float(v) for k, v in a.onboarding_cost.items()}, dtype="float64")
    if "value_tier" in acq:
        tier, tiers = pd.factorize(acq["value_tier"])   # each tier's cost looked up once, not per customer
        cost = np.append(cost_of_tier.reindex(pd.Index(tiers, dtype=object)).to_numpy(dtype="float64"), np.nan)[tier]
        onboarding = np.nan_to_num(_by_code(base.n, acq_codes, cost)[at_d], nan=0.0)
    else:
        onboarding = np.zeros(len(at_d))
    size = len(names)

    def total(values: np.ndarray) -> np.ndarray:
        return np.bincount(seg, weights=values, minlength=size)

    # The usage sums are over paying customers: the base's arrays are 0 for the others.
    return pd.DataFrame({
        "customers": np.bincount(seg, minlength=size), "paying": total(base.paying).round().astype("int64"),
        "mrr_cents": total(base.mrr_cents), "acquired": total(acquired), "onboarding": total(onboarding),
        "months": total(base.months),
        "support_cost": total(base.support), "infra_cost": total(base.infra), "tickets": total(base.tickets),
    }, index=pd.Index(names, dtype=object))


@dataclass(frozen=True, eq=False)
class EconomicsBase:
    """What segment_economics reads that does not depend on the segments: the churn window, its
    customer-months (economics.mrr rules) with the segment_history row each one reads, the NRR base
    customers, and per customer at D the MRR of month L (cents), whether it pays (1.0 / 0.0) and, for the
    paying ones (0 for the others), the months of usage exposure and the usage costs. `economics_base`
    computes it; a caller computing several schemes' economics over the same data (the report) passes it
    to each `segment_economics` call, whose inputs must then differ only in their segment labels: the very
    same ledger, revenue, usage and customer-code objects, the same row counts and assumptions (checked)."""

    key: tuple
    anchors: tuple
    first: date
    last: date
    window: tuple[pd.Timestamp | None, pd.Timestamp | None]
    n: int
    codes: dict[str, np.ndarray]
    status: dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]]
    status_rows: np.ndarray
    nrr: tuple[np.ndarray, np.ndarray, np.ndarray] | None
    mrr_cents: np.ndarray
    paying: np.ndarray
    months: np.ndarray
    support: np.ndarray
    infra: np.ndarray
    tickets: np.ndarray


def _base_key(inputs: EconomicsInputs, a: Assumptions) -> tuple:
    return (inputs.as_of, inputs.revenue_model, inputs.window_months, a.churn_window_months, a.inactivity_days,
            a.support_cost_per_minute, a.infra_cost_per_event, a.infra_cost_per_seat,
            *(len(getattr(inputs, name)) for name in CODED_FRAMES))


def _base_anchors(inputs: EconomicsInputs) -> tuple:
    codes = inputs.customer_codes or {}
    return (inputs.ledger, inputs.revenue, inputs.usage, *(codes.get(name) for name in CODED_FRAMES))


def economics_base(inputs: EconomicsInputs, assumptions: Assumptions) -> EconomicsBase:
    """The segment-independent part of segment_economics for these inputs (see EconomicsBase)."""
    a = assumptions
    view = _ledger_view(inputs.ledger)
    first, last = _churn_window(view, inputs.as_of, a, inputs.revenue_model)
    window = (pd.Timestamp(first), pd.Timestamp(last)) if first <= last else (None, None)
    codes, n = _customer_codes(inputs, view)
    months = _window_months(first, last) if first <= last else []
    nrr_month = pd.Timestamp(add_months(last, -11))
    table_months = months + ([nrr_month] if nrr_month not in months else [])
    rows_at = _history_rows(inputs.segment_history, codes["segment_history"], table_months, n)

    status_rows = np.array([], dtype="int64")
    status = {c: np.array([], dtype="float64") for c in (*_STATUS_COLUMNS, _REVENUE_BASE)}
    if first <= last:
        n_rows, counted, status_codes, positions = _window_status(
            inputs.ledger, inputs.revenue, inputs.as_of, inputs.revenue_model, first, last, a.inactivity_days)
        if n_rows:
            month_rows = np.array([table_months.index(m) for m in months], dtype="int64")
            status_rows = rows_at[month_rows[positions], status_codes]
            status = counted   # bincount weights

    # MRR of month L by customer code (ledger rows summed).
    in_last = view.month == np.datetime64(pd.Timestamp(last))
    mrr_last = np.bincount(view.code[in_last], weights=view.mrr[in_last], minlength=n)
    # NRR / GRR base: the customers paying in L-12, their MRR then and in L.
    base_month = pd.Timestamp(add_months(last, -12))
    nrr = None
    if len(view.month) and view.month.min() <= np.datetime64(base_month):
        then = (view.month == np.datetime64(base_month)) & (view.mrr > 0)
        then_codes = view.code[then]
        nrr = (rows_at[table_months.index(nrr_month)][then_codes], view.mrr[then].astype("float64"),
               mrr_last[then_codes])

    # Per customer at D: MRR of L, usage exposure and costs.
    at_d = codes["segment_at_d"]
    mrr_cents = mrr_last[at_d].round().astype("int64")
    acq, acq_codes = inputs.acquisition, codes["acquisition"]
    # Usage exposure: months of the usage window the customer was a customer (at least 1).
    if "first_paid_month" in acq:
        first_paid = np.full(n, np.datetime64("NaT"), dtype="datetime64[us]")
        first_paid[acq_codes] = pd.to_datetime(acq["first_paid_month"]).to_numpy(dtype="datetime64[us]")
        exposure = observed_months(pd.Series(first_paid[at_d]), inputs.as_of, inputs.window_months).to_numpy(
            dtype="float64")
    else:
        exposure = np.full(len(at_d), float(inputs.window_months))
    use, use_codes = inputs.usage, codes["usage"]

    def col(name: str) -> np.ndarray:
        if name not in use.columns:
            return np.full(len(at_d), math.nan)
        return _by_code(n, use_codes, use[name].to_numpy(dtype="float64", na_value=math.nan))[at_d]

    support = pd.Series(col("support_cost")).fillna(pd.Series(col("support_minutes")) * a.support_cost_per_minute)
    infra = (np.nan_to_num(col("events"), nan=0.0) * a.infra_cost_per_event
             + np.nan_to_num(col("seats"), nan=0.0) * a.infra_cost_per_seat * exposure)
    paying = mrr_cents > 0

    def of_paying(values: np.ndarray) -> np.ndarray:   # summed with every customer's: 0 adds nothing
        return np.where(paying, values, 0.0)

    return EconomicsBase(
        key=_base_key(inputs, a), anchors=_base_anchors(inputs), first=first, last=last, window=window, n=n,
        codes=codes, status=status, status_rows=status_rows, nrr=nrr, mrr_cents=mrr_cents.astype("float64"),
        paying=paying.astype("float64"), months=of_paying(exposure), support=of_paying(support.fillna(0.0).to_numpy()),
        infra=of_paying(infra), tickets=of_paying(np.nan_to_num(col("tickets"), nan=0.0)))


def _checked(base: EconomicsBase, inputs: EconomicsInputs, a: Assumptions) -> EconomicsBase:
    if inputs.customer_codes is None or base.key != _base_key(inputs, a) \
            or any(x is not y for x, y in zip(base.anchors, _base_anchors(inputs))):
        raise ValueError("segment_economics: the base was computed from other inputs (another ledger, usage, "
                         "customer codes, date or assumptions); compute it again with economics_base.")
    return base


def segment_economics(inputs: EconomicsInputs, assumptions: Assumptions,
                      base: EconomicsBase | None = None, symbol: str = "") -> SegmentEconomics:
    """One row per segment (at D) with value, cost to win and serve, and the verdict (DEFINITIONS.md "Value").

    Columns (ECONOMICS_COLUMNS): customers (labelled at D), paying_customers (MRR in L > 0), share,
    mrr (dollars, month L), mrr_share, arpa (MRR / paying customers, ChartMogul), logo_churn (pooled
    monthly churn over the window, segment at each month's start), logo_churn_low / _high (Wilson 95%),
    churn_events, churn_exposure, gross_revenue_churn, net_revenue_churn (ChartMogul), nrr, grr (12 months;
    NaN = "n/a" under 13 complete months), expansion_rate (expansion MRR / starting MRR, pooled; the three
    revenue rates are NaN, with a note, when fewer than min_customers customer-months start with MRR),
    gross_margin, lifetime_months (min(1 / churn, cap)), ltv (ARPA x margin x lifetime, as ChartMogul's
    ARPA x margin / churn with a cap), ltv_capped (the cap applied), net_ltv ((ARPA x margin - support pcm -
    infra pcm) x lifetime - onboarding), net_ltv_low / _high (net LTV at the two ends of the churn
    interval), small_sample (fewer than min_customers paying customers or min_churn_events churn events:
    churn and net LTV read as their intervals), cac (attributed spend / attributed new customers acquired
    in the window, by segment at acquisition; NaN = "needs spend data"), blended_cac (all spend / all new
    customers in the window), new_customers, unattributed_new_customers, net_ltv_cac, payback_months (CAC /
    contribution pcm; inf when contribution <= 0), onboarding_cost (mean over the segment's customers with a
    first paid month of the cost of their value tier at acquisition), support_cost_pcm, infra_cost_pcm (per
    paying customer-month over the usage window), support_share_of_revenue (support pcm / ARPA), tickets_pcm,
    contribution_pcm (ARPA x margin - support pcm - infra pcm), verdict, verdict_rule (its amounts with
    `symbol`, the data's currency symbol: "" claims none), note.
    """
    a = assumptions
    base = economics_base(inputs, a) if base is None else _checked(base, inputs, a)
    first, last, window = base.first, base.last, base.window
    hist, names = _history_segments(inputs.segment_history)
    churn = _segment_churn(base, hist, names) if first <= last else pd.DataFrame(
        columns=["segment", "churn_exposure", "churn_events", "start_cents", "churned_cents",
                 "contraction_cents", "expansion_cents", "reactivation_cents", _REVENUE_BASE])
    churn = churn.set_index("segment")
    churn.loc[ALL_CUSTOMERS] = churn.sum(numeric_only=True) if len(churn) else 0
    nrr = _nrr_by_segment(base, hist, names).set_index("segment")
    sums = _member_sums(inputs, a, base)
    has_spend = inputs.spend is not None and len(inputs.spend) > 0
    if inputs.cac is not None and inputs.cac_window == (first, last):
        cac = inputs.cac.copy()
    else:
        cac = _cac_with_segments(inputs.acquisition, inputs.spend, first, last)
    blended_cac = math.nan   # also with no window: its customers are the last month's, with no spend read
    if has_spend and len(cac) and first <= last:
        sp = inputs.spend.assign(month=_month_ts(inputs.spend["month"]))
        total = float(sp[(sp["month"] >= pd.Timestamp(first)) & (sp["month"] <= pd.Timestamp(last))]["amount"].sum())
        blended_cac = total / len(cac)

    sums.loc[ALL_CUSTOMERS] = sums.sum()
    total_customers = int(sums.at[ALL_CUSTOMERS, "customers"])
    total_mrr = float(sums.at[ALL_CUSTOMERS, "mrr_cents"])
    segments = list(sums.index[:-1])
    rows = []
    overall_margin = a.gross_margin
    if a.gross_margin_by_segment and total_mrr:
        overall_margin = float(sum(sums.at[s, "mrr_cents"] * a.margin_for(s) for s in segments) / total_mrr)
    cac_segment = {seg: part for seg, part in cac.groupby("segment", sort=False)}
    for seg in segments + [ALL_CUSTOMERS]:
        margin = overall_margin if seg == ALL_CUSTOMERS else a.margin_for(seg)
        acq_rows = cac if seg == ALL_CUSTOMERS else cac_segment.get(seg, cac.iloc[:0])
        rows.append(_row(seg, sums.loc[seg], churn, nrr, acq_rows, margin, blended_cac, has_spend,
                         total_customers, total_mrr, a, symbol))
    out = pd.DataFrame(rows, columns=list(ECONOMICS_COLUMNS))
    table = out[out["segment"] != ALL_CUSTOMERS].reset_index(drop=True)
    blended = out[out["segment"] == ALL_CUSTOMERS].reset_index(drop=True)
    return SegmentEconomics(table=table, blended=blended, window=window, assumptions=a, cac_by_customer=cac)


def _row(seg: str, members: pd.Series, churn: pd.DataFrame, nrr: pd.DataFrame, acq_rows: pd.DataFrame,
         margin: float, blended_cac: float, has_spend: bool, total_customers: int, total_mrr: float,
         a: Assumptions, symbol: str) -> dict:
    """One segment's row; `members`: its sums (_member_sums)."""
    n_customers, n_paying = int(members["customers"]), int(members["paying"])
    mrr = float(members["mrr_cents"]) / 100.0
    arpa_ = mrr / n_paying if n_paying else math.nan
    c = churn.loc[seg] if seg in churn.index else pd.Series(dtype="float64")
    exposure = float(c.get("churn_exposure", 0) or 0)
    events = float(c.get("churn_events", 0) or 0)
    churn_rate = events / exposure if exposure else math.nan
    low, high = wilson_interval(events, exposure)
    start = float(c.get("start_cents", 0) or 0)
    lost = float(c.get("churned_cents", 0) or 0) + float(c.get("contraction_cents", 0) or 0)
    won = float(c.get("expansion_cents", 0) or 0) + float(c.get("reactivation_cents", 0) or 0)
    # Revenue rates over a handful of customer-months with revenue are not rated: a base of a few
    # customers' last-month revenue against what the segment later gained reads as 600% expansion.
    revenue_months = int(c.get(_REVENUE_BASE, 0) or 0)
    rated = start > 0 and revenue_months >= a.min_customers
    gross_rc = lost / start if rated else math.nan
    net_rc = (lost - won) / start if rated else math.nan
    expansion_rate = float(c.get("expansion_cents", 0) or 0) / start if rated else math.nan
    lifetime, capped = _lifetime(churn_rate, a.lifetime_cap_months)
    # Costs per paying customer-month over the usage window; onboarding: mean over the segment's acquired
    # customers.
    months = float(members["months"])
    support_pcm = float(members["support_cost"]) / months if months else math.nan
    infra_pcm = float(members["infra_cost"]) / months if months else math.nan
    tickets_pcm = float(members["tickets"]) / months if months else math.nan
    acquired = float(members["acquired"])
    onboarding = float(members["onboarding"]) / acquired if acquired else math.nan
    contribution = arpa_ * margin - support_pcm - infra_pcm
    ltv = arpa_ * margin * lifetime
    net_ltv = contribution * lifetime - onboarding
    # Net LTV over the churn interval's two ends: a few customers or churn events make the figure uncertain
    # (issue 4: an interval, not a falsely precise figure), and the cap bounds the low-churn end.
    ends = [contribution * _lifetime(rate, a.lifetime_cap_months)[0] - onboarding for rate in (high, low)]
    net_ltv_low, net_ltv_high = (min(ends), max(ends)) if exposure else (math.nan, math.nan)
    attributed = acq_rows[acq_rows["attributed"]] if len(acq_rows) else acq_rows
    cac = float(attributed["cac"].mean()) if has_spend and len(attributed) else math.nan
    if seg == ALL_CUSTOMERS:
        # All customers: the blended CAC (all spend / all new customers, DEFINITIONS.md), the Overview's
        # tile; the mean over attributed customers alone reads higher when some have no channel.
        cac = blended_cac
    if math.isnan(cac) or math.isnan(net_ltv):
        ratio = math.nan
    elif cac == 0:
        ratio = math.inf if net_ltv > 0 else (-math.inf if net_ltv < 0 else math.nan)
    else:
        ratio = net_ltv / cac
    if math.isnan(cac) or math.isnan(contribution):
        payback = math.nan
    else:
        payback = cac / contribution if contribution > 0 else (0.0 if cac == 0 else math.inf)
    word, rule = verdict(ratio, payback, contribution, has_spend, a, net_ltv, symbol)
    notes = []
    small = n_paying < a.min_customers or events < a.min_churn_events
    paying = f"{n_paying:,} paying customer{'' if n_paying == 1 else 's'}"
    if small and not exposure:
        notes.append(f"small sample ({paying}, no churn exposure in the window)")
    elif small:
        # enough customers but few churn events (none at all: "no churn observed", not a small sample)
        what = (f"small sample ({paying}, {events:.0f} churn event{'' if events == 1 else 's'})"
                if n_paying < a.min_customers else
                f"{'no churn observed' if events == 0 else f'few churn events ({events:.0f})'} among {paying}")
        notes.append(f"{what}: churn 95% interval {low:.1%}-{high:.1%}")
    if start > 0 and not rated:
        notes.append(f"small revenue base ({revenue_months} customer-month(s) starting with revenue): revenue "
                     "churn and expansion not rated")
    # NRR and GRR follow the customers paying 12 months ago (in the segment then): a handful of them read as
    # "never loses revenue" beside a churning segment (a lifecycle's Mature: 2 customers, NRR 105%).
    nrr_base = int(nrr["base"].get(seg, 0)) if len(nrr) else 0
    nrr_rated = nrr_base >= a.min_customers
    if len(nrr) and seg in nrr.index and not nrr_rated:
        notes.append(f"NRR and GRR not rated: {nrr_base} customer{'' if nrr_base == 1 else 's'} paying 12 months "
                     "before")
    if not has_spend:
        notes.append("needs spend data")
    elif not len(acq_rows):
        notes.append("no new customers in the window: CAC not measured")
    unattributed = int((~acq_rows["attributed"]).sum()) if has_spend and len(acq_rows) else 0
    if unattributed:
        notes.append(f"{unattributed} new customer(s) without a channel: CAC unattributed")
    if capped:
        notes.append(f"lifetime capped at {a.lifetime_cap_months} months")
    return {
        "segment": seg, "customers": n_customers, "paying_customers": n_paying,
        "share": n_customers / total_customers if total_customers else math.nan,
        "mrr": mrr, "mrr_share": (mrr * 100.0) / total_mrr if total_mrr else math.nan, "arpa": arpa_,
        "logo_churn": churn_rate, "logo_churn_low": low, "logo_churn_high": high, "churn_events": int(events),
        "churn_exposure": int(exposure), "gross_revenue_churn": gross_rc, "net_revenue_churn": net_rc,
        "nrr": float(nrr["nrr"].get(seg, math.nan)) if nrr_rated else math.nan,
        "grr": float(nrr["grr"].get(seg, math.nan)) if nrr_rated else math.nan,
        "expansion_rate": expansion_rate, "gross_margin": margin, "lifetime_months": lifetime, "ltv": ltv,
        "ltv_capped": capped, "net_ltv": net_ltv, "net_ltv_low": net_ltv_low, "net_ltv_high": net_ltv_high,
        "small_sample": small, "cac": cac, "blended_cac": blended_cac,
        "new_customers": len(acq_rows), "unattributed_new_customers": unattributed,
        "net_ltv_cac": ratio, "payback_months": payback, "onboarding_cost": onboarding,
        "support_cost_pcm": support_pcm, "infra_cost_pcm": infra_pcm,
        "support_share_of_revenue": support_pcm / arpa_ if arpa_ else math.nan,
        "tickets_pcm": tickets_pcm, "contribution_pcm": contribution, "verdict": word, "verdict_rule": rule,
        "note": "; ".join(notes),
    }


def _lifetime(churn_rate: float, cap_months: int) -> tuple[float, bool]:
    """(lifetime in months, capped): min(1 / monthly churn, cap); churn 0 takes the cap (DEFINITIONS.md LTV)."""
    if math.isnan(churn_rate):
        return math.nan, False
    if churn_rate == 0 or 1 / churn_rate >= cap_months:
        return float(cap_months), True
    return 1 / churn_rate, False


def waterfall(row: pd.Series | dict, unmeasured: Collection[str] = ()) -> pd.DataFrame:
    """Per customer over its lifetime: from revenue (ARPA x lifetime) down to what is left to repay CAC.

    Columns: step, amount (dollars, signed), measure ("absolute" for the start and totals, "relative"
    for deductions, as plotly's waterfall expects). Steps: Revenue over lifetime (ARPA x lifetime),
    Cost of goods (-(1 - margin) x ARPA x lifetime), Support and Infra (-cost pcm x lifetime),
    Onboarding (-one-off), Net LTV (total), then CAC (-cac) and Left after CAC (total) when CAC is
    known: without it the waterfall ends at net LTV (a CAC of 0 would read as free customers).
    Per customer over the lifetime is chosen because onboarding and CAC are one-off per customer.
    `unmeasured`: cost steps no loaded table measures (economics.costs.unmeasured_steps), left out rather
    than drawn as a cost of 0.
    """
    r = dict(row)
    life = r["lifetime_months"]
    revenue = r["arpa"] * life
    steps = [
        ("Revenue over lifetime", revenue, "absolute"),
        ("Cost of goods", -(1 - r["gross_margin"]) * revenue, "relative"),
        ("Support", -r["support_cost_pcm"] * life, "relative"),
        ("Infra", -r["infra_cost_pcm"] * life, "relative"),
        ("Onboarding", -r["onboarding_cost"], "relative"),
        ("Net LTV", r["net_ltv"], "total"),
    ]
    if not pd.isna(r["cac"]):
        steps += [("CAC", -r["cac"], "relative"), ("Left after CAC", r["net_ltv"] - r["cac"], "total")]
    return pd.DataFrame([s for s in steps if s[0] not in unmeasured], columns=["step", "amount", "measure"])
