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


def test_an_excel_workbook_saved_under_a_csv_name_is_read_as_one_with_a_warning(options):
    """By content first: a workbook renamed revenue.csv was "a zip archive, not a table", which told an
    Excel user nothing."""
    buffer = io.BytesIO()
    pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).to_excel(buffer, index=False)
    result = prepare([Upload("revenue.csv", buffer.getvalue())], options)
    _assert_read(result)
    assert "revenue.csv: This is an Excel workbook, though its name ends in .csv: it was read as one." in \
        result.problems.text()
    import zipfile
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("revenue.csv", _text(","))
    assert "This is a zip archive, not a table." in prepare([Upload("export.zip", other.getvalue())],
                                                           options).problems.text()


@pytest.mark.parametrize("data, says", [
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "This is an old Excel file (.xls, Excel 97-2003), which is "
     "not read: open it in Excel and save it as an Excel workbook (.xlsx) or CSV, then upload that."),
    (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" + bytes(100), "This is a PDF document, not a table: export the data "
     "itself from the tool it came from, as CSV or Excel (.xlsx), and upload that.")])
def test_an_old_excel_file_or_a_pdf_is_told_what_to_export_instead(options, data, says):
    """The Data page takes any file, so an .xls or a PDF reaches these sentences (Streamlit said
    "application/vnd.ms-excel files are not allowed"; a PDF read as a CSV named its first line a column)."""
    result = prepare([Upload("report.xls", data)], options)
    assert not result.ok
    assert result.problems.text().startswith(f"ERROR: report.xls: {says}")


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


def test_windows_excel_cp1252_reads_the_euro_sign_and_accented_names(options):
    # Excel on Windows saves CSV as cp1252: "€" is byte 0x80 and "Š" 0x8A, control characters in Latin-1.
    text = "customer_id;date;amount;plan\n1;15.01.2026;€ 1.234,50;Škoda\n2;16.01.2026;€ 12,00;O’Brien\n"
    result = prepare([Upload("revenue.csv", text.encode("cp1252"))], options)
    assert result.ok, result.problems.text()
    assert list(result.tables["revenue"]["amount_cents"]) == [123450, 1200]
    assert list(result.tables["revenue"]["plan"]) == ["Škoda", "O’Brien"]


def test_excel_unicode_text_utf16_with_tabs_reads(options):
    _assert_read(prepare([Upload("revenue.txt", _text("\t").encode("utf-16"))], options))


def test_a_delimiter_ending_every_data_row_but_not_the_header_is_dropped(options):
    # A spreadsheet's empty last column: every data row ends with "," and the header does not.
    text = "customer_id,date,amount\n00017,2026-01-15,100.00,\n00042,2026-02-03,250.50,\n"
    _assert_read(prepare([Upload("revenue.csv", text.encode())], options))


def test_a_value_holding_the_delimiter_unquoted_is_an_error_naming_the_line(options):
    every_row = "customer_id,date,amount\n00017,2026-01-15,$1,234.50\n00042,2026-02-03,$2,250.50\n"
    result = prepare([Upload("revenue.csv", every_row.encode())], options)
    assert not result.ok
    assert "The rows have 4 values where the header has 3 columns" in result.problems.text()
    one_row = "customer_id,date,amount\n00017,2026-01-15,100.00\n00017,2026-02-15,100.00\n00042,2026-02-03,$1,250\n"
    message = prepare([Upload("revenue.csv", one_row.encode())], options).problems.text()
    assert "Line 4 has 4 values where the header has 3 columns" in message and "without quotes" in message


def test_title_lines_above_a_csv_header_are_skipped_and_rows_keep_their_line_numbers(options):
    text = "Orders export\nGenerated 2026-03-01\n\ncustomer_id,date,amount\n00017,2026-01-15,100.00\n\n" \
           "00042,2026-02-03,250.50\n00042,someday,1.00\n"
    result = prepare([Upload("revenue.csv", text.encode())], options)
    assert "The first 3 line(s) above the header were skipped (titles, e.g. 'Orders export')" in result.problems.text()
    bad = next(p for p in result.problems.items if p.column == "date" and p.severity == "error")
    assert bad.rows == (8,)   # the file's line 8, the blank lines counted


