"""Benchmark: the server's recomputation after a slider change, as the pages do it (features cached).

    python -m bench.bench_app                      # the sample company
    python -m bench.bench_app --customers 100000 --events 10000000

Targets (issues 5 and 6): under 300 ms at the sample size, under 1 s at 100,000 customers. Measured:
the Segments page after a value-tier edge or behaviour cut-off moves (relabel every customer at D, the
scheme at the comparison date, and segment economics with churn attributed by segment at each month
start), best of 3.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.engine import parquet_tables
from economics.pipeline import economics_for, shared_inputs
from segmentation.definition import default_definition, with_updates
from segmentation.features import customer_features, feature_params
from segmentation.schemes import label_all
from segmentation.transitions import scheme_labels

AS_OF = date(2026, 11, 1)
COMPARE_TO = date(2026, 8, 1)


def _tables(customers: int | None, events: int | None) -> dict:
    if customers is None:
        from ingest.load import load_sample
        from ingest.store import Workspace

        ws = Workspace(Path(tempfile.mkdtemp()) / "bench.duckdb")
        load_sample(ws)
        con = ws.ibis()
        return {n: con.table(n) for n in ws.tables()}
    from bench.data import dataset

    return parquet_tables(dataset(customers, events))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--events", type=int, default=None)
    args = parser.parse_args()
    tables = _tables(args.customers, args.events)
    defn = default_definition()
    params = feature_params(defn)
    cache: dict[date, object] = {}

    def features_at(d: date):  # as the app reads its cache: a shallow (copy-on-write) copy per read
        if d not in cache:
            cache[d] = customer_features(tables, d, params, "subscription")
        return cache[d].copy(deep=False)

    start = time.perf_counter()
    economics_for(tables, AS_OF, "value_tier", defn, features_at=features_at)
    print(f"first view (13 feature scans, then economics): {time.perf_counter() - start:.2f} s")
    moves = {"value_tier": {"value_tier": {"bands": [
                 {"label": "Self-serve", "lower": 0, "upper": 5000}, {"label": "SMB", "lower": 5000, "upper": 10000},
                 {"label": "Mid-market", "lower": 10000, "upper": 50000}, {"label": "Enterprise", "lower": 50000}]}},
             "behavior": {"behavior": {"power_top_pct": 25.0}}}
    shared = shared_inputs(tables, AS_OF, defn)  # the app caches these: they do not depend on the thresholds
    for scheme, change in moves.items():
        moved = with_updates(defn, **change)
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            label_all(features_at(AS_OF), moved)
            scheme_labels(features_at(COMPARE_TO), scheme, moved)  # the Segments page's "change" column
            economics_for(tables, AS_OF, scheme, moved, features_at=features_at,
                          shared=shared)
            runs.append(time.perf_counter() - t)
        print(f"slider change on {scheme}: {min(runs) * 1000:.0f} ms (relabel + segment economics, best of 3)")


if __name__ == "__main__":
    main()
