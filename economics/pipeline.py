"""From workspace tables to segment economics: the one path the dashboard and the report command share.

It computes per-customer features with `segmentation`, labels them with a scheme at D, at the start of
each month of the churn window (DEFINITIONS.md "Segments over time") and at acquisition, gathers usage
and spend, and calls `economics.unit.segment_economics`. A scheme key may combine two schemes with "+"
("value_tier+channel": "SMB · Outbound sales"), which is how a sales-led segment is read.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from economics.assumptions import Assumptions, parse_assumptions
from economics.costs import customer_usage
from economics.ledger import add_months, last_complete_month
from economics.unit import EconomicsInputs, SegmentEconomics, segment_economics
from segmentation.definition import Definition
from segmentation.features import customer_features, feature_params
from segmentation.schemes import value_tier
from segmentation.transitions import CROSS_SEPARATOR, scheme_labels

__all__ = ["FeaturesAt", "scheme_label", "shared_inputs", "economics_inputs", "economics_for", "assumptions_of",
           "history_months", "CROSS_SEPARATOR"]

FeaturesAt = Callable[[date], pd.DataFrame]


def assumptions_of(defn: Definition) -> Assumptions:
    """The economics assumptions of a definition's [economics] table (defaults for keys left out)."""
    return parse_assumptions(defn.economics)


def scheme_label(features: pd.DataFrame, scheme: str, defn: Definition) -> pd.Series:
    """Labels of one scheme, or of two combined with "+", indexed 0..n-1 like `features`."""
    return scheme_labels(features.reset_index(drop=True), scheme, defn).astype("str")


def history_months(as_of: date, window_months: int, first_data_month: date | None) -> list[date]:
    """Month starts of the churn window (trailing complete months, not before the data's second month)."""
    last = last_complete_month(as_of)
    first = add_months(last, -(window_months - 1))
    if first_data_month is not None:
        first = max(first, add_months(first_data_month, 1))
    months, m = [], first
    while m <= last:
        months.append(m)
        m = add_months(m, 1)
    return months


def _frame(labels: pd.Series, features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": features["customer_id"].astype("str").to_numpy(),
                         "segment": labels.to_numpy()})


LabelsAt = Callable[[date, str], pd.Series]


class _Shared:
    """What every scheme's economics share at one as-of date: the ledger, first paid months, usage, spend.

    Computed once and reused across schemes (the report computes every scheme at the same date).
    """

    def __init__(self, tables: Mapping[str, ir.Table], as_of: date, defn: Definition, revenue_model: str,
                 a: Assumptions) -> None:
        self.tables, self.as_of, self.defn, self.revenue_model, self.a = tables, as_of, defn, revenue_model, a
        ledger = tables["ledger"].execute()
        ledger["month"] = pd.to_datetime(ledger["month"])
        ledger["customer_id"] = ledger["customer_id"].astype("str")
        self.ledger = ledger
        self.first_month = ledger["month"].min().date() if len(ledger) else None
        # First paid month (before D) and the value tier of 12 x its MRR, which keys the onboarding cost.
        paid = ledger[(ledger["mrr_cents"] > 0) & (ledger["month"] < pd.Timestamp(as_of))]
        first_paid = paid.sort_values("month", kind="stable").drop_duplicates("customer_id")[
            ["customer_id", "month", "mrr_cents"]]
        first_paid = first_paid.rename(columns={"month": "first_paid_month"})
        self.first_paid = first_paid
        self.months = history_months(as_of, a.churn_window_months, self.first_month)
        customers = tables["customers"]
        if "channel" in customers.columns:
            channels = customers.select("customer_id", "channel").execute()
            self.channels: pd.Series | None = pd.Series(channels["channel"].to_numpy(),
                                                        index=channels["customer_id"].astype("str"))
        else:
            self.channels = None
        self.usage = customer_usage(dict(tables), as_of, a.churn_window_months, a)
        self.spend = tables["spend"].execute() if "spend" in tables else None
        self.revenue = None
        if revenue_model == "transactional":
            self.revenue = tables["revenue"].select("customer_id", "date", "amount_cents").execute()


