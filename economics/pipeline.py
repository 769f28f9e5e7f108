"""From workspace tables to segment economics: the one path the dashboard and the report command share.

It computes per-customer features with `segmentation`, labels them with a scheme at D, at the start of
each month of the churn window (DEFINITIONS.md "Segments over time") and at acquisition, gathers usage
and spend, and calls `economics.unit.segment_economics`. A scheme key may combine two schemes with "+"
("value_tier+channel": "SMB · Outbound sales"), which is how a sales-led segment is read.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date
from typing import Any

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd
import pyarrow as pa
from pandas.api.types import union_categoricals

from economics.assumptions import Assumptions, parse_assumptions
from economics.costs import priced_usage, usage_scan
from economics.ledger import add_months, churn_window, first_churn_month, last_complete_month, month_range
from economics.unit import (UNLABELLED, EconomicsInputs, SegmentEconomics, attribute_cac, encode_ids,
                           ledger_customers, segment_economics)
from segmentation.definition import Definition, default_definition, with_updates
from segmentation.features import customer_features, feature_params, fetch
from segmentation.schemes import value_tier
from segmentation.transitions import CROSS_SEPARATOR, scheme_labels

__all__ = ["for_data", "data_defaults", "default_definition_for", "FeaturesAt", "scheme_label", "shared_inputs",
           "economics_inputs", "repriced", "economics_for", "assumptions_of", "history_months", "label_dates",
           "CROSS_SEPARATOR"]

FeaturesAt = Callable[[date], pd.DataFrame]


def data_defaults(defn: Definition, meta: Mapping[str, str]) -> dict[str, Any]:
    """The [economics] keys a workspace's data (its load meta) decides while a definition leaves them out.

    - On a CRM snapshot, churn is pooled over one month: the snapshot records churn only in its own month
      (customers who left earlier are not in it), so a 12-month pool would divide that month's churners by
      12 months of survivors' exposure (Telco: 2.7% a month instead of the 26.5% who left in the snapshot
      month).
    - On order data (transactional revenue) nobody is onboarded: the SaaS defaults charged 1,500 for each
      customer whose first month's orders came to an SMB tier's annual revenue (Online Retail: "Self-serve
      drains margin" on onboarding alone, with Self-serve's own onboarding at 0).
    """
    out: dict[str, Any] = {}
    if meta.get("revenue_shape") == "snapshot":
        out["churn_window_months"] = 1
    if meta.get("revenue_model") == "transactional":
        out["onboarding_cost"] = {band.label: 0 for band in defn.value_tier.bands}
    return out


def for_data(defn: Definition, meta: Mapping[str, str]) -> Definition:
    """`defn` for a workspace's data (its load meta): `data_defaults` for the keys it leaves out; a key the
    definition sets keeps its value."""
    missing = {k: v for k, v in data_defaults(defn, meta).items() if k not in defn.economics}
    return with_updates(defn, economics=missing) if missing else defn


def default_definition_for(meta: Mapping[str, str]) -> Definition:
    """The default definition for a workspace's data (its load meta): `for_data` of the shipped default."""
    return for_data(default_definition(), meta)


def assumptions_of(defn: Definition) -> Assumptions:
    """The economics assumptions of a definition's [economics] table (defaults for keys left out)."""
    return parse_assumptions(defn.economics)


def scheme_label(features: pd.DataFrame, scheme: str, defn: Definition) -> pd.Series:
    """Labels of one scheme, or of two combined with "+", indexed 0..n-1 like `features`."""
    return scheme_labels(features.reset_index(drop=True), scheme, defn).astype("str")


def history_months(as_of: date, window_months: int, first_churn: date | None) -> list[date]:
    """Month starts of the churn window (economics.ledger.churn_window): trailing complete months, not before
    `first_churn`, the first month churn can be observed in (economics.ledger.first_churn_month)."""
    return month_range(*churn_window(as_of, window_months, first_churn))


def label_dates(months: list[date]) -> list[date]:
    """The dates whose labels segment economics reads besides D, for the churn window's month starts
    (history_months): each month start, and the month after the last one (segment at acquisition)."""
    return [*months, add_months(months[-1], 1)] if months else []


def _frame(labels: pd.Series, features: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": features["customer_id"].astype("str").to_numpy(),
                         "segment": labels.to_numpy()})


LabelsAt = Callable[[date, str], pd.Series]


