"""Transitions between segments from one date to another, and each customer's segment month by month.

DEFINITIONS.md "Transitions": the same scheme applied at two dates with thresholds fixed at the first
date's values (percentile cut-offs and the learned ICP profile come from the first date's features);
rows from_segment, to_segment, customers, mrr_from, mrr_to, with "(new)" and "(churned)" rows so both
dates' totals reconcile.

Who is counted at a date D: customers signed up before D who are not churned at D (churn as
DEFINITIONS.md defines it for the revenue model). A customer counted at the first date and churned by
the second goes to "(churned)"; one counted at the second date but not the first comes from "(new)" when it
signed up in between, from "(reactivated)" when it had churned by the first date and came back (on order
data a large share: Online Retail's "(new)" held 1,576 customers, of whom 968 were first buyers). So the
customers of the rows whose from_segment is neither "(new)" nor "(reactivated)" (ENTERING) equal the count at
date_from, and those whose to_segment is not "(churned)" equal the count at date_to.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Literal

import ibis
import numpy as np
import pandas as pd

from segmentation.definition import Definition
from segmentation.features import customer_features, feature_params
from segmentation.schemes import SCHEMES, Reference, attribute, label_all, reference_of, segment_order

__all__ = ["NEW", "REACTIVATED", "ENTERING", "CHURNED", "CROSS_SCHEME", "CROSS_SEPARATOR", "WATCHED", "scheme_labels",
           "combined_labels", "transitions", "transitions_from_features", "customer_transitions",
           "watched_movements", "segment_history"]

CROSS_SEPARATOR = " · "
# value tier by acquisition channel: separates sales-led from self-serve customers of the same tier
CROSS_SCHEME = "value_tier+channel"
NEW = "(new)"
REACTIVATED = "(reactivated)"
ENTERING = (NEW, REACTIVATED)   # the from_segments of customers not counted at the first date
CHURNED = "(churned)"
# The movements the product's seeds say to watch: (scheme, from, to).
WATCHED: tuple[tuple[str, str, str], ...] = (
    ("behavior", "Active", "Light"), ("behavior", "Light", "Dormant"), ("health_band", "Healthy", "At-risk"),
    ("behavior", "Active", "Power"), ("health_band", "At-risk", "Healthy"),
)


def _text_codes(labels: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes (-1 = missing) and categories, as text, of a label column."""
    cat = labels.astype("category") if not isinstance(labels.dtype, pd.CategoricalDtype) else labels
    return cat.cat.codes.to_numpy().astype("int64"), [str(c) for c in cat.cat.categories]


def combined_labels(first: pd.Series, second: pd.Series) -> pd.Series:
    """"first · second" per row (missing when either is), as a categorical of the pairs that occur: built
    from codes, no string is joined per customer."""
    a, a_names = _text_codes(first.reset_index(drop=True))
    b, b_names = _text_codes(second.reset_index(drop=True))
    size = len(a_names) * len(b_names)
    key = np.where((a < 0) | (b < 0), -1, a * len(b_names) + b)   # -1: a missing pair
    if size <= 4 * len(key) + 1024:
        # The pairs that occur, in order, and each row's code among them: a count per possible pair
        # (np.unique sorts every row: ten times slower at 1M customers).
        pairs = np.flatnonzero(np.bincount(key[key >= 0], minlength=size))
        code_of = np.full(size + 1, -1, dtype="int64")   # the last entry: key -1 -> code -1
        code_of[pairs] = np.arange(len(pairs))
        codes = code_of[key]
    else:
        pairs, codes = np.unique(key, return_inverse=True)
        codes = codes.reshape(-1) - int(pairs[0] == -1 if len(pairs) else 0)  # the missing pair -> code -1
        pairs = pairs[pairs >= 0]
    names = [f"{a_names[p // len(b_names)]}{CROSS_SEPARATOR}{b_names[p % len(b_names)]}" for p in pairs]
    if len(set(names)) < len(names):  # labels that themselves hold the separator: join the texts
        texts = [part.astype("str").reset_index(drop=True) for part in (first, second)]
        return texts[0] + CROSS_SEPARATOR + texts[1]
    return pd.Series(pd.Categorical.from_codes(codes, categories=names))


