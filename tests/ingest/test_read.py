"""Every file format, encoding and delimiter a user exports reads the same way."""
from __future__ import annotations

import gzip
import io

import pandas as pd
import pytest

from ingest.load import Upload, prepare
from tests.ingest.conftest import csv_upload

ROWS = [("00017", "2026-01-15", "100.00"), ("00042", "2026-02-03", "250.50")]


def _text(sep: str) -> str:
    return "\n".join([sep.join(("customer_id", "date", "amount")), *(sep.join(r) for r in ROWS)]) + "\n"


def _assert_read(result) -> None:
    assert result.ok, result.problems.text()
    revenue = result.tables["revenue"]
    assert list(revenue["customer_id"]) == ["00017", "00042"]  # leading zeros kept
    assert list(revenue["amount_cents"]) == [10000, 25050]


@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_comma_semicolon_and_tab_separated_files_read_alike(sep, options):
    _assert_read(prepare([Upload("revenue.csv", _text(sep).encode())], options))


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "latin-1"])
def test_utf8_utf8_with_bom_and_latin1_read_alike(encoding, options):
    text = _text(",").replace("customer_id,date,amount", "customer_id,date,amount,plan")
    text = text.replace("100.00", "100.00,Café Crème").replace("250.50", "250.50,Über")
    result = prepare([Upload("revenue.csv", text.encode(encoding))], options)
    _assert_read(result)
    assert list(result.tables["revenue"]["plan"]) == ["Café Crème", "Über"]


def test_gzip_compressed_csv_reads(options):
    _assert_read(prepare([Upload("revenue.csv.gz", gzip.compress(_text(",").encode()))], options))


def test_excel_workbook_reads(options):
    buffer = io.BytesIO()
    pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).to_excel(buffer, index=False)
    _assert_read(prepare([Upload("revenue.xlsx", buffer.getvalue())], options))


def test_parquet_file_reads(options):
    buffer = io.BytesIO()
    frame = pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).astype({"amount": float})
    frame.to_parquet(buffer)
    _assert_read(prepare([Upload("revenue.parquet", buffer.getvalue())], options))


def test_excel_numeric_ids_lose_their_float_tail(options):
    buffer = io.BytesIO()
    pd.DataFrame({"CustomerID": [17850.0, 13047.0], "InvoiceDate": ["2011-01-04", "2011-01-05"],
                  "Amount": [10.0, 20.0]}).to_excel(buffer, index=False)
    result = prepare([Upload("orders.xlsx", buffer.getvalue())], options)
    assert list(result.tables["revenue"]["customer_id"]) == ["17850", "13047"]


def test_amounts_with_currency_symbols_and_thousands_separators_read(options):
    upload = csv_upload("revenue.csv", '''
        customer_id,date,amount
        1,2026-01-15,"$1,234.50"
        2,2026-01-15,(20.00)
    ''')
    result = prepare([upload], options)
    assert list(result.tables["revenue"]["amount_cents"]) == [123450, -2000]


def test_european_decimal_commas_in_a_semicolon_file_read(options):
    upload = csv_upload("revenue.csv", '''
        customer_id;date;amount
        1;15.01.2026;1.234,50
        2;16.01.2026;12,5
    ''')
    result = prepare([upload], options)
    assert result.ok, result.problems.text()
    assert list(result.tables["revenue"]["amount_cents"]) == [123450, 1250]
    assert str(result.tables["revenue"]["date"].iloc[0]) == "2026-01-15"