def test_a_workbook_is_read_from_the_sheet_naming_a_table_below_its_title_rows(options):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as book:
        pd.DataFrame({"Read me": ["Exported from Billing"]}).to_excel(book, sheet_name="Read me", index=False)
        rows = pd.DataFrame([("Orders report", None, None), (None, None, None),
                             ("customer_id", "date", "amount"), *ROWS, ("00042", "someday", "1.00")])
        rows.to_excel(book, sheet_name="Orders", index=False, header=False)
    result = prepare([Upload("revenue.xlsx", buffer.getvalue())], options)
    text = result.problems.text()
    assert "Read the sheet 'Orders' (its columns name a table); the first sheet, 'Read me', was left out" in text
    assert "The first 2 row(s) of the sheet 'Orders', above its header, were skipped" in text
    bad = next(p for p in result.problems.items if p.column == "date" and p.severity == "error")
    assert bad.rows == (6,)   # the sheet's row 6


def test_an_amount_column_named_with_its_currency_is_recognised_and_gives_the_currency(options):
    text = "Customer ID,Invoice Date,Amount (USD)\n00017,2026-01-15,100.00\n00042,2026-02-03,250.50\n"
    result = prepare([Upload("revenue.csv", text.encode())], options)
    _assert_read(result)
    assert result.meta["currency"] == "USD"


def test_a_header_repeated_inside_the_file_is_skipped_with_a_warning(options):
    text = "customer_id,date,amount\n00017,2026-01-15,100.00\ncustomer_id,date,amount\n00042,2026-02-03,250.50\n"
    result = prepare([Upload("revenue.csv", text.encode())], options)
    _assert_read(result)
    assert "1 row(s) repeating the header were skipped (row 3): exports pasted one under another?" \
        in result.problems.text()


def test_a_bigger_pivot_or_hidden_sheet_after_the_data_is_not_read_instead(options):
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as book:
        pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).to_excel(book, sheet_name="Orders", index=False)
        pd.DataFrame({"Month": [f"2026-{m:02d}" for m in range(1, 13)], **{f"C{i}": range(12) for i in range(9)}}
                     ).to_excel(book, sheet_name="Summary", index=False)
        pd.DataFrame({"list": ["a"] * 99, "other": ["b"] * 99}).to_excel(book, sheet_name="Lists", index=False)
        book.book["Lists"].sheet_state = "hidden"
    result = prepare([Upload("revenue.xlsx", buffer.getvalue())], options)
    _assert_read(result)
    assert "Read the sheet" not in result.problems.text()


