"""Predicted LTV from observed survival: Kaplan-Meier curves per segment, x ARPA x gross margin.

In plain words, for a founder
-----------------------------
The formula LTV (ARPA x margin / monthly churn, DEFINITIONS.md "Value") assumes the same churn rate in
every month of a customer's life. Real customers churn more in their first months and less later.
The survival curve measures it directly: of the customers who started paying, what share still pays
1, 2, 3, ... months later. Customers still paying today have not finished their story; Kaplan-Meier
counts them for the months we did see and no further ("right censoring"), so young cohorts do not
make lifetimes look short. The area under the curve, up to the 60-month cap, is the expected number
of paying months of a new customer; times ARPA and gross margin it is a predicted LTV. Beyond the
months the data covers, the curve is continued with the average monthly churn of its last 12 months
(flagged). The interval comes from resampling the segment's customers (bootstrap).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from economics.ledger import as_date, last_complete_month

__all__ = ["SurvivalError", "SurvivalParams", "kaplan_meier", "customer_lifetimes", "expected_lifetime",
           "survival_ltv", "SURVIVAL_LTV_COLUMNS"]

SURVIVAL_LTV_COLUMNS: tuple[str, ...] = (
    "segment", "customers", "churned", "observed_months", "expected_lifetime_months", "lifetime_low",
    "lifetime_high", "arpa", "gross_margin", "predicted_ltv", "ltv_low", "ltv_high", "extrapolated",
)
ALL_CUSTOMERS = "All customers"


class SurvivalError(ValueError):
    """A survival input is missing a column or holds an impossible value."""


@dataclass(frozen=True)
class SurvivalParams:
    """horizon_months: lifetime cap (DEFINITIONS.md: 60). tail_months: months at the end of the observed
    curve whose pooled churn continues it. n_boot, level, seed: the bootstrap interval."""

    horizon_months: int = 60
    tail_months: int = 12
    n_boot: int = 200
    level: float = 0.95
    seed: int = 0


def _counts(time: np.ndarray, event: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct times, at risk (time >= t), events at t, censored at t."""
    times = np.unique(time)
    ev = np.bincount(np.searchsorted(times, time[event]), minlength=len(times))
    ce = np.bincount(np.searchsorted(times, time[~event]), minlength=len(times))
    total = ev + ce
    at_risk = total[::-1].cumsum()[::-1]
    return times, at_risk, ev, ce


