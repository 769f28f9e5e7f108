"""Segmentation schemes: each a function (features, definition[, reference]) -> one label per customer.

Labels are mutually exclusive and exhaustive: a customer lacking a scheme's inputs gets an explicit
label ("No usage data", "No activity", "Unknown size", "Not stated", "Unattributed" for a missing channel,
"Unknown") instead of vanishing.
Bands are [lower, upper) (DEFINITIONS.md "Segments over time"). Each function returns a categorical
Series indexed like the features, whose categories are `segment_order(scheme, defn)` so every chart
orders and colours segments the same way.

Percentile-based schemes (behavior, health, RFM) and the learned ICP profile rank customers against a
`Reference`: the distributions at a reference date. By default that is the features frame itself; for
transitions it is the first date's, so cut-offs stay fixed (DEFINITIONS.md "Transitions").
Labelling is vectorised numpy (comparisons with band edges, hash lookups among a reference's distinct
values, categorical codes); text columns are hashed once and handled as codes, never converted row by row.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from segmentation.definition import RFM_CODES, Band, Definition
from segmentation.features import USER_COLUMNS
from segmentation.rules import evaluate_rules, named_columns

__all__ = [
    "Reference", "Distribution", "reference_of", "value_tier", "behavior", "lifecycle", "health_score", "health_band",
    "health_components", "HEALTH_COMPONENTS",
    "rfm_scores", "rfm_segment", "size_band", "icp_fit", "learn_icp_profile", "goal", "custom", "attribute",
    "label_all", "available_schemes", "attribute_schemes", "attribute_candidates", "segment_order", "in_segment_order", "SCHEMES", "ATTRIBUTE_SCHEMES", "NO_USAGE", "UNKNOWN",
    "UNATTRIBUTED",
    "NOT_STATED", "behavior_measure", "REVENUE_ONLY_SCHEMES", "reads_activity", "reads_recency", "reads_users",
    "scheme_name",
]

NO_USAGE = "No usage data"
UNKNOWN = "Unknown"
UNATTRIBUTED = "Unattributed"   # a customer without an acquisition channel (DEFINITIONS.md "CAC")
NOT_STATED = "Not stated"
ATTRIBUTE_SCHEMES: tuple[str, ...] = ("industry", "plan", "channel", "country")
# Schemes whose labels read only revenue, tenure and customer attributes (mrr, arr, tenure_days, churned,
# employees, the attribute columns): features for them may skip the activity scans (see reads_activity).
REVENUE_ONLY_SCHEMES: frozenset[str] = frozenset({"value_tier", "lifecycle", "size_band", *ATTRIBUTE_SCHEMES})
_SCHEME_NAMES = {
    "value_tier": "Value tier (ARR)", "behavior": "Behaviour", "lifecycle": "Lifecycle (tenure)",
    "health_band": "Health score band", "rfm_segment": "RFM segment", "size_band": "Company size",
    "goal": "Stated goal", "custom": "Custom rules", "industry": "Industry", "plan": "Plan",
    "channel": "Acquisition channel", "country": "Country", "value_tier+channel": "Value tier x channel",
}
BEHAVIOR_ORDER: tuple[str, ...] = ("Power", "Active", "Light", "Dormant", "New", NO_USAGE)
_BEHAVIOR_MEASURES: tuple[str, ...] = ("active_days_30d", "events_30d", "frequency")


# ---------------------------------------------------------------------------------------------
# helpers

def _float(features: pd.DataFrame, col: str) -> np.ndarray:
    if col not in features.columns:
        return np.full(len(features), np.nan)
    values = features[col]
    if values.dtype == np.float64:   # the usual case: no conversion (a read-only view under copy-on-write)
        return values.to_numpy()
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _code_type(n: int) -> type:
    """The integer type of categorical codes for n categories (16 bits, unless an attribute has more values)."""
    return np.int16 if n <= np.iinfo(np.int16).max else np.int32


def _categorical(codes: np.ndarray, order: list[str], index: pd.Index) -> pd.Series:
    return pd.Series(pd.Categorical.from_codes(codes.astype(_code_type(len(order)), copy=False), categories=order),
                     index=index)


def _band_index(values: np.ndarray, bands: tuple[Band, ...]) -> np.ndarray:
    """Index of the band [lower, upper) holding each value (values below the first edge go to band 0,
    NaN past the last edge).

    Counting the edges at or below each value: with a handful of edges that is several times faster than
    np.searchsorted, and equal to searchsorted(edges, values, side="right").
    """
    index = np.zeros(len(values), dtype=np.intp)
    for b in bands[1:]:
        index += ~(values < b.lower)
    return index


@dataclass(frozen=True, eq=False)
class Distribution:
    """A reference distribution: its distinct sorted values and how many reference values lie below each.

    Ranking a value against it is a hash lookup of that value among the distinct values (a binary search
    for a value the reference lacks), which keeps relabelling a million customers fast.
    """

    values: np.ndarray          # distinct values, ascending
    cum: np.ndarray             # cum[i] = number of reference values < values[i]; cum[-1] = n

    @classmethod
    def of(cls, x: np.ndarray) -> "Distribution":
        # Counting by hash and sorting only the distinct values beats sorting every value (np.unique).
        codes, uniques = pd.factorize(x[~np.isnan(x)])
        counts = np.bincount(codes, minlength=len(uniques))
        order = np.argsort(uniques)
        return cls(uniques[order], np.concatenate([[0], np.cumsum(counts[order])]).astype(np.int64))

    @property
    def n(self) -> int:
        return int(self.cum[-1])

    def sorted_values(self) -> np.ndarray:
        return np.repeat(self.values, np.diff(self.cum))

    def below_and_ties(self, v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each value: reference values strictly below it, and reference values equal to it."""
        if len(self.values) == 0:
            zeros = np.zeros(len(v), dtype=np.int64)
            return zeros, zeros
        i = pd.Index(self.values, copy=False).get_indexer(v)    # position of the equal value, -1 if none
        counts = np.diff(self.cum, append=self.cum[-1])         # count of each value, then a 0 that i = -1 reads
        ties = counts[i]
        absent = np.flatnonzero(i < 0)                          # not in the reference (or NaN): insertion point
        i[absent] = np.searchsorted(self.values, v[absent], side="left")
        return self.cum[i], ties


