"""What a load warned about, as the Data page, the Overview and the board pack repeat it."""
from __future__ import annotations

import json

from ingest.problems import noted_at_load


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
