"""CSV files the product writes cannot run formulas when opened in a spreadsheet."""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from ingest import export
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


def _old_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The writer before the column-at-a-time one: the bytes every CSV must still have."""
    return neutralise_formulas(frame).to_csv(index=False).encode("utf-8-sig")


def _every_dtype() -> pd.DataFrame:
    """One column per dtype the product writes (and a few it might), with the values whose text is easy to
    get wrong: to_csv's own output for them is the expected bytes."""
    n = 12
    floats = [0.0, -0.0, 100.0, 0.1, -2.5, 1e-05, 1.5e-05, 1e-04, 1e+16, 1.5e+22, 123456789012345678.0,
              9999999999999998.0]
    more_floats = [float("nan"), float("inf"), float("-inf"), 1e15, 1000000000000000.5, 5e-324,
                   0.30000000000000004, 12345.678, -1e-7, 1.7976931348623157e308, 349.99, float("nan")]
    times = ["2026-01-31 00:00:00", "2026-02-01 13:45:10", None] + ["2025-12-31 00:00:00"] * (n - 3)
    return pd.DataFrame({
        "float": floats,
        "float_edges": more_floats,
        "int": [0, -1, 2**62, 7, -(2**62), 10, 11, 12, 13, 14, 15, 16],
        "bool": [True, False] * (n // 2),
        "object_bool": [True, False, None] * (n // 3),
        "dates_s": pd.to_datetime(["2026-01-31", None] + ["2024-02-29"] * (n - 2)).astype("datetime64[s]"),
        "times_us": pd.to_datetime(times).astype("datetime64[us]"),
        "times_ns": pd.to_datetime(times[:-1] + ["2026-03-01 00:00:00.000000001"], format="ISO8601")
                      .astype("datetime64[ns]"),
        "utc": pd.to_datetime(times, utc=True),
        "category": pd.Categorical(["Self-serve", None, "Mid, market", "Enterprise"] * (n // 4)),
        "category_formula": pd.Categorical(["=1+1", "ok", None] * (n // 3)),
        "category_numbers": pd.Categorical([1.5, 2.0, None, 100.0] * (n // 4)),
        "arrow_str": pd.Series(["Acme", None, "Café ☕", "a\"b", "x,y", "", " lead", "trail ",
                                "two  spaces", "line\nbreak", "cr\rreturn", "日本"], dtype="str"),
        "string_pyarrow": pd.Series(["€10", None, "plain", "naïve", "", "\"q\"", "a,b", "x\ny", "1e-05",
                                     "nan", "None", None], dtype="string[pyarrow]"),
        "string_python": pd.Series(["x", None, "a,b", "ü"] * (n // 4), dtype="string[python]"),
        "object_str": pd.Series(["a,b", "say \"hi\"", "two\nlines", "Zoë", "", None, float("nan"),
                                 "crlf\r\n", "tab\tinside", "'quoted'", "x", "y"], dtype=object),
        "formulas": pd.Series(["=SUM(A1)", "+1 555", "-cmd", "@home", "\tTab", "\rCR", "ok", None, "=a,b",
                               "=\"q\"", "+", "-3"], dtype="str"),
        "object_formulas": pd.Series(["=1+1", "fine", None, "@x", "-", "+a\nb", "a", "b", "c", "d", "e", "f"],
                                     dtype=object),
        "object_mixed": pd.Series([1, 2.5, "x", None, True, pd.Timestamp("2026-01-01"), b"b", 3, "y, z",
                                   float("nan"), 0.5, "say \"q\""], dtype=object),
        "int8": pd.array([1, None, -3, 4] * (n // 4), dtype="Int8"),
        "boolean": pd.array([True, None, False] * (n // 3), dtype="boolean"),
        "float_ea": pd.array([1.0, None, 0.1, 1e-05] * (n // 4), dtype="Float64"),
        "float32": np.array([0.1, 1.5, -2.0, 1e-05] * (n // 4), dtype=np.float32),
        "timedelta": pd.to_timedelta([1, None, 3] * (n // 3), unit="D"),
    })


@pytest.mark.parametrize("copies", [1, 10, 900])
def test_the_writer_gives_the_bytes_to_csv_gave_for_every_dtype(tmp_path, copies):
    # 900 copies are 10,800 rows, three to_csv chunks of 4,166 rows (100,000 cells): times_us is written
    # with times in the first two and as dates in the last, where every time is midnight
    frame = pd.concat([_every_dtype()] * copies, ignore_index=True)
    frame.loc[len(frame) // 2:, "times_us"] = pd.Timestamp("2026-05-05")
    expected = _old_csv_bytes(frame)
    write_csv(frame, tmp_path / "out.csv")
    assert csv_bytes(frame) == expected
    assert (tmp_path / "out.csv").read_bytes() == expected


def test_batches_of_chunks_keep_to_csvs_chunk_edges(tmp_path, monkeypatch):
    monkeypatch.setattr(export, "_CHUNKS_PER_BATCH", 2)  # 12,000 rows: batches of two chunks of 4,166 rows
    frame = pd.concat([_every_dtype()] * 1000, ignore_index=True)
    frame["times_us"] = pd.Timestamp("2026-05-05")
    frame.loc[5_000:5_100, "times_us"] = pd.Timestamp("2026-05-05 12:00")  # only the second chunk shows times
    write_csv(frame, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == _old_csv_bytes(frame)


@pytest.mark.parametrize("frame", [
    pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype="str")}),
    pd.DataFrame(),
    pd.DataFrame(index=range(3)),
    pd.DataFrame({"only": [None, "", "x", float("nan")]}, dtype=object),
    pd.DataFrame({"only": [float("nan"), 1.0]}),
    pd.DataFrame({"=formula, header": [1], "\"quoted\"": ["a"], "line\nbreak": [1.5], "": [2]}),
    pd.DataFrame({1: [1.0], 2.5: ["x"]}),
], ids=["no-rows", "no-columns-no-rows", "no-columns", "one-text-column", "one-float-column",
        "awkward-headers", "number-headers"])
def test_frames_of_unusual_shape_are_written_as_to_csv_wrote_them(tmp_path, frame):
    expected = _old_csv_bytes(frame)
    write_csv(frame, tmp_path / "out.csv")
    assert csv_bytes(frame) == expected
    assert (tmp_path / "out.csv").read_bytes() == expected


def _frames() -> dict[str, pd.DataFrame]:
    return {"customers.csv": pd.DataFrame({"customer_id": ["a", "b"], "note": ["=1+1", "Café"], "mrr": [1.5, None]}),
            "mrr.csv": pd.DataFrame({"month": ["2026-01", "2026-02"], "new": [100, 0]})}


def test_a_report_folder_writes_each_file_under_its_name_only_when_committed(tmp_path):
    frames = _frames()
    with export.ReportFolder(tmp_path) as folder:
        for name, frame in frames.items():
            folder.write(name, frame)
        folder.write_bytes("pack.html", b"<html>pack</html>")
        assert "customers.csv" in folder and "other.csv" not in folder
        frames["customers.csv"].loc[0, "note"] = "changed after the write started"   # not in the file
        assert not [p for p in tmp_path.iterdir() if not p.name.startswith(".")]  # nothing named yet
        assert folder.commit({"as_of": "2026-11-01"}) == (["customers.csv", "mrr.csv", "pack.html", "report.json"],
                                                          [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "mrr.csv", "pack.html",
                                                          "report.json"]   # no temporary left
    assert (tmp_path / "customers.csv").read_bytes() == csv_bytes(_frames()["customers.csv"])
    assert (tmp_path / "mrr.csv").read_bytes() == csv_bytes(frames["mrr.csv"])
    assert (tmp_path / "pack.html").read_bytes() == b"<html>pack</html>"
    assert json.loads((tmp_path / "report.json").read_text()) == {
        "as_of": "2026-11-01",
        "files": [{"name": "customers.csv", "rows": len(frames["customers.csv"])},
                  {"name": "mrr.csv", "rows": len(frames["mrr.csv"])}, {"name": "pack.html"}]}


def test_a_report_folder_removes_the_tables_only_the_previous_run_wrote_and_nothing_else(tmp_path):
    frames = _frames()
    with export.ReportFolder(tmp_path) as folder:
        folder.write("customers.csv", frames["customers.csv"])
        folder.write("mrr.csv", frames["mrr.csv"])
        folder.write_bytes("pack.pdf", b"%PDF dated on its first page")
        folder.commit({})
    (tmp_path / "notes.txt").write_text("the user's own file")
    with export.ReportFolder(tmp_path) as folder:
        folder.write("customers.csv", frames["customers.csv"])
        assert folder.commit({}) == (["customers.csv", "report.json"], ["mrr.csv"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "notes.txt", "pack.pdf", "report.json"]


@pytest.mark.parametrize("manifest", [
    "not json", '{"files": "mrr.csv"}', '{"files": [{"file": "mrr.csv"}]}', '[]',
    '{"files": [{"name": "mrr.csv"}]}',   # a file without rows: not a table
    '{"files": [{"name": "../outside.csv", "rows": 1}, {"name": "sub/mrr.csv", "rows": 1}, {"name": "..", "rows": 1},'
    ' {"name": 7, "rows": 1}]}'])
def test_a_report_folder_removes_nothing_a_manifest_does_not_plainly_name(tmp_path, manifest):
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    kept = [out / "mrr.csv", out / "sub" / "mrr.csv", tmp_path / "outside.csv"]
    for path in kept:
        path.write_text("kept")
    (out / "report.json").write_text(manifest)
    with export.ReportFolder(out) as folder:
        folder.write("customers.csv", _frames()["customers.csv"])
        assert folder.commit({})[1] == []
    for path in kept:
        assert path.read_text() == "kept"
    assert json.loads((out / "report.json").read_text())["files"] == [{"name": "customers.csv", "rows": 2}]


def test_a_csv_folder_left_on_an_error_keeps_the_files_it_had(tmp_path):
    (tmp_path / "customers.csv").write_text("the previous run's file")
    with pytest.raises(ValueError, match="computing the rest failed"):
        with export.ReportFolder(tmp_path) as folder:
            folder.write("customers.csv", _frames()["customers.csv"])
            raise ValueError("computing the rest failed")
    assert [p.name for p in tmp_path.iterdir()] == ["customers.csv"]
    assert (tmp_path / "customers.csv").read_text() == "the previous run's file"


def test_a_csv_folder_raises_a_failed_write_at_commit_and_names_nothing(tmp_path):
    (tmp_path / "mrr.csv").write_text("the previous run's file")
    with pytest.raises(OSError):
        with export.ReportFolder(tmp_path / "gone") as folder:   # a folder that does not exist: the write fails
            folder.write("customers.csv", _frames()["customers.csv"])
            folder.commit({})
    with pytest.raises(ValueError, match="already written"):
        with export.ReportFolder(tmp_path) as folder:
            folder.write("mrr.csv", _frames()["mrr.csv"])
            folder.write("mrr.csv", _frames()["mrr.csv"])
    with pytest.raises(ValueError, match="manifest"):
        with export.ReportFolder(tmp_path) as folder:
            folder.write_bytes("report.json", b"{}")
    assert [p.name for p in tmp_path.iterdir()] == ["mrr.csv"]
    assert (tmp_path / "mrr.csv").read_text() == "the previous run's file"