def scheme_labels(features: pd.DataFrame, scheme: str, defn: Definition,
                  reference: Reference | None = None) -> pd.Series:
    """One scheme's labels for a features frame (index 0..n-1), cut-offs from `reference`.

    Two schemes joined by "+" combine their labels ("value_tier+channel": "SMB · Outbound sales").
    """
    feats = features.reset_index(drop=True)
    if "+" in scheme:  # two schemes combined: "value_tier+channel" -> "SMB · Outbound sales"
        # Each part computes only the cut-offs it needs when no reference is given (value tier and
        # channel need none; the full reference costs ~50 ms at 100,000 customers, at every date).
        first, second = (scheme_labels(feats, part, defn, reference) for part in scheme.split("+", 1))
        return combined_labels(first, second)
    if scheme == "custom":
        return label_all(feats, defn, reference)["custom"]
    if scheme not in SCHEMES and scheme in defn.firmographic.attributes:
        return attribute(feats, scheme)   # a customers column the definition segments by
    if scheme not in SCHEMES:
        raise ValueError(f"unknown segmentation scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
    return SCHEMES[scheme](feats, defn, reference)  # a scheme that needs cut-offs computes them when None


def _counted(features: pd.DataFrame) -> pd.Series:
    return ~features["churned"].to_numpy(dtype=bool)


def customer_transitions(features_from: pd.DataFrame, features_to: pd.DataFrame, scheme: str,
                         defn: Definition) -> pd.DataFrame:
    """One row per customer counted at either date: customer_id, from_segment, to_segment, mrr_from, mrr_to.

    Cut-offs are fixed at the first date; "(new)", "(reactivated)" and "(churned)" as in the module
    docstring.
    """
    f1 = features_from.reset_index(drop=True)
    f2 = features_to.reset_index(drop=True)
    ref = reference_of(f1, defn)
    l1 = scheme_labels(f1, scheme, defn, ref).astype("str")
    l2 = scheme_labels(f2, scheme, defn, ref).astype("str")
    a = pd.DataFrame({"customer_id": f1["customer_id"].astype("str"), "from_segment": l1,
                      "mrr_from": f1["mrr"].astype("float64")})[_counted(f1)]
    b = pd.DataFrame({"customer_id": f2["customer_id"].astype("str"), "to_segment": l2,
                      "mrr_to": f2["mrr"].astype("float64")})[_counted(f2)]
    both = a.merge(b, on="customer_id", how="outer")
    # MRR at the date a customer is not counted is still its MRR (0 for a churned subscription).
    mrr_to_all = pd.Series(f2["mrr"].to_numpy(dtype="float64"), index=f2["customer_id"].astype("str"))
    # Not counted at the first date: signed up since ("(new)"), or there but churned ("(reactivated)").
    entering = np.where(both["customer_id"].isin(f1["customer_id"].astype("str")), REACTIVATED, NEW)
    both["from_segment"] = both["from_segment"].fillna(pd.Series(entering, index=both.index))
    both["mrr_from"] = both["mrr_from"].fillna(0.0)
    missing_to = both["to_segment"].isna()
    if missing_to.any():
        both.loc[missing_to, "mrr_to"] = (both.loc[missing_to, "customer_id"].map(mrr_to_all)
                                          .fillna(0.0).to_numpy(dtype="float64"))
    both["to_segment"] = both["to_segment"].fillna(CHURNED)
    return both[["customer_id", "from_segment", "to_segment", "mrr_from", "mrr_to"]]


def transitions_from_features(features_from: pd.DataFrame, features_to: pd.DataFrame, scheme: str,
                              defn: Definition) -> pd.DataFrame:
    """Transitions between two features frames (see the module docstring for who is counted).

    Returns columns from_segment, to_segment, customers, mrr_from, mrr_to (MRR in dollars at each
    date), one row per pair with at least one customer, ordered by the scheme's segment order.
    """
    both = customer_transitions(features_from, features_to, scheme, defn)
    out = (both.groupby(["from_segment", "to_segment"], as_index=False, sort=False)
           .agg(customers=("customer_id", "size"), mrr_from=("mrr_from", "sum"), mrr_to=("mrr_to", "sum")))
    order = segment_order(scheme, defn)
    extra = sorted(set(out["from_segment"]) | set(out["to_segment"]) - set(order) - {*ENTERING, CHURNED})
    rank = {s: i for i, s in enumerate([*ENTERING] + order + extra + [CHURNED])}
    out = out.sort_values(["from_segment", "to_segment"], key=lambda s: s.map(rank)).reset_index(drop=True)
    out["customers"] = out["customers"].astype("int64")
    return out[["from_segment", "to_segment", "customers", "mrr_from", "mrr_to"]]


def transitions(tables: Mapping[str, ibis.Table], scheme: str, date_from: dt.date, date_to: dt.date,
                defn: Definition, revenue_model: Literal["subscription", "transactional"] = "subscription"
                ) -> pd.DataFrame:
    """Segment transitions of `scheme` from date_from to date_to (DEFINITIONS.md "Transitions").

    Features are computed as of each date; cut-offs are fixed at date_from. Returns from_segment,
    to_segment, customers, mrr_from, mrr_to (see `transitions_from_features`).
    """
    if date_to <= date_from:
        raise ValueError(f"transitions: date_to {date_to} must be after date_from {date_from}.")
    params = feature_params(defn)
    f1 = customer_features(tables, date_from, params, revenue_model)
    f2 = customer_features(tables, date_to, params, revenue_model)
    return transitions_from_features(f1, f2, scheme, defn)


def watched_movements(transitions_frame: pd.DataFrame, scheme: str | None = None) -> pd.DataFrame:
    """The movements the seeds say to watch (Active -> Light, Light -> Dormant, Healthy -> At-risk,
    Active -> Power, At-risk -> Healthy), with customers and MRR; movements with no customer are kept (0).

    Which movements: those of `scheme` when given; otherwise those whose two segments both appear in
    the frame. Columns: movement, from_segment, to_segment, customers, mrr_from, mrr_to, share_of_from
    (customers / customers of from_segment at the first date; NaN when that segment is empty).
    """
    t = transitions_frame
    present = set(t["from_segment"]) | set(t["to_segment"])
    rows = []
    from_sizes = t.groupby("from_segment")["customers"].sum()
    for sch, src, dst in WATCHED:
        if scheme is not None and sch != scheme:
            continue
        if scheme is None and not {src, dst} <= present:
            continue
        hit = t[(t["from_segment"] == src) & (t["to_segment"] == dst)]
        customers = int(hit["customers"].sum())
        size = float(from_sizes.get(src, 0))
        rows.append({"movement": f"{src} → {dst}", "from_segment": src, "to_segment": dst,
                     "customers": customers, "mrr_from": float(hit["mrr_from"].sum()),
                     "mrr_to": float(hit["mrr_to"].sum()),
                     "share_of_from": customers / size if size > 0 else np.nan})
    return pd.DataFrame(rows, columns=["movement", "from_segment", "to_segment", "customers", "mrr_from",
                                       "mrr_to", "share_of_from"])


def segment_history(tables: Mapping[str, ibis.Table], scheme: str, months: Iterable[dt.date],
                    defn: Definition, revenue_model: Literal["subscription", "transactional"] = "subscription"
                    ) -> pd.DataFrame:
    """Each customer's segment at the start of each month (as-of date = the month's first day).

    DEFINITIONS.md "Segments over time": churn, NRR, GRR and expansion count each customer in the
    segment it had at the start of each month measured. Each month's labels use that month's own
    cut-offs. Returns customer_id, month (Timestamp, first of month), segment (str), one row per
    customer signed up before that month.
    """
    params = feature_params(defn)
    parts = []
    for month in months:
        m = pd.Timestamp(month).date().replace(day=1)
        feats = customer_features(tables, m, params, revenue_model)
        labels = scheme_labels(feats, scheme, defn)
        parts.append(pd.DataFrame({"customer_id": feats["customer_id"].astype("str"),
                                   "month": pd.Timestamp(m), "segment": labels.astype("str").to_numpy()}))
    if not parts:
        return pd.DataFrame({"customer_id": pd.Series(dtype="str"), "month": pd.Series(dtype="datetime64[ns]"),
                             "segment": pd.Series(dtype="str")})
    return pd.concat(parts, ignore_index=True)