class _Shared:
    """What every scheme's economics share at one as-of date: the ledger, first paid months, usage, spend.

    Computed once and reused across schemes (the report computes every scheme at the same date) and across
    threshold changes (the app caches it).
    """

    def __init__(self, tables: Mapping[str, ir.Table], as_of: date, defn: Definition, revenue_model: str,
                 a: Assumptions) -> None:
        self.tables, self.as_of, self.defn, self.revenue_model, self.a = tables, as_of, defn, revenue_model, a
        ledger = fetch(tables["ledger"])
        ledger["month"] = pd.to_datetime(ledger["month"])
        ledger["customer_id"] = ledger["customer_id"].astype("str")
        self.ledger = ledger
        self.first_month = ledger["month"].min().date() if len(ledger) else None
        # First paid month (before D), its MRR (the value tier of 12 x it keys the onboarding cost) and
        # the customer's channel, by the engine; in order of first paid month, then customer id.
        lg = tables["ledger"]
        # Complete months only, as the features read them: a customer first paying in a month still running
        # at D is acquired next month.
        paid = lg.filter((lg.mrr_cents > 0) & (lg.month <= ibis.literal(last_complete_month(as_of))))
        first = paid.group_by("customer_id").aggregate(first_paid_month=paid.month.min(),
                                                        mrr_cents=paid.mrr_cents.argmin(paid.month))
        customers = tables["customers"]
        if "channel" in customers.columns:
            channels = customers.select(_id=customers.customer_id.cast("string"), channel=customers.channel)
            first = first.left_join(channels, first.customer_id.cast("string") == channels._id).drop("_id")
        else:
            first = first.mutate(channel=ibis.null("string"))
        first_paid = fetch(first.order_by(["first_paid_month", "customer_id"]))
        first_paid["customer_id"] = first_paid["customer_id"].astype("str")
        first_paid["first_paid_month"] = pd.to_datetime(first_paid["first_paid_month"])
        self.first_paid = first_paid[["customer_id", "first_paid_month", "mrr_cents", "channel"]]
        self.months = history_months(as_of, a.churn_window_months, self.first_month and first_churn_month(
            self.first_month, revenue_model, a.inactivity_days))
        # Segment at acquisition: the label at the first day of the month after the first paid month,
        # for those months inside the churn window (and the month after it); else the label at D.
        after = {m: add_months(m.date(), 1) for m in pd.DatetimeIndex(first_paid["first_paid_month"]).unique()}
        labelled = label_dates(self.months)
        window = (labelled[0], labelled[-1]) if labelled else None
        self.acquired_after = {m: d for m, d in after.items() if window and window[0] <= d <= window[1]}
        # Usage before the support rates (priced per call: an assumption edit needs no rescan).
        # Seats are counted only for a seat cost (a distinct count of users: most of the events scan).
        self.seats = a.prices_seats
        self.usage_scan = usage_scan(dict(tables), as_of, a.churn_window_months, seats=self.seats)
        self.spend = fetch(tables["spend"]) if "spend" in tables else None
        self._codes_memo: tuple | None = None
        self._priced_memo: tuple | None = None   # priced_usage
        self._tier_memos: dict[str, tuple] = {}   # _by_value_tiers
        self.revenue = None
        if revenue_model == "transactional":
            self.revenue = fetch(tables["revenue"].select("customer_id", "date", "amount_cents"))

    def customer_codes(self, dates: list[date], customer_ids_at: Callable[[date], pd.Series]):
        """The customer ids at each date (strings, indexed 0..n-1); the codes of the first paid customers,
        of the usage rows and of each date's ids, in the code space segment_economics uses (encode_ids after
        the ledger's customers: EconomicsInputs.customer_codes); the dtype of the ids as a categorical of the
        codes; and, per date that labels first paid customers, their rows and their rows in that date's ids.
        Memoised for the id columns last given, when customer_ids_at returns the very same objects (the
        report's does, for every scheme: one factorize instead of one per scheme)."""
        given = [customer_ids_at(d) for d in dates]
        memo = self._codes_memo  # read once: the app's sessions share this object across threads
        if memo is not None and memo[0] == dates and all(a is b for a, b in zip(memo[1], given)):
            return memo[2]
        ids = {d: g.astype("str").reset_index(drop=True) for d, g in zip(dates, given)}
        (_, fp_codes, usage_codes, *date_codes), uniques = encode_ids(
            ledger_customers(self.ledger), self.first_paid["customer_id"], self.usage_scan["customer_id"],
            *ids.values())
        # The dtype of the ids as a categorical of the codes (its categories checked once, not per scheme).
        dtype = pd.CategoricalDtype(uniques.astype("str"))
        position = dict(zip(dates, date_codes))
        # The first paid customers' rows at each date that labels them (D, and the month after the first
        # paid month inside the churn window), and their rows in that date's ids: the same for every scheme.
        labelled_at = [(self.as_of, np.arange(len(self.first_paid)))] + [
            (after, np.flatnonzero((self.first_paid["first_paid_month"] == m).to_numpy()))
            for m, after in self.acquired_after.items()]
        acquisition_rows = []
        for d, rows in labelled_at:
            at = np.full(len(uniques), -1, dtype="int64")
            at[position[d]] = np.arange(len(position[d]))
            found = at[fp_codes[rows]]
            acquisition_rows.append((d, rows[found >= 0], found[found >= 0]))
        # The segment history's customers, month after month, as codes: the same array for every scheme.
        history_codes = np.concatenate([position[m] for m in self.months]) if self.months \
            else np.array([], dtype="int64")
        result = (ids, fp_codes, usage_codes, position, dtype, acquisition_rows, history_codes)
        self._codes_memo = (list(dates), given, result)
        return result

    def priced_usage(self, a: Assumptions) -> pd.DataFrame:
        """The usage priced with the assumptions' support rates: the same frame for every scheme until the
        rates change (economics_base checks it is the very same usage)."""
        key = (a.support_cost_per_minute, a.support_team_monthly_cost)
        memo = self._priced_memo  # read once: the app's sessions share this object across threads
        if memo is None or memo[0] != key:
            memo = (key, priced_usage(self.usage_scan, a))
            self._priced_memo = memo
        return memo[1]

    def _by_value_tiers(self, name: str, defn: Definition, compute: Callable[[], object]):
        """`compute()`, once per value-tier definition (what depends on the value tiers, never on a
        scheme's segments). The memo is read once: the app's sessions share this object across threads."""
        key = repr(defn.value_tier)
        memo = self._tier_memos.get(name)
        if memo is None or memo[0] != key:
            memo = (key, compute())
            self._tier_memos[name] = memo
        return memo[1]

    def acquisition_tiers(self, defn: Definition) -> pd.api.extensions.ExtensionArray:
        """The value tier of 12 x each first paid month's MRR (it keys the onboarding cost), row for row
        with first_paid."""
        def tiers():
            mrr = self.first_paid["mrr_cents"].to_numpy(dtype="float64") / 100
            return value_tier(pd.DataFrame({"mrr": mrr, "arr": 12 * mrr}), defn).astype("str").array
        return self._by_value_tiers("tiers", defn, tiers)

    def cac(self, acquisition: pd.DataFrame, defn: Definition) -> tuple[pd.DataFrame | None, tuple | None]:
        """CAC per new customer of the churn window with each one's segment at acquisition (as
        segment_economics computes it), and the window. `acquisition`: this object's first payments, with
        channel, segment and value tier at acquisition. Spend is attributed once per value-tier
        definition, not once per scheme: attribution reads the first payments, channels and value tiers,
        never the scheme's segments."""
        if not self.months:
            return None, None
        window = (self.months[0], self.months[-1])

        def attributed():
            cac = attribute_cac(acquisition.drop(columns="segment"), self.spend, *window)
            return cac, pd.Index(acquisition["customer_id"]).get_indexer(cac["customer_id"])
        cac, rows = self._by_value_tiers("cac", defn, attributed)
        # The labels as stored (Arrow strings: no Python string per customer).
        segment = acquisition["segment"].take(rows).fillna(UNLABELLED)
        return cac.assign(segment=segment.array), window