def _company_workbook(bad_row: bool = False, orders_2025: bool = False) -> bytes:
    """A workbook with a sheet per table, as a founder keeps one: a read-me, customers, invoices, tickets."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer) as book:
        pd.DataFrame({"Read me": ["Exported from Billing"]}).to_excel(book, sheet_name="Read me", index=False)
        pd.DataFrame({"customer_id": ["00017", "00042"], "signup_date": ["2026-01-02", "2026-01-20"],
                      "plan": ["Pro", "Basic"]}).to_excel(book, sheet_name="Customers", index=False)
        rows = pd.DataFrame([("Invoices", None, None), ("customer_id", "date", "amount"), *ROWS,
                             *([("00042", "someday", "1.00")] if bad_row else [])])
        rows.to_excel(book, sheet_name="Invoices", index=False, header=False)
        if orders_2025:
            pd.DataFrame(ROWS, columns=["customer_id", "date", "amount"]).to_excel(book, sheet_name="Orders 2025",
                                                                                    index=False)
        pd.DataFrame({"customer_id": ["00017"], "created_at": ["2026-02-03"], "minutes": [12]}).to_excel(
            book, sheet_name="Tickets", index=False)
        pd.DataFrame({"list": ["a"] * 9, "other": ["b"] * 9}).to_excel(book, sheet_name="Old", index=False)
        book.book["Old"].sheet_state = "hidden"
    return buffer.getvalue()


def test_a_workbook_with_a_sheet_per_table_loads_every_table_and_names_each_sheet(options):
    """Only the first sheet naming a table was read: the revenue and tickets of a workbook holding the
    customers first were left out without a word, and the load then said no revenue file was found."""
    result = prepare([Upload("company.xlsx", _company_workbook())], options)
    assert result.recognised == {"company.xlsx (sheet Customers)": "customers",
                                 "company.xlsx (sheet Invoices)": "revenue", "company.xlsx (sheet Tickets)": "tickets"}
    assert list(result.tables["customers"]["plan"]) == ["Pro", "Basic"]
    assert list(result.tables["revenue"]["amount_cents"]) == [10000, 25050]
    assert list(result.tables["tickets"]["customer_id"]) == ["00017"]
    assert "read as one" not in result.problems.text()   # a workbook, under its own name
    # each sheet's messages name it, with the sheet's own rows
    result = prepare([Upload("company.xlsx", _company_workbook(bad_row=True))], options)
    text = result.problems.text()
    assert "company.xlsx (sheet Invoices): The first 1 row(s) of the sheet 'Invoices', above its header, were " \
        "skipped (titles)." in text
    bad = next(p for p in result.problems.items if p.column == "date" and p.severity == "error")
    assert bad.file == "company.xlsx (sheet Invoices)" and bad.rows == (5,)


def test_two_sheets_of_one_table_are_named_and_the_user_told_to_join_them(options):
    result = prepare([Upload("company.xlsx", _company_workbook(orders_2025=True))], options)
    assert "company.xlsx (sheet Orders 2025): Two files are both the revenue table (company.xlsx (sheet Invoices) " \
        "and company.xlsx (sheet Orders 2025)). Put their rows in one sheet, or set the right table for each." \
        in result.problems.text()
    # set right, the other sheet loads as what it is
    fixed = prepare([Upload("company.xlsx (sheet Orders 2025)", _company_workbook(orders_2025=True), table="revenue",
                            sheet="Orders 2025")], options)
    assert fixed.ok, fixed.problems.text()
    assert list(fixed.tables["revenue"]["amount_cents"]) == [10000, 25050]


def test_a_header_cell_holding_a_line_break_is_still_the_header(options):
    text = '"Customer\nID",Date,Amount\n00017,2026-01-15,100.00\n00042,2026-02-03,250.50\n'
    result = prepare([Upload("revenue.csv", text.encode())], options)
    assert result.ok, result.problems.text()
    assert "skipped" not in result.problems.text() and list(result.tables["revenue"]["amount_cents"]) == [10000, 25050]


def test_two_columns_with_the_same_name_in_a_csv_are_an_error(options):
    # pandas would rename the second "amount.1" and the 99 would be left out unsaid
    result = prepare([Upload("revenue.csv", b"customer_id,date,amount,amount\n1,2026-01-15,10,99\n")], options)
    assert not result.ok and "Two columns are both named 'amount'" in result.problems.text()


def test_blank_lines_above_the_header_are_skipped_without_a_word(options):
    result = prepare([Upload("revenue.csv", ("\n\n" + _text(",")).encode())], options)
    _assert_read(result)
    assert "skipped" not in result.problems.text()


def test_a_title_line_with_two_values_taken_for_the_header_is_named_as_a_possible_title(options):
    text = "Exported on,2026-05-01\n\ncustomer_id,date,amount\n00017,2026-01-15,100.00\n"
    message = prepare([Upload("revenue.csv", text.encode())], options).problems.text()
    assert "Or line 1 ('Exported on,2026-05-01') is a title above the column names" in message


def test_rows_after_a_quoted_value_spanning_lines_are_named_by_their_file_line(options):
    text = 'customer_id,date,amount,note\n00017,2026-01-15,100.00,"line 1\nline 2\nline 3"\n00042,someday,1.00,x\n'
    bad = next(p for p in prepare([Upload("revenue.csv", text.encode())], options).problems.items
               if p.column == "date")
    assert bad.rows == (5,)   # the file's line 5, not record 3
