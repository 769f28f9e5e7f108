"""Behavioural clusters: k-means groups of customers who use the product alike, profiled and named.

In plain words, for a founder
-----------------------------
Instead of cutting customers by rules we chose, k-means lets the data propose k groups of customers
that behave alike: how much they use the product (events, active days, features), whether usage is
rising or falling, how long since they were last seen, how many support tickets they file and what
they pay. Each input is first put on a common scale (counts and money on a log scale, then each
measure as standard deviations from the average), so no single measure dominates. Each group is then
described by its averages and named after the measures where it differs most from everyone
("High usage, many tickets"). The silhouette score (from -1 to 1, higher = groups better separated)
suggests a k; the choice is yours. `cluster_overlay` then shows which industries, sizes or plans
concentrate in the groups you consider at risk.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

__all__ = ["Clusters", "ClusterError", "cluster_customers", "suggest_k", "cluster_overlay", "cluster_risk",
           "CLUSTER_FEATURES", "CLUSTER_WORDS"]

CLUSTER_FEATURES: tuple[str, ...] = (
    "events_30d", "active_days_30d", "features_used_30d", "usage_trend", "recency_days", "tickets_90d", "mrr",
)
# Counts, days and money: skewed, clustered on a log scale.
_LOG = frozenset({"events_30d", "active_days_30d", "features_used_30d", "recency_days", "tickets_90d", "mrr",
                  "support_minutes_90d", "active_users_30d", "tenure_days"})

# (words when the cluster is above average, words when below) for naming clusters.
CLUSTER_WORDS: Mapping[str, tuple[str, str]] = {
    "events_30d": ("High usage", "Low usage"),
    "active_days_30d": ("Many active days", "Few active days"),
    "features_used_30d": ("Many features", "Few features"),
    "active_users_30d": ("Many users", "Few users"),
    "usage_trend": ("Rising usage", "Falling usage"),
    "recency_days": ("Long inactive", "Recently active"),
    "tickets_90d": ("many tickets", "few tickets"),
    "support_minutes_90d": ("heavy support", "light support"),
    "mrr": ("high MRR", "low MRR"),
    "tenure_days": ("long tenure", "new"),
}


class ClusterError(ValueError):
    """Clustering inputs are missing or k is out of range."""


@dataclass(frozen=True, eq=False)
class Clusters:
    """The result of cluster_customers.

    assignments: customer_id, cluster (int 0..k-1), cluster_name.
    profile: one row per cluster: cluster, cluster_name, customers, share, then for each feature
        `<feature>` (mean of the raw value in the cluster) and `<feature>_z` (the cluster's mean of the
        standardised input: how many standard deviations it sits from all customers).
    features: the feature columns used (columns absent or empty in the data are left out).
    k, seed, inertia: the k-means settings and its within-cluster sum of squares.
    """

    assignments: pd.DataFrame
    profile: pd.DataFrame
    features: tuple[str, ...]
    k: int
    seed: int
    inertia: float


def _inputs(features: pd.DataFrame, columns: Iterable[str]) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Raw inputs with missing values filled sensibly, and the columns kept.

    Missing counts (a customer absent from a table) -> 0; usage_trend missing (no events in either
    window) -> 0 (no trend); recency_days missing (never active) -> the largest observed recency (or the
    tenure when larger); mrr missing -> 0. Columns with no values at all (the table was not loaded) are
    dropped.
    """
    raw = pd.DataFrame(index=features.index)
    for col in columns:
        if col not in features.columns:
            continue
        x = pd.to_numeric(features[col], errors="coerce").astype("float64")
        if x.notna().sum() == 0:
            continue
        if col == "recency_days":
            fill = x.max()
            if "tenure_days" in features.columns:
                x = x.fillna(pd.to_numeric(features["tenure_days"], errors="coerce").astype("float64"))
            x = x.fillna(fill)
        else:
            x = x.fillna(0.0)
        raw[col] = x
    return raw, tuple(raw.columns)


def _transform(raw: pd.DataFrame) -> np.ndarray:
    cols = [np.log1p(raw[c].clip(lower=0)).to_numpy() if c in _LOG else raw[c].to_numpy() for c in raw.columns]
    return np.column_stack(cols).astype("float64")


