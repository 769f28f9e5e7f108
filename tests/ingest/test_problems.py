"""What a load warned about, as the Data page, the Overview and the board pack repeat it."""
from __future__ import annotations

import json
from datetime import date

import pandas as pd

from ingest.load import Upload, load
from ingest.problems import data_end_note, noted_at_load
from ingest.scan import scan_folder
from ingest.store import Workspace


def test_what_the_load_noted_names_the_file_and_column_where_known():
    # Telco's TotalCharges: the Overview read "11 blank value(s) in a numeric column" without saying which
    meta = {"warnings": json.dumps([
        {"file": "Telco-Customer-Churn.csv", "column": "TotalCharges", "message": "11 blank value(s) in a numeric "
         "column; kept as missing (not zero)."},
        {"file": "Telco-Customer-Churn.csv", "column": "", "message": "A CRM snapshot records churn only in its "
         "own month."},
        {"file": "", "column": "", "message": "The last month is incomplete."}])}
    assert noted_at_load(meta) == [
        ("Telco-Customer-Churn.csv, column TotalCharges", "11 blank value(s) in a numeric column; kept as missing "
                                                           "(not zero)."),
        ("Telco-Customer-Churn.csv", "A CRM snapshot records churn only in its own month."),
        ("", "The last month is incomplete.")]
    assert noted_at_load({}) == [] and noted_at_load({"warnings": ""}) == []


def test_a_view_as_of_an_earlier_date_leaves_out_the_warning_about_the_datas_last_month(tmp_path):
    """The data ends on 2 April 2026, so its load says April is incomplete and the complete months end in
    March. As of 1 March that speaks of months the view does not read: the Overview and the board pack leave
    it out (they name the view's own last complete month); other warnings stay. Both loaders' warning is
    the one data_end_note rebuilds from the meta."""
    rows = "customer_id,date,amount\nA,2026-01-10,100.00\n,2026-01-11,5.00\nB,2026-04-02,30.00\n"
    ws = Workspace(tmp_path / "ws.duckdb")
    assert load(ws, [Upload("revenue.csv", rows.encode())]).ok
    meta = ws.meta()
    end = data_end_note(meta)
    assert end.startswith("The last month, April 2026, is incomplete: the data ends on 02 Apr 2026.")
    assert [m for _, m in noted_at_load(meta)][-1] == end
    earlier = [m for _, m in noted_at_load(meta, date(2026, 3, 1))]
    assert end not in earlier and len(earlier) == len(noted_at_load(meta)) - 1 == 1   # the row without an id
    assert noted_at_load(meta, date(2026, 4, 3)) == noted_at_load(meta)
    (tmp_path / "scan").mkdir()
    pd.DataFrame({"customer_id": ["A", "B"], "date": pd.to_datetime(["2026-01-10", "2026-04-02"]),
                  "amount": [100.0, 30.0]}).to_parquet(tmp_path / "scan" / "revenue.parquet")
    _, scanned_meta, problems = scan_folder(tmp_path / "scan")
    assert data_end_note(scanned_meta) in [p.message for p in problems.items]
