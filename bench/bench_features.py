"""Benchmark: per-customer features from Parquet, and re-labelling after a threshold change.

    python -m bench.bench_features --customers 100000 --events 10000000 [--history]

--history also times customer_features_at over D and the 13 month starts of a churn window (the dates the
report labels), which scans the event history once for all dates.

Targets (issue 3): features for 100k customers / 10M events under 2 s; 1M / 100M under 12 s with peak
memory under 1.5 GB; re-labelling a rule-based scheme under 10 ms at 100k and 50 ms at 1M customers.
"""
from __future__ import annotations

import argparse
import time
from datetime import date

import pandas as pd

from bench.data import dataset
from bench.engine import parquet_tables, peak_rss_mb, size_arguments
from segmentation.definition import default_definition, definition_to_dict, with_updates
from segmentation.features import add_months, customer_features, customer_features_at, feature_params
from segmentation.schemes import (behavior, custom, health_band, health_components, health_score, label_all, lifecycle,
                                  reference_of, value_tier)

AS_OF = date(2026, 11, 1)


def main() -> None:
    parser = size_arguments(argparse.ArgumentParser(description=__doc__.splitlines()[0]))
    parser.add_argument("--history", action="store_true", help="also time features at 14 dates")
    args = parser.parse_args()
    folder = dataset(args.customers, args.events)
    defn = default_definition()
    tables = parquet_tables(folder, memory_limit=args.memory_limit, threads=args.threads)

    start = time.perf_counter()
    features = customer_features(tables, AS_OF, feature_params(defn), "subscription")
    feature_s = time.perf_counter() - start
    print(f"features: {len(features):,} customers in {feature_s:.2f} s, peak RSS {peak_rss_mb():,.0f} MB")

    reference = reference_of(features, defn)
    moved = with_updates(defn, behavior={"power_top_pct": 25.0})
    # A health band edge moves: the scores stand (label_all keeps them in `health_score`).
    scores = pd.DataFrame({"health_score": health_score(features, defn, reference)})
    bands = definition_to_dict(defn)["health"]["bands"]
    bands[0]["upper"] = bands[1]["lower"] = 25.0  # Critical / At-risk edge 20 -> 25
    edge = with_updates(defn, health={"bands": bands})
    # A health weight moves: the component scores stand (health_components), the weighted mean is redone.
    components = health_components(features, defn, reference)
    weights = with_updates(defn, health={"weights": {**defn.health_weights, "usage": 2.0}})

    def reweighted(frame: pd.DataFrame, d, ref) -> pd.Series:
        return health_band(pd.DataFrame({"health_score": health_score(frame, d, ref, components)}), d, ref)

    # A custom rule's threshold moves: rules read the features and the scores label_all adds.
    labelled = pd.concat([features, label_all(features, defn, reference).drop(
        columns=[c for c in ("customer_id", "mrr") if c in features.columns])], axis=1)
    rules = definition_to_dict(defn)["custom"]
    rules["rules"][0]["expr"] = rules["rules"][0]["expr"].replace(">= 20", ">= 25")
    rule_edit = with_updates(defn, custom=rules)
    for name, scheme, frame, d in (("value_tier", value_tier, features, moved),
                                   ("behavior", behavior, features, moved),
                                   ("lifecycle", lifecycle, features, moved),
                                   ("health_band (band edge; scores kept)", health_band, scores, edge),
                                   ("health_band (weights; component scores kept)", reweighted, features, weights),
                                   ("health_band (weights; scores recomputed)", health_band, features, weights),
                                   ("custom rules (a rule's threshold)", custom, labelled, rule_edit)):
        scheme(frame, d, reference)  # warm-up
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            scheme(frame, d, reference)
            runs.append(time.perf_counter() - t)
        print(f"relabel {name}: {min(runs) * 1000:.1f} ms (best of 5)")

    if args.history:
        dates = [AS_OF] + [add_months(AS_OF, -k) for k in range(1, 14)]
        start = time.perf_counter()
        n = sum(len(f) for _, f in customer_features_at(tables, dates, feature_params(defn), "subscription"))
        history_s = time.perf_counter() - start
        print(f"features at {len(dates)} dates (customer_features_at): {history_s:.2f} s for {n:,} customer-dates, "
              f"peak RSS {peak_rss_mb():,.0f} MB")


if __name__ == "__main__":
    main()