def _labels(parts: list[pd.Series]) -> pd.Series:
    """Label columns of several dates end to end; categorical ones stay categorical (no string copies)."""
    if parts and all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
        return pd.Series(union_categoricals([p.array for p in parts], ignore_order=True))
    return pd.concat([p.astype("str").reset_index(drop=True) for p in parts], ignore_index=True) if parts \
        else pd.Series([], dtype="str")


def _labels_at_rows(n: int, parts: list[tuple[pd.Series, np.ndarray, np.ndarray]]
                    ) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """n labels (missing where no part gives one): each part's labels at its rows `found`, put at its
    `rows`. As a column, the same as the strings themselves give; categorical labels go by their codes
    straight into Arrow strings (no Python string per customer: about 10 ms a scheme at 100k customers)."""
    fast = parts and all(isinstance(p.dtype, pd.CategoricalDtype)
                         and all(isinstance(c, str) for c in p.cat.categories) for p, _, _ in parts)
    if not fast:
        segment = np.full(n, None, dtype=object)
        for labels, rows, found in parts:
            segment[rows] = labels.take(found).astype("object").to_numpy()
        return segment
    names = pd.Index(pd.unique(np.concatenate([np.asarray(p.cat.categories, dtype=object) for p, _, _ in parts])))
    codes = np.full(n, -1, dtype="int32")
    for labels, rows, found in parts:
        own = labels.cat.codes.to_numpy()[found]
        codes[rows] = np.where(own >= 0, names.get_indexer(labels.cat.categories)[own], -1)
    if not (codes >= 0).any():   # no label at all: a column of missing values, as the strings give it
        return np.full(n, None, dtype=object)
    text = pa.DictionaryArray.from_arrays(pa.array(codes, mask=codes < 0),
                                          pa.array(list(names), pa.large_string())).cast(pa.large_string())
    return pd.array(text, dtype="str")


