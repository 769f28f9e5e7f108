"""Benchmark data: the sample generator at a given size, as Parquet, plus its monthly ledger.

`python -m bench.data --customers 100000 --events 10000000` writes bench/out/c100000_e10000000/ once
(reused afterwards). The ledger is built by the product's own ledger code, chunk by chunk, so memory stays
bounded at any size.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from ingest.ledger import build_ledger
from sample_data.generate import generate

__all__ = ["dataset", "OUT"]

OUT = Path(__file__).resolve().parent / "out"


def _ledger(revenue_path: Path, out_path: Path, data_end: pd.Timestamp) -> None:
    parts = out_path.parent / "_ledger_parts"
    parts.mkdir(exist_ok=True)
    source = pq.ParquetFile(revenue_path)
    for i, batch in enumerate(source.iter_batches(batch_size=2_000_000)):
        raw = batch.to_pandas()
        revenue = pd.DataFrame({
            "customer_id": raw["customer_id"].astype("string"),
            "date": pd.to_datetime(raw["date"]),
            "period_start": pd.to_datetime(raw["period_start"]),
            "period_end": pd.to_datetime(raw["period_end"]),
            "start_date": pd.NaT, "end_date": pd.NaT,
            "amount_cents": (raw["amount"].astype(float) * 100).round().astype("Int64"),
            "mrr_cents": pd.array([None] * len(raw), dtype="Int64"),
        })
        build_ledger(revenue, data_end).to_parquet(parts / f"{i:04d}.parquet", index=False)
    con = duckdb.connect()
    con.execute(f"""
        COPY (SELECT customer_id, CAST(month AS DATE) AS month, sum(revenue_cents)::BIGINT AS revenue_cents,
                     greatest(sum(revenue_cents), 0)::BIGINT AS mrr_cents,
                     greatest(-sum(revenue_cents), 0)::BIGINT AS refund_cents
              FROM read_parquet('{parts}/*.parquet') GROUP BY ALL HAVING sum(revenue_cents) <> 0
              ORDER BY customer_id, month)
        TO '{out_path}' (FORMAT parquet)""")
    for p in parts.iterdir():
        p.unlink()
    parts.rmdir()


def dataset(customers: int, events: int, seed: int = 7) -> Path:
    """The folder with customers, revenue, events, tickets, spend, nps and ledger as Parquet."""
    folder = OUT / f"c{customers}_e{events}"
    if (folder / "ledger.parquet").exists():
        return folder
    start = time.perf_counter()
    generate(folder, customers=customers, events=events, fmt="parquet", seed=seed)
    _ledger(folder / "revenue.parquet", folder / "ledger.parquet", pd.Timestamp("2026-11-01"))
    print(f"generated {folder} in {time.perf_counter() - start:.0f} s")
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    args = parser.parse_args()
    print(dataset(args.customers, args.events))


if __name__ == "__main__":
    main()