def _name(zrow: pd.Series, n_words: int = 2, min_z: float = 0.5) -> str:
    """Words for the (up to) n_words inputs furthest from average, among those at least min_z standard
    deviations away; "Average" when none is."""
    distinct = zrow[zrow.abs() >= min_z]
    order = distinct.abs().sort_values(ascending=False, kind="stable").index[:n_words]
    if len(order) == 0:
        return "Average"
    words = []
    for col in order:
        up, down = CLUSTER_WORDS.get(col, (f"high {col}", f"low {col}"))
        words.append(up if zrow[col] > 0 else down)
    text = ", ".join(words)
    return text[:1].upper() + text[1:]


def _check(features: pd.DataFrame, k: int) -> None:
    if "customer_id" not in features.columns:
        raise ClusterError("features: no `customer_id` column; pass the frame of customer_features.")
    if k < 2:
        raise ClusterError(f"k = {k}: choose at least 2 clusters.")
    if len(features) < k:
        raise ClusterError(f"k = {k} clusters but only {len(features)} customers; choose k <= {len(features)}.")


def cluster_customers(features: pd.DataFrame, k: int, seed: int = 0,
                      columns: tuple[str, ...] = CLUSTER_FEATURES) -> Clusters:
    """k-means (scikit-learn, 10 starts, fixed seed) on standardised behavioural features.

    Parameters
    ----------
    features : customer_features frame (one row per customer).
    k : number of clusters (>= 2).
    seed : random seed of k-means (same seed, same clusters).
    columns : behavioural inputs; default events_30d, active_days_30d, features_used_30d, usage_trend,
        recency_days, tickets_90d, mrr. Counts, days and money enter as log(1 + x); each input is then
        standardised (mean 0, standard deviation 1 over the customers given).

    Returns
    -------
    Clusters (see the class). Clusters are numbered by size, largest first; each is named by the (up to)
    two inputs whose standardised cluster mean is furthest from 0, counting only those at least 0.5
    standard deviations away (e.g. "High usage, many tickets"; "Average" when none is); a name
    shared by two clusters gets " (2)", " (3)" appended.
    """
    _check(features, k)
    raw, cols = _inputs(features, columns)
    if not cols:
        raise ClusterError(f"features: none of the clustering columns ({', '.join(columns)}) has values; "
                           "load events, tickets or revenue first.")
    z = StandardScaler().fit_transform(_transform(raw))
    distinct = len(np.unique(z, axis=0))
    if distinct < k:
        raise ClusterError(f"k = {k} clusters but only {distinct} distinct customer profiles in "
                           f"{', '.join(cols)}; choose k <= {distinct}.")
    km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z)
    labels = km.labels_
    # renumber by size (largest first), ties by original label, so numbering is stable and readable
    sizes = np.bincount(labels, minlength=k)
    order = sorted(range(k), key=lambda c: (-sizes[c], c))
    relabel = np.empty(k, dtype=np.int64)
    relabel[order] = np.arange(k)
    labels = relabel[labels]

    zframe = pd.DataFrame(z, columns=cols, index=features.index)
    means = raw.groupby(labels).mean()
    zmeans = zframe.groupby(labels).mean()
    names: list[str] = []
    for c in range(k):
        name = _name(zmeans.loc[c]) if c in zmeans.index else f"Cluster {c}"
        n = sum(1 for existing in names if existing == name or existing.startswith(name + " ("))
        names.append(name if n == 0 else f"{name} ({n + 1})")
    counts = np.bincount(labels, minlength=k)
    profile = pd.DataFrame({"cluster": np.arange(k), "cluster_name": names, "customers": counts,
                            "share": counts / counts.sum()})
    for col in cols:
        profile[col] = means[col].reindex(range(k)).to_numpy()
        profile[f"{col}_z"] = zmeans[col].reindex(range(k)).to_numpy()
    assignments = pd.DataFrame({"customer_id": features["customer_id"].astype("str").to_numpy(),
                                "cluster": labels,
                                "cluster_name": np.asarray(names, dtype=object)[labels]})
    assignments["cluster_name"] = assignments["cluster_name"].astype("str")
    return Clusters(assignments, profile, cols, k, seed, float(km.inertia_))