def kaplan_meier(durations: np.ndarray | pd.Series, observed: np.ndarray | pd.Series, z: float = 1.959963984540054
                 ) -> pd.DataFrame:
    """The Kaplan-Meier survival table (Kaplan & Meier 1958; Greenwood 1926 for the standard error).

    Parameters
    ----------
    durations : time of the event or of censoring, per subject (here: months since the first paid month).
    observed : True when the event (churn) happened at that time, False when censored (still paying,
        last seen then). A subject censored at t counts as at risk at t.

    Returns
    -------
    One row per distinct time t, ascending: time, at_risk (subjects with duration >= t), events,
    censored, survival S(t) = product over s <= t of (1 - events_s / at_risk_s), std_error (Greenwood:
    S(t) x sqrt(sum over s <= t of events_s / (at_risk_s x (at_risk_s - events_s)))), low, high
    (S -+ z x std_error, clipped to [0, 1]).
    """
    time = np.asarray(durations, dtype="float64")
    event = np.asarray(observed, dtype=bool)
    if time.shape != event.shape:
        raise SurvivalError(f"durations ({time.shape[0]}) and observed ({event.shape[0]}) differ in length.")
    if len(time) and (np.isnan(time).any() or (time < 0).any()):
        raise SurvivalError("durations: every duration must be a number >= 0.")
    times, at_risk, ev, ce = _counts(time, event)
    survival = np.cumprod(1 - ev / at_risk) if len(times) else np.empty(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # where everyone left at risk churns, S hits 0 and its standard error is 0
        terms = np.where(at_risk > ev, ev / (at_risk * (at_risk - ev)), 0.0)
    var = np.cumsum(terms)
    se = survival * np.sqrt(var)
    se = np.where(survival == 0, 0.0, se)
    return pd.DataFrame({"time": times, "at_risk": at_risk.astype("int64"), "events": ev.astype("int64"),
                         "censored": ce.astype("int64"), "survival": survival, "std_error": se,
                         "low": np.clip(survival - z * se, 0, 1), "high": np.clip(survival + z * se, 0, 1)})


def customer_lifetimes(ledger: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Each paying customer's first paying spell from the ledger (subscription model, DEFINITIONS.md "Churn").

    Only complete months count: up to L, the last complete month before D (DEFINITIONS.md "Months").
    Returns customer_id, first_paid_month, duration_months, churned:
    - churned: some month after the first paid month, up to L, has MRR = 0 (a later reactivation does
      not undo it: the first spell ends there); duration_months = months from the first paid month to
      that churn month (k = 1 means the customer paid one month);
    - still paying: censored; duration_months = months from the first paid month to L (the last month
      seen paying).
    """
    missing = [c for c in ("customer_id", "month", "mrr_cents") if c not in ledger.columns]
    if missing:
        raise SurvivalError(f"ledger: missing column(s) {', '.join(missing)}; pass the contract ledger table.")
    last = last_complete_month(as_date(as_of))
    lg = ledger[["customer_id", "month", "mrr_cents"]].copy()
    lg["month"] = pd.to_datetime(lg["month"])
    lg = lg[(lg["mrr_cents"] > 0) & (lg["month"] <= pd.Timestamp(last))]
    if lg.empty:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"),
                             "first_paid_month": pd.Series(dtype="datetime64[ns]"),
                             "duration_months": pd.Series(dtype="int64"), "churned": pd.Series(dtype=bool)})
    lg["customer_id"] = lg["customer_id"].astype("str")
    lg["index"] = lg["month"].dt.year * 12 + lg["month"].dt.month
    lg = lg.drop_duplicates(["customer_id", "index"]).sort_values(["customer_id", "index"])
    first = lg.groupby("customer_id")["index"].transform("min")
    # position within the customer's paid months; equals index - first while the spell is unbroken
    position = lg.groupby("customer_id").cumcount()
    unbroken = lg[lg["index"] - first == position]
    spell = unbroken.groupby("customer_id").agg(first_index=("index", "min"), last_index=("index", "max"),
                                                first_paid_month=("month", "min"))
    last_index = last.year * 12 + last.month
    spell["churned"] = spell["last_index"] < last_index
    spell["duration_months"] = np.where(spell["churned"], spell["last_index"] - spell["first_index"] + 1,
                                        last_index - spell["first_index"]).astype("int64")
    return spell.reset_index()[["customer_id", "first_paid_month", "duration_months", "churned"]]


def _curve(table: pd.DataFrame, horizon: int, tail_months: int) -> tuple[np.ndarray, bool]:
    """S(t) for t = 0..horizon-1 as a step function of the KM table, continued past the last observed
    time with the pooled churn (events / at risk) of its last `tail_months` times."""
    s = np.ones(horizon)
    if table.empty:
        return s, False
    times = table["time"].to_numpy()
    surv = table["survival"].to_numpy()
    t = np.arange(horizon)
    idx = np.searchsorted(times, t, side="right") - 1
    s = np.where(idx >= 0, surv[np.clip(idx, 0, None)], 1.0)
    last = int(times.max())
    if last >= horizon - 1:
        return s, False
    tail = table[table["time"] > last - tail_months]
    risk = tail["at_risk"].sum()
    hazard = tail["events"].sum() / risk if risk > 0 else 0.0
    beyond = t > last
    s[beyond] = s[last] * (1 - hazard) ** (t[beyond] - last)
    return s, True


def expected_lifetime(durations: np.ndarray, churned: np.ndarray, horizon_months: int = 60,
                      tail_months: int = 12) -> tuple[float, bool]:
    """Expected paying months of a new customer, capped at the horizon: sum over t = 0..horizon-1 of S(t),
    where S(t) = share still paying in month t (month 0, the first paid month, counts 1). Returns
    (months, extrapolated)."""
    curve, extrapolated = _curve(kaplan_meier(durations, churned), horizon_months, tail_months)
    return float(curve.sum()), extrapolated


def _lookup(values: Mapping[str, float] | pd.Series | float, key: str) -> float:
    if isinstance(values, (int, float)):
        return float(values)
    try:
        return float(values[key])
    except (KeyError, IndexError):
        return float("nan")


def survival_ltv(lifetimes: pd.DataFrame, segments: pd.DataFrame, arpa: Mapping[str, float] | pd.Series,
                 margin: Mapping[str, float] | pd.Series | float = 0.8,
                 params: SurvivalParams = SurvivalParams()) -> pd.DataFrame:
    """Predicted LTV per segment = expected lifetime (Kaplan-Meier, capped) x ARPA x gross margin.

    Parameters
    ----------
    lifetimes : customer_lifetimes output (customer_id, duration_months, churned).
    segments : customer_id, segment (e.g. value tier at acquisition). Customers without a segment are
        left out of the segment rows but kept in "All customers".
    arpa : segment -> ARPA in dollars (DEFINITIONS.md "Value"); "All customers" may be given too.
    margin : gross margin (0-1), one value or per segment.
    params : SurvivalParams (cap 60 months, tail, bootstrap).

    Returns
    -------
    One row per segment (in order of first appearance in `segments`), then "All customers", columns
    SURVIVAL_LTV_COLUMNS: customers, churned, observed_months (longest observed duration),
    expected_lifetime_months and its bootstrap interval lifetime_low / lifetime_high (percentiles of
    `n_boot` resamples of the segment's customers at `level`), arpa, gross_margin, predicted_ltv and
    ltv_low / ltv_high (= the lifetime bounds x ARPA x margin), extrapolated (the curve was continued
    past the observed months). NaN LTV when the segment has no ARPA.
    """
    for frame, name, cols in ((lifetimes, "lifetimes", ("customer_id", "duration_months", "churned")),
                              (segments, "segments", ("customer_id", "segment"))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SurvivalError(f"{name}: missing column(s) {', '.join(missing)}; see survival_ltv's docstring.")
    life = lifetimes[["customer_id", "duration_months", "churned"]].assign(
        customer_id=lifetimes["customer_id"].astype("str"))
    seg = segments[["customer_id", "segment"]].assign(customer_id=segments["customer_id"].astype("str"),
                                                      segment=segments["segment"].astype("str"))
    life = life.merge(seg.drop_duplicates("customer_id"), on="customer_id", how="left")
    order = [s for s in dict.fromkeys(seg["segment"]) if s in set(life["segment"].dropna())]
    groups = [(s, life[life["segment"] == s]) for s in order] + [(ALL_CUSTOMERS, life)]
    rng = np.random.default_rng(params.seed)
    alpha = (1 - params.level) / 2
    rows = []
    for name, g in groups:
        d = g["duration_months"].to_numpy(dtype="float64")
        e = g["churned"].to_numpy(dtype=bool)
        if len(d) == 0:
            continue
        months, extrapolated = expected_lifetime(d, e, params.horizon_months, params.tail_months)
        boot = [expected_lifetime(d[i], e[i], params.horizon_months, params.tail_months)[0]
                for i in (rng.integers(0, len(d), len(d)) for _ in range(params.n_boot))]
        low, high = (np.quantile(boot, [alpha, 1 - alpha]) if boot else (np.nan, np.nan))
        a = _lookup(arpa, name)
        m = _lookup(margin, name)
        rows.append({"segment": name, "customers": len(d), "churned": int(e.sum()),
                     "observed_months": int(d.max()), "expected_lifetime_months": months,
                     "lifetime_low": float(low), "lifetime_high": float(high), "arpa": a, "gross_margin": m,
                     "predicted_ltv": months * a * m, "ltv_low": float(low) * a * m, "ltv_high": float(high) * a * m,
                     "extrapolated": extrapolated})
    return pd.DataFrame(rows, columns=list(SURVIVAL_LTV_COLUMNS))
