"""An ibis DuckDB engine over the benchmark's Parquet files, with memory and threads set explicitly."""
from __future__ import annotations

import argparse
import resource
from pathlib import Path

import ibis

__all__ = ["parquet_tables", "peak_rss_mb", "size_arguments"]

TABLES = ("customers", "ledger", "events", "tickets", "nps", "spend", "revenue")


def parquet_tables(folder: Path, memory_limit: str = "1GB", threads: int = 2) -> dict[str, ibis.Table]:
    """Contract tables as ibis tables streamed from Parquet (nothing is loaded into pandas)."""
    con = ibis.duckdb.connect(memory_limit=memory_limit, threads=threads)
    return {name: con.read_parquet(folder / f"{name}.parquet", table_name=name)
            for name in TABLES if (folder / f"{name}.parquet").exists()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def size_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """--customers, --events, --memory-limit and --threads, shared by the benchmarks."""
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--threads", type=int, default=2)
    return parser