def suggest_k(features: pd.DataFrame, k_range: Iterable[int] = range(2, 9), sample: int = 10_000, seed: int = 0,
              columns: tuple[str, ...] = CLUSTER_FEATURES) -> pd.DataFrame:
    """Silhouette score for each k: k, silhouette, inertia (of the sample), suggested (True on the best k).

    Inputs are standardised over all customers; then k-means and the silhouette (mean over customers of
    (b - a) / max(a, b), with a the mean distance to the own cluster and b to the nearest other one)
    both run on a random sample of at most `sample` customers (seeded): the silhouette costs n^2, and a
    suggestion does not need a million customers. The suggested k has the highest silhouette
    (ties: the smaller k). Values of k below 2 or not below the number of distinct customer profiles
    are skipped.
    """
    ks = [int(k) for k in k_range]
    if not ks:
        raise ClusterError("k_range is empty; give e.g. range(2, 9).")
    _check(features, max(2, min(ks)))
    raw, cols = _inputs(features, columns)
    z = StandardScaler().fit_transform(_transform(raw))
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(z), size=min(sample, len(z)), replace=False) if len(z) > sample else np.arange(len(z))
    rows = []
    zs = z[idx]
    distinct = len(np.unique(zs, axis=0))
    for k in ks:
        if k < 2 or k >= distinct:
            continue
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(zs)
        labels = km.labels_
        score = float(silhouette_score(zs, labels)) if len(np.unique(labels)) > 1 else float("nan")
        rows.append({"k": k, "silhouette": score, "inertia": float(km.inertia_)})
    out = pd.DataFrame(rows, columns=["k", "silhouette", "inertia"])
    best = out["silhouette"].idxmax() if out["silhouette"].notna().any() else None
    out["suggested"] = False
    if best is not None:
        out.loc[best, "suggested"] = True
    return out


def cluster_risk(clusters: Clusters, scores: pd.DataFrame) -> pd.DataFrame:
    """Mean churn probability per cluster: cluster, cluster_name, scored_customers, mean_churn_probability.

    `scores`: customer_id, churn_probability (segmentation.churn.score_churn); unscored customers
    (not paying) are left out of the mean.
    """
    if not {"customer_id", "churn_probability"} <= set(scores.columns):
        raise ClusterError("scores: needs customer_id and churn_probability (score_churn's output).")
    s = scores[["customer_id", "churn_probability"]].assign(customer_id=scores["customer_id"].astype("str"))
    merged = clusters.assignments.merge(s, on="customer_id", how="left")
    out = merged.groupby(["cluster", "cluster_name"]).agg(
        scored_customers=("churn_probability", "count"),
        mean_churn_probability=("churn_probability", "mean")).reset_index()
    return out


def cluster_overlay(clusters: Clusters, features: pd.DataFrame, attribute: str,
                    at_risk: Iterable[int]) -> pd.DataFrame:
    """Which values of an attribute (industry, plan, size band, ...) concentrate in the at-risk clusters.

    Parameters
    ----------
    clusters : cluster_customers result.
    features : a frame with customer_id and the `attribute` column (customer_features or label_all).
    attribute : the column to break down; missing values count as "Unknown".
    at_risk : the cluster numbers considered at risk (e.g. those with the highest mean churn
        probability in `cluster_risk`).

    Returns
    -------
    One row per attribute value: value, customers, at_risk_customers, share_at_risk (at_risk_customers /
    customers), lift (share_at_risk / the share of all customers in at-risk clusters; above 1 = the value
    is over-represented in the at-risk clusters), sorted by at_risk_customers then lift, descending.
    """
    if attribute not in features.columns or "customer_id" not in features.columns:
        raise ClusterError(f"features: needs customer_id and `{attribute}` columns to overlay `{attribute}`.")
    risky = {int(c) for c in at_risk}
    unknown = set(risky) - set(range(clusters.k))
    if unknown:
        raise ClusterError(f"at_risk: cluster(s) {sorted(unknown)} do not exist; clusters are 0..{clusters.k - 1}.")
    attr = features[["customer_id", attribute]].copy()
    attr["customer_id"] = attr["customer_id"].astype("str")
    attr["value"] = attr[attribute].astype("str").where(attr[attribute].notna(), "Unknown")
    merged = clusters.assignments.merge(attr[["customer_id", "value"]], on="customer_id", how="left")
    merged["value"] = merged["value"].fillna("Unknown")
    merged["risky"] = merged["cluster"].isin(risky)
    out = merged.groupby("value").agg(customers=("customer_id", "size"),
                                      at_risk_customers=("risky", "sum")).reset_index()
    out["at_risk_customers"] = out["at_risk_customers"].astype("int64")
    out["share_at_risk"] = out["at_risk_customers"] / out["customers"]
    overall = merged["risky"].mean()
    out["lift"] = out["share_at_risk"] / overall if overall > 0 else np.nan
    out = out.sort_values(["at_risk_customers", "lift"], ascending=[False, False], kind="stable")
    return out.reset_index(drop=True)