_EMPTY = Distribution(np.empty(0), np.zeros(1, dtype=np.int64))


def behavior_measure(features: pd.DataFrame) -> str | None:
    """The usage measure behavior and health rank by: active_days_30d, else events_30d, else frequency.

    A column counts as present when it exists and holds at least one value (an events table was loaded).
    """
    for col in _BEHAVIOR_MEASURES:
        if col in features.columns and features[col].notna().any():
            return col
    return None


def _support_measure(features: pd.DataFrame) -> str | None:
    for col in ("support_minutes_90d", "tickets_90d"):
        if col in features.columns and features[col].notna().any():
            return col
    return None


# ---------------------------------------------------------------------------------------------
# reference distributions (cut-offs)

@dataclass(frozen=True, eq=False)
class Reference:
    """Distributions that fix the percentile cut-offs, taken at the reference date.

    behavior_column / behavior_values: the usage measure and its sorted values among the customers
    behavior ranks (not New, not Dormant, active).
    health_columns / health: component -> column, and its Distribution over all customers with a value.
    rfm_recency / rfm_frequency / rfm_monetary: Distributions among customers with an active day.
    icp_profile: attribute -> ideal values (given in the definition or learned at the reference date).
    """

    behavior_column: str | None
    behavior_values: np.ndarray
    health_columns: dict[str, str | None] = field(default_factory=dict)
    health: dict[str, Distribution] = field(default_factory=dict)
    rfm_recency: Distribution = _EMPTY
    rfm_frequency: Distribution = _EMPTY
    rfm_monetary: Distribution = _EMPTY
    icp_profile: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def cutoffs(self, defn: Definition) -> dict[str, float]:
        """Behavior cut-off values: Power when the measure > power_above, Light when <= light_at_most.

        Power = share of reference values strictly below >= 1 - top%: with K = ceil((100 - top%) x n / 100)
        that is "more than the K-th smallest reference value". Light = share below < bottom%: with
        L = ceil(bottom% x n / 100), "at most the L-th smallest". (inf / -inf: nobody.)
        """
        ref = self.behavior_values
        n = len(ref)
        top, bottom = defn.behavior.power_top_pct, defn.behavior.light_bottom_pct
        k = math.ceil((100.0 - top) * n / 100.0 - 1e-9)
        light_n = math.ceil(bottom * n / 100.0 - 1e-9)
        power_above = math.inf if (n == 0 or top <= 0) else (-math.inf if k <= 0 else float(ref[min(k, n) - 1]))
        light_at_most = -math.inf if (n == 0 or light_n <= 0) else float(ref[min(light_n, n) - 1])
        return {"power_above": power_above, "light_at_most": light_at_most}


def _behavior_masks(features: pd.DataFrame, defn: Definition, measure: str | None):
    p = defn.behavior
    tenure = _float(features, "tenure_days")
    recency = _float(features, "recency_days")
    m = _float(features, measure) if measure else np.full(len(features), np.nan)
    new = tenure < p.new_days
    no_data = ~new & (np.isnan(recency) | np.isnan(m))
    dormant = ~new & ~no_data & (recency >= p.dormant_days)
    rest = ~new & ~no_data & ~dormant
    return new, no_data, dormant, rest, m


