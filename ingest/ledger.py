"""The monthly revenue ledger: net revenue per customer and calendar month, in integer cents.

Rules (../shared/DEFINITIONS.md, "Revenue"):
- An invoice with a service period is spread over whole months starting with period_start's month; the
  leftover cents go to the last month. Without a service period it counts in the month of its date.
- A subscription row (start_date, end_date exclusive, mrr) contributes mrr to each month it covers; an
  open subscription runs to the end of the data.
- Months covered by a period [start, end): the whole months from start, plus one for a partial remainder
  (2025-03-14 to 2025-04-14 is 1 month, 2025-01-01 to 2025-12-31 is 12, 2025-01-15 to 2025-03-01 is 2).
- A month whose net revenue is negative counts as 0 MRR; the excess is reported as refunds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["months_covered", "build_ledger", "LEDGER_COLUMNS"]

LEDGER_COLUMNS = ["customer_id", "month", "revenue_cents", "mrr_cents", "refund_cents"]


def _month_index(ts: pd.Series) -> np.ndarray:
    return (ts.dt.year * 12 + ts.dt.month - 1).to_numpy(dtype="int64")


def months_covered(start: pd.Series, end: pd.Series) -> np.ndarray:
    """Whole months from start to end (exclusive), plus one for a partial remainder; never negative."""
    whole = _month_index(end) - _month_index(start)
    partial = (end.dt.day > start.dt.day).to_numpy(dtype="int64")
    return np.maximum(whole + partial, 0)


def _spread(customer_id: np.ndarray, first_month: np.ndarray, n_months: np.ndarray,
            cents: np.ndarray, split: bool) -> pd.DataFrame:
    """One row per covered month. split=True divides cents over the months (leftover to the last)."""
    keep = n_months > 0
    customer_id, first_month, n_months, cents = (a[keep] for a in (customer_id, first_month, n_months, cents))
    total = int(n_months.sum())
    row = np.repeat(np.arange(len(n_months)), n_months)
    k = np.arange(total) - np.repeat(np.cumsum(n_months) - n_months, n_months)
    if split:
        base = np.sign(cents) * (np.abs(cents) // n_months)  # truncate toward zero
        last = cents - base * (n_months - 1)
        amount = np.where(k == n_months[row] - 1, last[row], base[row])
    else:
        amount = cents[row]
    return pd.DataFrame({"customer_id": customer_id[row], "month_index": first_month[row] + k,
                         "revenue_cents": amount.astype("int64")})


def build_ledger(revenue: pd.DataFrame, data_end: pd.Timestamp) -> pd.DataFrame:
    """Ledger rows: customer_id, month (first day), revenue_cents, mrr_cents, refund_cents.

    `revenue` has the stored revenue columns (ingest.contract); `data_end` (exclusive) closes open
    subscriptions. One row per customer and month with a non-zero net revenue, sorted.
    """
    parts = []
    invoices = revenue[revenue["amount_cents"].notna()]
    if not invoices.empty:
        has_period = invoices["period_start"].notna() & invoices["period_end"].notna()
        start = invoices["period_start"].where(has_period, invoices["date"])
        n = np.where(has_period, np.maximum(months_covered(invoices["period_start"].fillna(start),
                                                           invoices["period_end"].fillna(start)), 1), 1)
        parts.append(_spread(invoices["customer_id"].to_numpy(dtype=object), _month_index(start), n,
                             invoices["amount_cents"].to_numpy(dtype="int64"), split=True))
    subs = revenue[revenue["mrr_cents"].notna()]
    if not subs.empty:
        end = subs["end_date"].fillna(data_end).clip(upper=data_end)
        n = months_covered(subs["start_date"], end)
        parts.append(_spread(subs["customer_id"].to_numpy(dtype=object), _month_index(subs["start_date"]), n,
                             subs["mrr_cents"].to_numpy(dtype="int64"), split=False))
    if not parts:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(
            LEDGER_COLUMNS, ["string", "datetime64[ns]", "int64", "int64", "int64"])})
    rows = pd.concat(parts, ignore_index=True)
    ledger = rows.groupby(["customer_id", "month_index"], as_index=False, sort=True)["revenue_cents"].sum()
    ledger = ledger[ledger["revenue_cents"] != 0]
    idx = ledger["month_index"].to_numpy()
    month = pd.to_datetime(pd.DataFrame({"year": idx // 12, "month": idx % 12 + 1, "day": 1}))
    cents = ledger["revenue_cents"].to_numpy(dtype="int64")
    return pd.DataFrame({
        "customer_id": ledger["customer_id"].astype("string").to_numpy(),
        "month": month.to_numpy(),
        "revenue_cents": cents,
        "mrr_cents": np.maximum(cents, 0),
        "refund_cents": np.maximum(-cents, 0),
    })
