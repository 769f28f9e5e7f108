"""Segmentation engine: per-customer features as of a date, every segmentation scheme, one definition file,
transitions, feature adoption and cross segmentation. Pure: DataFrames and ibis tables in, DataFrames out.

Modules: definition (the TOML definition), features (per-customer features, ibis), schemes (labels),
rules (custom rules in a sandboxed DuckDB), transitions, adoption, cross.
"""
from __future__ import annotations

__all__: list[str] = []