def _inputs(shared: _Shared, scheme: str, labels_at: LabelsAt, customer_ids_at: Callable[[date], pd.Series],
            defn: Definition | None = None) -> EconomicsInputs:
    """EconomicsInputs of one scheme; labels_at(d, scheme) gives labels aligned with customer_ids_at(d)."""
    as_of, months = shared.as_of, shared.months
    defn = defn or shared.defn
    frames: dict[date, pd.DataFrame] = {}

    def frame(d: date) -> pd.DataFrame:
        if d not in frames:
            # From Series, not numpy object arrays: pandas would re-infer (and re-encode) every string.
            frames[d] = pd.DataFrame({"customer_id": customer_ids_at(d).astype("str").reset_index(drop=True),
                                      "segment": labels_at(d, scheme).reset_index(drop=True)})
        return frames[d].copy()

    segment_at_d = frame(as_of)
    history = []
    for m in months:
        part = frame(m)
        part.insert(1, "month", pd.Timestamp(m))
        history.append(part)
    segment_history = (pd.concat(history, ignore_index=True) if history else
                       pd.DataFrame({"customer_id": [], "month": pd.Series(dtype="datetime64[ns]"), "segment": []}))

    # acquisition: first paid month, channel, segment and value tier at acquisition
    first_paid = shared.first_paid
    seg_at_acq = []
    for m in sorted({d.date() for d in first_paid["first_paid_month"]}):
        after = add_months(m, 1)
        if months and months[0] <= after <= add_months(months[-1], 1):
            ids = first_paid.loc[first_paid["first_paid_month"] == pd.Timestamp(m), "customer_id"]
            labelled = frame(after)
            seg_at_acq.append(labelled[labelled["customer_id"].isin(set(ids))])
    acquisition = first_paid.drop(columns="mrr_cents")
    mrr = first_paid["mrr_cents"].to_numpy(dtype="float64") / 100  # value tier of 12 x the first paid MRR
    acquisition["value_tier"] = value_tier(pd.DataFrame({"mrr": mrr, "arr": 12 * mrr}), defn).astype(
        "str").to_numpy()
    by_acq = pd.concat(seg_at_acq, ignore_index=True) if seg_at_acq else pd.DataFrame(columns=["customer_id", "segment"])
    acquisition = acquisition.merge(by_acq, on="customer_id", how="left")
    acquisition["segment"] = acquisition["segment"].fillna(
        acquisition["customer_id"].map(segment_at_d.set_index("customer_id")["segment"]))
    if shared.channels is not None:
        acquisition["channel"] = acquisition["customer_id"].map(shared.channels)
    else:
        acquisition["channel"] = np.nan
    a = shared.a
    return EconomicsInputs(
        ledger=shared.ledger, segment_at_d=segment_at_d, segment_history=segment_history,
        acquisition=acquisition[["customer_id", "first_paid_month", "channel", "segment", "value_tier"]],
        usage=shared.usage, window_months=a.churn_window_months, spend=shared.spend, as_of=as_of,
        revenue_model=shared.revenue_model, revenue=shared.revenue)


def shared_inputs(tables: Mapping[str, ir.Table], as_of: date, defn: Definition,
                  revenue_model: str = "subscription") -> _Shared:
    """The scheme-independent inputs at one date (ledger, first payments, usage, spend), to reuse across
    schemes and threshold changes: they depend only on the data and the assumptions."""
    return _Shared(tables, as_of, defn, revenue_model, assumptions_of(defn))


def economics_inputs(tables: Mapping[str, ir.Table], as_of: date, scheme: str, defn: Definition,
                     revenue_model: str = "subscription", features_at: FeaturesAt | None = None,
                     assumptions: Assumptions | None = None, shared: _Shared | None = None) -> EconomicsInputs:
    """Everything `segment_economics` needs, from the workspace's ibis tables.

    features_at(d) returns customer features as of d (pass a cached function from the app); by default
    they are computed. Segment at acquisition = the label as of the first day of the month after the
    first paid month (the first month-end at which the customer pays); value tier at acquisition = the
    value tier of 12 x the first paid month's MRR, which keys the onboarding cost.
    """
    a = assumptions or assumptions_of(defn)
    params = feature_params(defn)
    cache: dict[date, pd.DataFrame] = {}

    def feats(d: date) -> pd.DataFrame:
        if d not in cache:
            cache[d] = (features_at(d) if features_at else customer_features(tables, d, params, revenue_model))
        return cache[d]

    shared = shared or _Shared(tables, as_of, defn, revenue_model, a)
    return _inputs(shared, scheme, lambda d, s: scheme_label(feats(d), s, defn),
                   lambda d: feats(d)["customer_id"], defn)


def economics_for(tables: Mapping[str, ir.Table], as_of: date, scheme: str, defn: Definition,
                  revenue_model: str = "subscription", features_at: FeaturesAt | None = None,
                  shared: _Shared | None = None) -> SegmentEconomics:
    """Segment economics of `scheme` as of `as_of`, with the definition's assumptions."""
    a = assumptions_of(defn)
    return segment_economics(economics_inputs(tables, as_of, scheme, defn, revenue_model, features_at, a, shared), a)
