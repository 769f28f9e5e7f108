"""CSV files the product writes cannot run formulas when opened in a spreadsheet."""
from __future__ import annotations

import io

import pandas as pd

from ingest.export import csv_bytes, neutralise_formulas, write_csv


def test_text_cells_that_start_like_a_formula_are_prefixed_and_numbers_are_not():
    frame = pd.DataFrame({
        "name": ["=HYPERLINK(\"http://x\")", "+1 555", "-cmd", "@SUM(A1)", "\tTab", "\rCR", "Acme", None],
        "mrr": [-10.5, 1, 2, 3, 4, 5, 6, 7],
    })
    out = neutralise_formulas(frame)
    assert list(out["name"][:7]) == ["'=HYPERLINK(\"http://x\")", "'+1 555", "'-cmd", "'@SUM(A1)", "'\tTab",
                                     "'\rCR", "Acme"]
    assert pd.isna(out["name"].iloc[7])
    assert out["mrr"].iloc[0] == -10.5
    assert frame["name"].iloc[0].startswith("=")  # the input is unchanged


def test_csv_bytes_round_trip_keeps_the_neutralised_text():
    data = csv_bytes(pd.DataFrame({"customer_id": ["00017"], "note": ["=1+1"]}))
    back = pd.read_csv(io.BytesIO(data), dtype=str, encoding="utf-8-sig")
    assert back.to_dict("records") == [{"customer_id": "00017", "note": "'=1+1"}]


def test_write_csv_writes_the_bytes_of_csv_bytes(tmp_path):
    frame = pd.DataFrame({"customer_id": ["a", "b", "c"], "note": ["=1+1", "Café", None],
                          "mrr": [1.5, -2.0, float("nan")], "paying": [True, False, True],
                          "day": pd.to_datetime(["2026-01-01", "2026-02-01", None])})
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == csv_bytes(frame)
    assert frame["note"].iloc[0] == "=1+1"  # the frame itself is unchanged