def reference_of(features: pd.DataFrame, defn: Definition) -> Reference:
    """The reference distributions of a features frame (cut-offs of the percentile-based schemes)."""
    measure = behavior_measure(features)
    _, _, _, rest, m = _behavior_masks(features, defn, measure)
    support = _support_measure(features)
    health_cols = {"usage": measure, "recency": "recency_days", "trend": "usage_trend", "support": support}
    health = {k: (Distribution.of(_float(features, c)) if c else _EMPTY) for k, c in health_cols.items()}
    freq, rec, mon = _float(features, "frequency"), _float(features, "recency_days"), _float(features, "monetary")
    active = (freq > 0) & ~np.isnan(rec)
    return Reference(
        behavior_column=measure, behavior_values=np.sort(m[rest]),
        health_columns=health_cols, health=health,
        rfm_recency=Distribution.of(rec[active]), rfm_frequency=Distribution.of(freq[active]),
        rfm_monetary=Distribution.of(np.nan_to_num(mon[active], nan=0.0)),
        icp_profile=learn_icp_profile(features, defn),
    )


# ---------------------------------------------------------------------------------------------
# schemes

def value_tier(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Value tier by ARR (dollars): the [lower, upper) band of [value_tier] bands.

    Precedence: customers with no MRR at D (mrr <= 0 or missing) are "Not paying"; the rest by arr band.
    """
    vt = defn.value_tier
    order = segment_order("value_tier", defn)
    arr, mrr = _float(features, "arr"), _float(features, "mrr")
    band = _band_index(arr, vt.bands)
    pos = {b.label: order.index(b.label) for b in vt.bands}
    lut = np.array([pos[b.label] for b in vt.bands], dtype=np.int16)
    codes = lut[np.minimum(band, len(vt.bands) - 1)]
    not_paying = ~(mrr > 0) | np.isnan(arr)
    codes = np.where(not_paying, order.index(vt.not_paying_label), codes)
    return _categorical(codes, order, features.index)


def behavior(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Behaviour segment. Precedence (first match wins):

    1. New: tenure_days < new_days.
    2. No usage data: never active before D (recency_days missing) or no usage measure.
    3. Dormant: recency_days >= dormant_days (no activity for that many days).
    4. The rest ranked by the usage measure (active_days_30d; events_30d, then frequency, when the data
       has no such column) against the reference: share_below = share of reference customers with a
       strictly lower value (ties share the lower rank). Power: share_below >= 1 - power_top_pct/100;
       Light: share_below < light_bottom_pct/100; Active otherwise.
    """
    if reference is None:  # only the behaviour cut-offs are needed: skip the other distributions
        measure = behavior_measure(features)
        new, no_data, dormant, rest, m = _behavior_masks(features, defn, measure)
        ref = Reference(behavior_column=measure, behavior_values=np.sort(m[rest]))
    else:
        ref = reference
        measure = ref.behavior_column if ref.behavior_column is not None else behavior_measure(features)
        new, no_data, dormant, rest, m = _behavior_masks(features, defn, measure)
    # Equivalent to ranking by share below (see Reference.cutoffs), as two comparisons.
    cut = ref.cutoffs(defn)
    power = rest & (m > cut["power_above"])
    light = rest & ~power & (m <= cut["light_at_most"])
    codes = np.full(len(features), BEHAVIOR_ORDER.index("Active"), dtype=np.int16)
    codes[power] = BEHAVIOR_ORDER.index("Power")
    codes[light] = BEHAVIOR_ORDER.index("Light")
    codes[dormant] = BEHAVIOR_ORDER.index("Dormant")
    codes[no_data] = BEHAVIOR_ORDER.index(NO_USAGE)
    codes[new] = BEHAVIOR_ORDER.index("New")
    return _categorical(codes, list(BEHAVIOR_ORDER), features.index)


def lifecycle(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Lifecycle stage by tenure_days bands; precedence: churned customers are Lapsed; missing tenure Unknown."""
    lc = defn.lifecycle
    order = segment_order("lifecycle", defn)
    tenure = _float(features, "tenure_days")
    codes = np.minimum(_band_index(tenure, lc.bands), len(lc.bands) - 1).astype(np.int16)
    codes = np.where(np.isnan(tenure), order.index(UNKNOWN), codes)
    if "churned" in features.columns:
        churned = features["churned"].to_numpy(dtype=bool, na_value=False)
        codes = np.where(churned, order.index(lc.lapsed_label), codes)
    return _categorical(codes, order, features.index)


def _percentile_rank(ref: Distribution, values: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """0-100 percentile rank against the reference: (customers worse + half the customers tied) / n.

    The usual percentile rank (ties split evenly), so a large tied group (e.g. everyone with no tickets)
    sits in the middle of its range rather than at an end.
    """
    n = ref.n
    out = np.full(len(values), np.nan)
    if n == 0:
        return out
    ok = ~np.isnan(values)
    below, ties = ref.below_and_ties(values[ok])
    worse_twice = 2 * below + ties if higher_is_better else 2 * (n - below - ties) + ties
    out[ok] = 100.0 * worse_twice / (2 * n)
    return out


HEALTH_COMPONENTS: tuple[str, ...] = ("usage", "recency", "trend", "support", "nps")


def health_inputs_without_data(features: pd.DataFrame) -> list[str]:
    """The health components (HEALTH_COMPONENTS) whose input no customer has (no events: no usage trend; no
    tickets: no support load; no NPS answers): every customer's score re-weights them away."""
    inputs = {"usage": behavior_measure(features), "recency": "recency_days", "trend": "usage_trend",
              "support": _support_measure(features), "nps": "nps_latest"}
    return [comp for comp in HEALTH_COMPONENTS
            if not inputs[comp] or inputs[comp] not in features.columns or not features[inputs[comp]].notna().any()]


def health_components(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.DataFrame:
    """The 0-100 score of each health component per customer (NaN when its input is missing): the part of
    the health score that does not depend on the weights, so a weights edit re-weights these instead of
    ranking every customer again (pass them to `health_score`).

    usage, recency (fewer days better), trend, support (support_minutes_90d, else tickets_90d; less is
    better): percentile rank among the reference customers with a value (share worse plus half the share
    tied); nps = latest score x 10. Columns: HEALTH_COMPONENTS, indexed like `features`.
    """
    ref = reference if reference is not None else reference_of(features, defn)
    parts = {
        "usage": (ref.health_columns.get("usage"), True),
        "recency": ("recency_days", False),
        "trend": ("usage_trend", True),
        "support": (ref.health_columns.get("support"), False),
    }
    out = {comp: (_percentile_rank(ref.health.get(comp, _EMPTY), _float(features, col), higher) if col
                  else np.full(len(features), np.nan))
           for comp, (col, higher) in parts.items()}
    out["nps"] = np.clip(_float(features, "nps_latest"), 0, 10) * 10
    return pd.DataFrame(out, index=features.index)


def health_score(features: pd.DataFrame, defn: Definition, reference: Reference | None = None,
                 components: pd.DataFrame | None = None) -> pd.Series:
    """Health score 0-100: weighted mean of the component scores (`health_components`, or `components`
    when given, computed with the same reference); missing components are re-weighted away.
    Weights: [health.weights]. A customer with no component at all has no score (NaN; band "No usage data").
    """
    w = defn.health_weights
    used = [c for c in HEALTH_COMPONENTS if w.get(c, 0) > 0]
    if components is None:
        components = health_components(features, defn, reference)
    num = np.zeros(len(features))
    den = np.zeros(len(features))
    for comp in used:
        s = components[comp].to_numpy(dtype="float64")
        ok = ~np.isnan(s)
        num += w[comp] * np.where(ok, s, 0.0)
        den += w[comp] * ok
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    # Rounded so float noise never moves a customer across a band edge (e.g. 79.999999999 for 80).
    score = np.clip(np.round(score, 6), 0.0, 100.0)
    return pd.Series(score, index=features.index, name="health_score")


def health_band(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Health band by health_score (a `health_score` column is used when present): [health] bands
    (Critical [0, 20), At-risk [20, 40), Neutral [40, 60), Healthy [60, 80), Champions [80, 100]);
    no score -> "No usage data"."""
    score = _float(features, "health_score") if "health_score" in features.columns else \
        health_score(features, defn, reference).to_numpy()
    hb = defn.health.bands
    order = segment_order("health_band", defn)
    pos = np.array([order.index(b.label) for b in hb], dtype=np.int16)
    codes = pos[np.minimum(_band_index(score, hb), len(hb) - 1)]
    codes = np.where(np.isnan(score), order.index(NO_USAGE), codes)
    return _categorical(codes, order, features.index)


def _score(cnt: np.ndarray, n: int) -> np.ndarray:
    # DEFINITIONS.md RFM: score = 1 + floor(5 x (rank_min - 1) / n), rank_min - 1 = cnt.
    return np.clip(1 + (5 * cnt) // max(n, 1), 1, 5)


def rfm_scores(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.DataFrame:
    """r_score, f_score, m_score (1-5) and rfm_code ("545") as DEFINITIONS.md RFM defines them.

    Ranked among customers with at least one active day in the window (frequency > 0); ties share
    the lower rank: score = 1 + floor(5 x (rank_min - 1) / n); recency ranked so the most recent gets 5.
    Customers without an active day have no scores (NA).
    """
    ref = reference if reference is not None else reference_of(features, defn)
    rec, freq, mon = _float(features, "recency_days"), _float(features, "frequency"), _float(features, "monetary")
    active = (freq > 0) & ~np.isnan(rec)
    mon = np.nan_to_num(mon, nan=0.0)
    below_r, ties_r = ref.rfm_recency.below_and_ties(rec)
    r = _score(ref.rfm_recency.n - below_r - ties_r, ref.rfm_recency.n)   # customers strictly less recent
    f = _score(ref.rfm_frequency.below_and_ties(freq)[0], ref.rfm_frequency.n)
    m = _score(ref.rfm_monetary.below_and_ties(mon)[0], ref.rfm_monetary.n)
    mask = ~active
    code_index = np.where(active, (5 - r) * 25 + (5 - f) * 5 + (5 - m), -1)
    return pd.DataFrame({
        "r_score": pd.arrays.IntegerArray(r.astype(np.int8), mask.copy()),
        "f_score": pd.arrays.IntegerArray(f.astype(np.int8), mask.copy()),
        "m_score": pd.arrays.IntegerArray(m.astype(np.int8), mask.copy()),
        "rfm_code": pd.Categorical.from_codes(code_index.astype(np.int16), categories=list(RFM_CODES)),
    }, index=features.index)


def rfm_segment(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """RFM segment: the [rfm.segments] name of the customer's rfm_code; no active day -> "No activity"."""
    if "rfm_code" in features.columns:
        col = features["rfm_code"]
        if isinstance(col.dtype, pd.CategoricalDtype) and list(col.cat.categories) == list(RFM_CODES):
            code_index = col.cat.codes.to_numpy()
        else:
            code_index = pd.Categorical(col.astype("str").where(col.notna()), categories=list(RFM_CODES)).codes
    else:
        code_index = rfm_scores(features, defn, reference)["rfm_code"].cat.codes.to_numpy()
    order = segment_order("rfm_segment", defn)
    lut = np.array([order.index(name) for _, name in defn.rfm.segments] + [order.index(defn.rfm.no_activity_label)],
                   dtype=np.int16)
    return _categorical(lut[np.asarray(code_index)], order, features.index)  # code -1 -> last = no activity


def size_band(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Company size band by employees ([firmographic] size_bands); missing employees -> "Unknown size"."""
    fi = defn.firmographic
    order = segment_order("size_band", defn)
    emp = _float(features, "employees")
    codes = np.minimum(_band_index(emp, fi.size_bands), len(fi.size_bands) - 1).astype(np.int16)
    codes = np.where(np.isnan(emp), order.index(fi.unknown_size_label), codes)
    return _categorical(codes, order, features.index)


def _text_codes(codes: np.ndarray, names: list[str],
                missing: frozenset[str] = frozenset()) -> tuple[np.ndarray, list[str]]:
    """Codes into `names` (-1: no value) recoded into the distinct names: names that read the same are one
    value (as after astype("str")), and names in `missing` count as no value (-1)."""
    distinct = list(dict.fromkeys(n for n in names if n not in missing))
    pos = {n: i for i, n in enumerate(distinct)}
    lut = np.array([pos.get(n, -1) for n in names] + [-1], dtype=np.int64)   # last slot: code -1 stays -1
    return lut[codes], distinct


def _text_values(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """A column's values as text (as astype("str") spells them): codes into its distinct values, -1 where
    missing.

    Integer codes (the column hashed once, only its distinct values spelled out) are much faster to count,
    match and label than 100k strings; a categorical column (see `label_all`) needs no hashing at all.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return _text_codes(values.cat.codes.to_numpy(), [str(c) for c in values.cat.categories])
    if values.dtype != "str":   # numbers, objects: spelled first, so values that read the same are one
        values = values.astype("str").where(values.notna())
    codes, uniques = pd.factorize(values)    # missing -> -1
    return codes, [str(u) for u in uniques]


def _attribute_codes(features: pd.DataFrame, attr: str, defn: Definition) -> tuple[np.ndarray, list[str]] | None:
    """An ICP attribute as text codes (`_text_values`); None when the data lacks it.

    size_band comes from employees, "Unknown size" counting as no value.
    """
    if attr == "size_band":
        if "employees" not in features.columns:
            return None
        labels = size_band(features, defn)
        return _text_codes(labels.cat.codes.to_numpy(), [str(c) for c in labels.cat.categories],
                           frozenset({defn.firmographic.unknown_size_label}))
    if attr not in features.columns:
        return None
    return _text_values(features[attr])


def _top_k(values: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """The k rows with the largest values, largest first, ties in row order (a stable descending sort).

    Only the rows at or above the k-th largest value are sorted: a tenth of them for the ICP top group.
    """
    k = min(k, len(rows))
    if k <= 0:
        return np.empty(0, dtype=int)
    v = values[rows]
    kth = np.partition(v, len(v) - k)[len(v) - k]
    candidates = np.flatnonzero(v >= kth)
    return rows[candidates[np.argsort(-v[candidates], kind="stable")[:k]]]


def learn_icp_profile(features: pd.DataFrame, defn: Definition) -> dict[str, tuple[str, ...]]:
    """The ideal customer profile: given values from [firmographic.icp_profile], else learned.

    Learned from the customers in the top icp_top_share (default 10%) by total net revenue before D
    (customers with positive revenue only): for each attribute, the values whose share in that top
    group is at least 1.5 x their share among all customers with a value; when none is, the most
    common value in the top group.
    """
    fi = defn.firmographic
    given = dict(fi.icp_profile)
    profile: dict[str, tuple[str, ...]] = {}
    revenue = _float(features, "total_revenue")
    payers = np.flatnonzero(revenue > 0)
    k = math.ceil(len(payers) * fi.icp_top_share) if len(payers) else 0
    top = _top_k(revenue, payers, k)
    for attr, weight in fi.icp_weights:
        if weight <= 0:
            continue
        if attr in given:
            profile[attr] = given[attr]
            continue
        coded = _attribute_codes(features, attr, defn)
        if coded is None or len(top) == 0:
            continue
        codes, names = coded
        top_codes = codes[top]
        # value_counts: by count descending, ties in order of first appearance in the top group
        top_share = pd.Series(top_codes[top_codes >= 0]).value_counts(normalize=True)
        if top_share.empty:
            continue
        known = codes[codes >= 0]
        all_share = np.bincount(known, minlength=len(names)) / len(known)
        over = [names[c] for c, s in top_share.items() if s >= 1.5 * all_share[c]]
        profile[attr] = tuple(sorted(over)) if over else (names[top_share.index[0]],)
    return profile


def icp_fit(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """ICP fit 0-100: weighted share of attributes ([firmographic.icp_weights]) whose value is in the
    ideal profile; attributes a customer has no value for are re-weighted away; none -> NaN."""
    profile = reference.icp_profile if reference is not None else learn_icp_profile(features, defn)
    num = np.zeros(len(features))
    den = np.zeros(len(features))
    for attr, weight in defn.firmographic.icp_weights:
        if weight <= 0 or attr not in profile:
            continue
        coded = _attribute_codes(features, attr, defn)
        if coded is None:
            continue
        codes, names = coded
        ideal = np.array([n in profile[attr] for n in names] + [False])   # last slot: code -1 (no value)
        num += weight * ideal[codes]
        den += weight * (codes >= 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(den > 0, 100.0 * num / np.where(den > 0, den, 1), np.nan)
    return pd.Series(fit, index=features.index, name="icp_fit")


def _value_labels(values: pd.Series, missing: str, index: pd.Index) -> pd.Series:
    """Labels from a text column: the value, or `missing` (null or blank); categories by count, `missing` last."""
    codes, names = _text_values(values)
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    keep = sorted((i for i, v in enumerate(names) if v.strip() and v != missing), key=lambda i: (-counts[i], names[i]))
    order = [names[i] for i in keep] + [missing]
    lut = np.full(len(names) + 1, len(order) - 1, dtype=_code_type(len(order)))   # last slot: code -1 (null)
    lut[keep] = np.arange(len(keep))
    return _categorical(lut[codes], order, index)


def goal(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Stated goal (psychographic): the latest NPS goal, else a customers `goal` column, else "Not stated"."""
    if "stated_goal" in features.columns:
        values = features["stated_goal"]
    elif "goal" in features.columns:
        values = features["goal"]
    else:
        values = pd.Series(pd.NA, index=features.index, dtype="str")
    return _value_labels(values, NOT_STATED, features.index)


def _missing_label(column: str) -> str:
    """What an attribute scheme calls a customer without a value: "Unattributed" for the channel (as CAC
    names it), "Not stated" for the goal, else "Unknown"."""
    return {"channel": UNATTRIBUTED, "goal": NOT_STATED}.get(column, UNKNOWN)


def attribute(features: pd.DataFrame, column: str) -> pd.Series:
    """A firmographic attribute as a scheme: the value, "Unknown" ("Unattributed" for the channel) when
    missing."""
    values = features[column] if column in features.columns else pd.Series(pd.NA, index=features.index, dtype="str")
    return _value_labels(values, _missing_label(column), features.index)


def custom(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
    """Custom segments: the first [[custom.rules]] expression that is true names the segment; the rest get
    custom.default_label. Rules see the feature columns (plus health_score, icp_fit and other labels when
    computed by `label_all`). Errors name the rule and the column (segmentation.rules.RuleError)."""
    return evaluate_rules(features, defn.custom.rules, defn.custom.default_label)


def _attribute_scheme(column: str) -> Callable[..., pd.Series]:
    def scheme(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.Series:
        return attribute(features, column)
    scheme.__name__ = column
    scheme.__doc__ = f"The {column} attribute as a segment; missing -> {_missing_label(column)!r}."
    return scheme


SCHEMES: dict[str, Callable[..., pd.Series]] = {
    "value_tier": value_tier, "behavior": behavior, "lifecycle": lifecycle, "health_band": health_band,
    "rfm_segment": rfm_segment, "size_band": size_band, "goal": goal, "custom": custom,
    **{c: _attribute_scheme(c) for c in ATTRIBUTE_SCHEMES},
}


def in_segment_order(frame: pd.DataFrame, order: list[str], column: str = "segment") -> pd.DataFrame:
    """`frame`'s rows sorted by `column` in `order` (segment_order's), rows of other segments last in their
    own order: every page, chart and table lists segments alike."""
    rank = {s: i for i, s in enumerate(order)}
    return frame.sort_values(column, key=lambda s: s.map(lambda v: rank.get(v, len(rank))), kind="stable")


def segment_order(scheme: str, defn: Definition, labels: pd.Series | None = None) -> list[str]:
    """The display order of a scheme's segments (charts order and colour segments by it).

    Catch-all labels come last. Data-driven schemes (goal, attributes) need `labels` to know their
    values (ordered by customers, descending); without them only the catch-all is returned.
    """
    if "+" in scheme and labels is not None:  # combined schemes: grouped by the first scheme's order
        first = segment_order(scheme.split("+", 1)[0], defn)
        counts = labels.astype("str").value_counts()
        rank = {s: i for i, s in enumerate(first)}
        return sorted(counts.index, key=lambda v: (rank.get(v.split(" · ")[0], len(rank)), -counts[v]))
    if scheme == "value_tier":
        return [b.label for b in reversed(defn.value_tier.bands)] + [defn.value_tier.not_paying_label]
    if scheme == "behavior":
        return list(BEHAVIOR_ORDER)
    if scheme == "lifecycle":
        return [b.label for b in defn.lifecycle.bands] + [defn.lifecycle.lapsed_label, UNKNOWN]
    if scheme == "health_band":
        return [b.label for b in reversed(defn.health.bands)] + [NO_USAGE]
    if scheme == "rfm_segment":
        return list(dict.fromkeys([name for _, name in defn.rfm.segments] + [defn.rfm.no_activity_label]))
    if scheme == "size_band":
        return [b.label for b in defn.firmographic.size_bands] + [defn.firmographic.unknown_size_label]
    if scheme == "custom":
        return list(dict.fromkeys([r.name for r in defn.custom.rules] + [defn.custom.default_label]))
    missing = _missing_label(scheme)
    if labels is not None:
        if isinstance(labels.dtype, pd.CategoricalDtype):
            return [str(c) for c in labels.cat.categories]
        counts = labels.astype("str").value_counts()
        return [v for v in counts.index if v != missing] + [missing]
    return [missing]


def scheme_name(scheme: str, revenue_model: str = "subscription") -> str:
    """A scheme's name for people (pages, board pack); on order data (revenue_model "transactional") the value
    tier reads annual revenue, not ARR (DEFINITIONS.md "Revenue": order revenue is never called MRR)."""
    if scheme == "value_tier" and revenue_model == "transactional":
        return "Value tier (annual revenue)"
    words = scheme.replace("_", " ")   # a customers column's own name, its first letter raised
    return _SCHEME_NAMES.get(scheme, words[:1].upper() + words[1:])


def reads_activity(scheme: str) -> bool:
    """Whether a scheme (or two joined by "+") reads events, tickets or NPS answers through its features;
    when it does not, `features.without_activity` tables give it the same labels at a fraction of the cost.
    A name that is no built-in scheme is a customers column (a definition's [firmographic] attributes)."""
    return any(part in SCHEMES and part not in REVENUE_ONLY_SCHEMES for part in scheme.split("+"))


def reads_recency(scheme: str) -> bool:
    """Whether a scheme (or two joined by "+") labels by how recently a customer was active (recency_days):
    behaviour (Dormant), RFM (its R score) and the health band (its recency component)."""
    return any(part in ("behavior", "rfm_segment", "health_band") for part in scheme.split("+"))


def reads_users(defn: Definition) -> bool:
    """Whether labelling reads the active-user counts (features.USER_COLUMNS): only a custom rule can
    (rules.named_columns; a rule that reads one without naming it fails as an unknown column, never
    mislabels)."""
    return bool(named_columns(defn.custom.rules, USER_COLUMNS))


def attribute_schemes(defn: Definition) -> tuple[str, ...]:
    """The customers columns that are schemes when present: industry, plan, channel, country, then those of
    the definition's [firmographic] attributes."""
    return tuple(dict.fromkeys([*ATTRIBUTE_SCHEMES, *defn.firmographic.attributes]))


MAX_ATTRIBUTE_VALUES = 30   # attribute_candidates: a column with more values is no segmentation


def attribute_candidates(features: pd.DataFrame) -> list[str]:
    """The customers columns a definition could segment by ([firmographic] attributes): the attribute columns
    of a features frame (neither a feature nor a built-in scheme's) holding text, categories or yes/no with
    2 to MAX_ATTRIBUTE_VALUES distinct values, some shared by several customers (a contract type, a region;
    not a name or an id)."""
    from segmentation.definition import RESERVED_SCHEME_NAMES
    from segmentation.features import FEATURE_COLUMNS

    out = []
    for col in features.columns:
        if col in FEATURE_COLUMNS or col in RESERVED_SCHEME_NAMES or "+" in str(col):
            continue
        values = features[col]
        if values.dtype.kind in "biufcmM" and values.dtype != bool:   # numbers and dates are no segments
            continue
        if values.head(5000).nunique(dropna=True) > MAX_ATTRIBUTE_VALUES:   # a name: no need to hash them all
            continue
        distinct = values.nunique(dropna=True)
        if 2 <= distinct <= MAX_ATTRIBUTE_VALUES and distinct < values.notna().sum():   # values repeat: not ids
            out.append(col)
    return out


def available_schemes(columns: list[str], defn: Definition) -> list[str]:
    """Scheme keys this data and definition support, in menu order.

    Always: value_tier, behavior, lifecycle, health_band, rfm_segment, goal; size_band when customers
    have `employees`; custom when the definition has rules; each of industry, plan, channel, country and
    the definition's [firmographic] attributes that is a customers column.
    """
    cols = set(columns)
    out = ["value_tier", "behavior", "lifecycle", "health_band", "rfm_segment"]
    if "employees" in cols:
        out.append("size_band")
    out.append("goal")
    if defn.custom.rules:
        out.append("custom")
    out += [c for c in attribute_schemes(defn) if c in cols]
    return out


def label_all(features: pd.DataFrame, defn: Definition, reference: Reference | None = None) -> pd.DataFrame:
    """Every label and score per customer.

    Returns a frame indexed 0..n-1 with columns: customer_id, mrr, value_tier, behavior, lifecycle,
    health_score, health_band, r_score, f_score, m_score, rfm_code, rfm_segment, size_band, icp_fit, goal,
    custom (only when the definition has rules), and industry, plan, channel, country and the definition's
    [firmographic] attributes (those present).
    Labels are categorical (categories in `segment_order`). `reference` fixes percentile cut-offs and
    the ICP profile (default: this frame's own).
    """
    feats = features.reset_index(drop=True)
    # The text columns that ICP, goal and the attribute schemes read, as categoricals: each is hashed once
    # here instead of once per scheme reading it. Custom rules see the columns as given.
    attributes = attribute_schemes(defn)
    text = dict.fromkeys([*attributes, "stated_goal", "goal", *(a for a, _ in defn.firmographic.icp_weights)])
    coded = feats.assign(**{c: feats[c].astype("category") for c in text
                            if c in feats.columns and feats[c].dtype == "str"})
    ref = reference if reference is not None else reference_of(coded, defn)
    out = pd.DataFrame({"customer_id": feats["customer_id"],
                        "mrr": _float(feats, "mrr")})
    out["value_tier"] = value_tier(coded, defn, ref)
    out["behavior"] = behavior(coded, defn, ref)
    out["lifecycle"] = lifecycle(coded, defn, ref)
    out["health_score"] = health_score(coded, defn, ref)
    out["health_band"] = health_band(out[["health_score"]], defn, ref)
    scores = rfm_scores(coded, defn, ref)
    for col in scores.columns:
        out[col] = scores[col]
    out["rfm_segment"] = rfm_segment(scores, defn, ref)
    out["size_band"] = size_band(coded, defn, ref)
    out["icp_fit"] = icp_fit(coded, defn, ref)
    out["goal"] = goal(coded, defn, ref)
    for col in attributes:
        if col in feats.columns:
            out[col] = attribute(coded, col)
    if defn.custom.rules:
        extra = out.drop(columns=[c for c in out.columns if c in feats.columns])
        out["custom"] = custom(pd.concat([feats, extra], axis=1), defn, ref)
    return out