def _inputs(shared: _Shared, scheme: str, labels_at: LabelsAt, customer_ids_at: Callable[[date], pd.Series],
            defn: Definition | None = None) -> EconomicsInputs:
    """EconomicsInputs of one scheme; labels_at(d, scheme) gives labels aligned with customer_ids_at(d)."""
    as_of, months = shared.as_of, shared.months
    defn = defn or shared.defn
    dates = sorted({as_of, *months, *shared.acquired_after.values()})
    ids, fp_codes, usage_codes, position, id_dtype, acquisition_rows, history_codes = shared.customer_codes(
        dates, customer_ids_at)
    labels = {d: labels_at(d, scheme).reset_index(drop=True) for d in dates}

    acquisition = shared.first_paid.drop(columns="mrr_cents")

    segment_at_d = pd.DataFrame({"customer_id": ids[as_of], "segment": labels[as_of]})
    # The history's ids as a categorical over the codes just computed: segment_economics then hashes
    # each customer once, not once per month.
    segment_history = pd.DataFrame({
        "customer_id": pd.Categorical.from_codes(history_codes, dtype=id_dtype),
        "month": np.repeat(np.array([pd.Timestamp(m) for m in months], dtype="datetime64[us]"),
                           [len(ids[m]) for m in months]),
        "segment": _labels([labels[m] for m in months])})

    # acquisition: first paid month, channel, segment and value tier at acquisition (the label at D, then
    # at the month after the first paid month where the churn window has it)
    acquisition["segment"] = _labels_at_rows(len(acquisition), [(labels[d], rows, found)
                                                                for d, rows, found in acquisition_rows])
    acquisition["value_tier"] = shared.acquisition_tiers(defn)
    a = assumptions_of(defn)
    if a.churn_window_months != shared.a.churn_window_months:
        raise ValueError("economics: the shared inputs were computed for a churn window of "
                         f"{shared.a.churn_window_months} months, not {a.churn_window_months}; compute them again.")
    _check_seats(shared, a)
    acquisition = acquisition[["customer_id", "first_paid_month", "channel", "segment", "value_tier"]]
    cac, cac_window = shared.cac(acquisition, defn)
    return EconomicsInputs(
        ledger=shared.ledger, segment_at_d=segment_at_d, segment_history=segment_history,
        acquisition=acquisition, cac=cac, cac_window=cac_window,
        usage=shared.priced_usage(a), window_months=a.churn_window_months, spend=shared.spend,
        as_of=as_of, revenue_model=shared.revenue_model, revenue=shared.revenue,
        # The ids as codes of the shared code space (the usage priced keeps the scan's rows in order).
        customer_codes={"segment_at_d": position[as_of], "segment_history": history_codes,
                        "acquisition": fp_codes, "usage": usage_codes})


def _check_seats(shared: _Shared, a: Assumptions) -> None:
    if a.prices_seats and not shared.seats:
        raise ValueError("economics: the shared inputs were computed without seats (a seat cost of 0), and the "
                         f"assumptions now price seats at {a.infra_cost_per_seat}; compute them again.")


def shared_inputs(tables: Mapping[str, ir.Table], as_of: date, defn: Definition,
                  revenue_model: str = "subscription") -> _Shared:
    """The scheme-independent inputs at one date (ledger, first payments, usage, spend), to reuse across
    schemes, threshold and assumption changes: they depend only on the data, the churn window and whether
    seats have a cost (seats are counted only then)."""
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
    return _inputs(shared, scheme, lambda d, s: scheme_labels(feats(d).reset_index(drop=True), s, defn),
                   lambda d: feats(d)["customer_id"], defn)


def repriced(inputs: EconomicsInputs, shared: _Shared, a: Assumptions) -> EconomicsInputs:
    """The same inputs under other cost assumptions (same churn window): only the support cost in the
    usage depends on them; segment_economics applies the rest (margin, costs, thresholds) itself."""
    if a.churn_window_months != inputs.window_months:
        raise ValueError("repriced: the churn window changed; compute the inputs again.")
    _check_seats(shared, a)
    return replace(inputs, usage=shared.priced_usage(a))


def economics_for(tables: Mapping[str, ir.Table], as_of: date, scheme: str, defn: Definition,
                  revenue_model: str = "subscription", features_at: FeaturesAt | None = None,
                  shared: _Shared | None = None, symbol: str = "") -> SegmentEconomics:
    """Segment economics of `scheme` as of `as_of`, with the definition's assumptions (`symbol`: the data's
    currency symbol, for the verdict rules)."""
    a = assumptions_of(defn)
    return segment_economics(economics_inputs(tables, as_of, scheme, defn, revenue_model, features_at, a, shared), a,
                             symbol=symbol)
