"""Bad input gets a clear message that names the file, column and rows, and changes nothing stored."""
from __future__ import annotations

import io
import json
import zipfile

import pandas as pd

from ingest.load import LoadOptions, Upload, load, prepare
from ingest.store import Workspace
from tests.ingest.conftest import TODAY, csv_upload


def _only(result, severity="error"):
    found = [p for p in result.problems.items if p.severity == severity]
    assert found, f"expected a {severity}; got {result.problems.text() or 'no problems'}"
    return found


def test_an_empty_file_is_an_error(options):
    result = prepare([Upload("revenue.csv", b"")], options)
    (problem,) = _only(result)
    assert problem.file == "revenue.csv" and "empty" in problem.message


def test_a_header_without_rows_is_an_error(options):
    result = prepare([Upload("revenue.csv", b"customer_id,date,amount\n")], options)
    assert "no data rows" in _only(result)[0].message


def test_a_binary_file_is_not_a_table(options):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    result = prepare([Upload("revenue.csv", png)], options)
    assert "not a table" in _only(result)[0].message


def test_a_zip_archive_with_a_csv_extension_says_to_unzip_it(options):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("revenue.csv", "customer_id,date,amount\n1,2026-01-01,5\n")
    result = prepare([Upload("revenue.csv", buffer.getvalue())], options)
    assert "Unzip" in _only(result)[0].message


def test_a_missing_required_column_names_the_columns_found_and_the_names_tried(options):
    upload = csv_upload("tickets.csv", """
        customer_id,subject
        1,Login broken
    """, table="tickets")
    result = prepare([upload], options)
    problem = next(p for p in _only(result) if p.table == "tickets")
    assert problem.column == "created_at"
    assert "Columns found: customer_id, subject" in problem.message
    assert "created_at, created" in problem.message  # synonyms tried


def test_an_unrecognisable_file_lists_its_columns(options):
    result = prepare([csv_upload("stuff.csv", "foo,bar\n1,2\n")], options)
    assert "Columns found: foo, bar" in _only(result)[0].message


def test_unparseable_dates_show_examples_and_formats_tried(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,10
        2,yesterday,10
        3,2026-13-45,10
    """)
    (problem,) = _only(prepare([upload], options))
    assert problem.column == "date" and problem.rows == (3, 4) and problem.count == 2
    assert "'yesterday'" in problem.message and "DD/MM/YYYY" in problem.message


def test_dates_after_today_are_an_error(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,10
        2,2027-03-01,10
    """)
    (problem,) = _only(prepare([upload], options))
    assert problem.rows == (3,) and "after today" in problem.message and "2027-03-01" in problem.message


def test_non_numeric_amounts_are_an_error(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,10
        2,2026-01-16,ten dollars
    """)
    (problem,) = _only(prepare([upload], options))
    assert problem.column == "amount" and problem.rows == (3,) and "'ten dollars'" in problem.message


def test_duplicate_customer_ids_in_customers_are_an_error(options, revenue_csv):
    customers = csv_upload("customers.csv", """
        customer_id,signup_date
        00017,2026-01-10
        00042,2026-02-01
        00017,2026-03-01
    """)
    (problem,) = _only(prepare([customers, revenue_csv], options))
    assert problem.file == "customers.csv" and problem.rows == (2, 4) and "'00017'" in problem.message


def test_rows_of_customers_unknown_to_customers_are_a_warning_with_a_count(options, revenue_csv):
    customers = csv_upload("customers.csv", "customer_id,signup_date\n00017,2026-01-10\n")
    events = csv_upload("events.csv", """
        customer_id,timestamp,event
        00017,2026-02-01 10:00,login
        99999,2026-02-01 11:00,login
        99999,2026-02-02 11:00,login
    """)
    result = prepare([customers, revenue_csv, events], options)
    assert result.ok
    warnings = {p.table: p for p in _only(result, "warning") if p.column == "customer_id"}
    assert warnings["events"].count == 2 and warnings["events"].rows == (3, 4)
    assert len(result.tables["events"]) == 1
    # revenue of a customer missing from customers is kept: the customer is added
    assert warnings["revenue"].count == 1
    assert set(result.tables["customers"]["customer_id"]) == {"00017", "00042"}


def test_negative_ticket_minutes_are_an_error(options, revenue_csv):
    tickets = csv_upload("tickets.csv", """
        customer_id,created_at,minutes
        00017,2026-02-01,12
        00017,2026-02-02,-5
    """)
    (problem,) = _only(prepare([revenue_csv, tickets], options))
    assert problem.table == "tickets" and problem.column == "minutes" and problem.rows == (3,)


def test_nps_scores_outside_0_to_10_are_an_error(options, revenue_csv):
    nps = csv_upload("nps.csv", """
        customer_id,date,score
        00017,2026-02-01,9
        00042,2026-02-05,11
    """)
    (problem,) = _only(prepare([revenue_csv, nps], options))
    assert problem.table == "nps" and problem.rows == (3,) and "0-10" in problem.message


def test_a_subscription_that_ends_before_it_starts_is_an_error(options):
    subs = csv_upload("subscriptions.csv", """
        customer_id,start_date,end_date,mrr
        1,2026-01-01,2026-03-01,100
        2,2026-05-01,2026-02-01,100
    """)
    (problem,) = _only(prepare([subs], options))
    assert problem.column == "end_date" and problem.rows == (3,)


def test_a_service_period_that_ends_before_it_starts_is_an_error(options):
    invoices = csv_upload("invoices.csv", """
        customer_id,date,amount,period_start,period_end
        1,2026-01-01,100,2026-01-01,2025-01-01
    """)
    (problem,) = _only(prepare([invoices], options))
    assert problem.column == "period_end"


def test_a_snapshot_without_a_snapshot_date_is_an_error(options):
    snapshot = csv_upload("crm.csv", """
        customer_id,tenure,monthly_charges,churn
        1,12,50,No
    """)
    (problem,) = _only(prepare([snapshot], options))
    assert "snapshot date" in problem.message


def test_an_incomplete_last_month_is_a_warning_that_names_it(options, revenue_csv):
    result = prepare([revenue_csv], options)
    (warning,) = _only(result, "warning")
    assert "February 2026, is incomplete" in warning.message and "January 2026" in warning.message
    assert result.meta["last_complete_month"] == "2026-01"


def test_a_file_over_the_size_limit_is_refused_unread(revenue_csv):
    result = prepare([revenue_csv], LoadOptions(today=TODAY, size_limit=10))
    assert "over the limit" in _only(result)[0].message


def test_several_currencies_are_an_error(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount,currency
        1,2026-01-15,10,usd
        2,2026-01-15,10,EUR
    """)
    assert "2 currencies" in _only(prepare([upload], options))[0].message


def test_rows_without_a_customer_id_are_skipped_with_a_count_and_the_revenue_they_hold(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,30
        ,2026-01-15,10
    """)
    result = prepare([upload], options)
    assert result.ok
    skipped = next(p for p in _only(result, "warning") if p.column == "customer_id")
    assert skipped.count == 1 and skipped.rows == (3,)
    # An order export's guest checkouts: the user learns what share of revenue every figure leaves out.
    assert "They hold 10.00 of the file's 40.00 net amount (25.0%)" in skipped.message
    # Order lines: quantity x unit price.
    lines = csv_upload("orders.csv", """
        CustomerID,InvoiceDate,Quantity,UnitPrice
        1,2026-01-15,3,10
        ,2026-01-15,1,10
    """)
    skipped = next(p for p in _only(prepare([lines], options), "warning") if p.column == "CustomerID")
    assert "(25.0%)" in skipped.message


def test_revenue_is_required(options, customers_csv):
    result = prepare([customers_csv], options)
    assert not result.ok and "Revenue is required" in _only(result)[0].message


def test_an_explicit_mapping_overrides_the_guess(options):
    upload = csv_upload("revenue.csv", """
        account,booked_on,net
        1,2026-01-15,10
    """, mapping={"customer_id": "account", "date": "booked_on", "amount": "net"}, table="revenue")
    result = prepare([upload], options)
    assert result.ok and list(result.tables["revenue"]["amount_cents"]) == [1000]


def test_one_column_mapped_to_two_values_is_named_as_such(options):
    """Mapping `net` to both date and amount read "Required column(s) not found: date", though the user had
    just mapped it (the second mapping took the column from the first)."""
    upload = csv_upload("revenue.csv", """
        account,booked_on,net
        1,2026-01-15,10
    """, mapping={"customer_id": "account", "date": "net", "amount": "net"}, table="revenue")
    result = prepare([upload], options)
    assert not result.ok
    assert [p.message for p in _only(result)] == ["Column 'net' is mapped to both date and amount: a column holds "
                                                  "one of them. Pick the right column for each in the mapping."]


def test_a_failed_load_leaves_the_previous_data_intact(tmp_path, options, revenue_csv):
    ws = Workspace(tmp_path / "w.duckdb")
    first = load(ws, [revenue_csv], options)
    assert first.ok
    before = (ws.data_version, ws.table("revenue"))
    bad_tickets = csv_upload("tickets.csv", "customer_id,created_at,minutes\n00017,2026-02-01,-1\n")
    second = load(ws, [revenue_csv, bad_tickets], options)
    assert not second.ok and second.version is None
    assert ws.data_version == before[0]
    pd.testing.assert_frame_equal(ws.table("revenue"), before[1])
    assert "tickets" not in ws.tables()


def test_a_successful_load_stores_typed_tables_and_a_new_version(tmp_path, options, revenue_csv, customers_csv):
    ws = Workspace(tmp_path / "w.duckdb")
    result = load(ws, [revenue_csv, customers_csv], options)
    assert result.ok and ws.data_version == result.version
    types = dict(ws.cursor().execute("SELECT column_name, data_type FROM information_schema.columns "
                                     "WHERE table_name = 'customers'").fetchall())
    assert types["signup_date"] == "DATE" and types["employees"] == "DOUBLE" and types["region"] == "VARCHAR"
    assert ws.meta()["revenue_model"] == "transactional"
    # The load's warnings stay with the data, for the Data page: here February is the incomplete last month.
    warnings = json.loads(ws.meta()["warnings"])
    assert [w["message"][:42] for w in warnings] == ["The last month, February 2026, is incomple"]
    assert warnings[0]["file"] == "revenue.csv"
    assert load(ws, [revenue_csv, customers_csv], options).version != result.version


def test_infinite_and_absurd_amounts_are_an_error_naming_their_rows(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,100.00
        2,2026-01-16,inf
        3,2026-01-17,1e20
    """)
    error = _only(prepare([upload], options))[0]
    assert error.column == "amount" and error.rows == (3, 4)
    assert "2 value(s) are not amounts (or are infinite or over a trillion), e.g. 'inf', '1e20'" in error.message


def test_a_customer_refunded_more_than_it_paid_is_a_warning_naming_the_refund_rows(options):
    """A refund typed with two zeros too many loaded silently: the customer's months read 0 and the refunds
    column grew, with nothing to say why. Online Retail has 41 such customers (orders placed before the
    export starts); a refund within what the customer paid says nothing."""
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        A,2026-01-05,100.00
        A,2026-02-05,-10000.00
        B,2026-01-07,50.00
        B,2026-01-09,-50.00
        C,2026-02-01,-5.00
    """)
    result = prepare([upload], options)
    assert result.ok   # a warning: the load goes ahead
    warning = next(p for p in _only(result, "warning") if "refunded" in p.message)
    assert warning.column == "amount" and warning.rows == (3, 6)
    assert warning.message.startswith("2 customer(s) were refunded more than the file shows them paying, e.g. A: "
                                      "paid 100.00, refunded 10,000.00.")


def test_a_revenue_file_with_no_row_left_is_an_error_not_a_crash(options):
    for body in ("customer_id,date,amount\n,2026-01-15,10\n,2026-01-16,20\n",
                 "customer_id,date,amount\n1,,10\n2,,20\n"):
        result = prepare([Upload("revenue.csv", body.encode())], options)
        assert not result.ok and "No row is left once the rows without a customer id" in _only(result)[0].message


def test_rows_without_an_amount_are_skipped_with_a_warning(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,2026-01-15,30
        2,2026-01-15,
    """)
    result = prepare([upload], options)
    assert result.ok and list(result.tables["revenue"]["customer_id"]) == ["1"]
    skipped = next(p for p in _only(result, "warning") if p.column == "amount")
    assert skipped.rows == (3,) and "1 row(s) without amount were skipped" in skipped.message


def test_an_invoice_exported_twice_counts_once_and_identical_order_lines_are_said(options):
    overlapping = csv_upload("revenue.csv", """
        invoice_id,customer_id,date,amount
        INV-1,1,2026-01-15,100.00
        INV-2,2,2026-01-20,250.50
        INV-2,2,2026-01-20,250.50
    """)
    result = prepare([overlapping], options)
    assert result.ok and list(result.tables["revenue"]["amount_cents"]) == [10000, 25050]
    repeat = next(p for p in _only(result, "warning") if p.column == "invoice_id")
    assert repeat.rows == (4,) and "each was counted once" in repeat.message
    # Without an id naming each row once (order lines share their invoice's number), repeats are two sales.
    lines = csv_upload("revenue.csv", """
        InvoiceNo,customer_id,date,amount
        536365,1,2026-01-15,2.55
        536365,1,2026-01-15,2.55
        536365,1,2026-01-15,3.39
    """)
    result = prepare([lines], options)
    assert list(result.tables["revenue"]["amount_cents"]) == [255, 255, 339]
    assert "They count as separate sales; if two exports overlap" in _only(result, "warning")[0].message


def test_two_columns_with_one_name_once_trimmed_are_an_error(options):
    result = prepare([Upload("revenue.csv", b"customer_id,date,amount,amount \n1,2026-01-15,10,11\n")], options)
    error = _only(result)[0]
    assert error.column == "amount" and "Two columns are both named 'amount'" in error.message


def test_an_error_no_check_foresaw_is_a_message_and_nothing_is_stored(tmp_path, options, revenue_csv, monkeypatch):
    import ingest.load

    ws = Workspace(tmp_path / "w.duckdb")
    assert load(ws, [revenue_csv], options).ok
    version = ws.data_version

    def unforeseen(*args, **kwargs):
        raise TypeError("unsupported operand")

    for step in ("_convert", "build_ledger"):
        with monkeypatch.context() as patch:
            patch.setattr(ingest.load, step, unforeseen)
            result = load(ws, [revenue_csv], options)
        assert not result.ok and not result.tables and ws.data_version == version
        assert "could not be checked (TypeError: unsupported operand). Nothing was stored" in _only(result)[0].message


def test_dates_that_read_both_day_first_and_month_first_are_read_month_first_with_a_warning(options):
    upload = csv_upload("revenue.csv", """
        customer_id,date,amount
        1,03/04/2026,10
        2,05/06/2026,20
    """)
    result = prepare([upload], options)
    assert result.ok and str(result.tables["revenue"]["date"].iloc[0]) == "2026-03-04"
    warning = next(p for p in _only(result, "warning") if p.column == "date")
    assert warning.message.startswith("Every date reads both as MM/DD/YYYY and as DD/MM/YYYY (no day is above 12): "
                                      "they were read as MM/DD/YYYY, so 03/04/2026 is 4 March 2026.")
    # a day above 12 settles it: no warning
    settled = csv_upload("revenue.csv", "customer_id,date,amount\n1,03/04/2026,10\n2,25/06/2026,20\n")
    assert not [p for p in prepare([settled], options).problems.items if p.column == "date"]


def test_a_payment_method_column_is_not_an_id_and_quantities_with_three_decimals_stay_small(options):
    # Review of the audit's fixes: a "payment" column naming the card is no invoice id (two equal sales
    # are kept), and "1.000" of a quantity beside prices in cents is 1, said in a warning.
    upload = csv_upload("revenue.csv", """
        customer_id,date,quantity,unit_price,payment
        C1,2026-01-05,1.000,12.50,Visa
        C1,2026-01-05,1.000,12.50,Visa
        C2,2026-01-06,2.000,3.99,Amex
    """)
    result = prepare([upload], options)
    assert result.ok and list(result.tables["revenue"]["amount_cents"]) == [1250, 1250, 798]
    notes = [p.message for p in _only(result, "warning")]
    assert any(m.startswith("No value shows whether the dot in numbers like '1.000' is a decimal point") for m in notes)
    assert any("They count as separate sales" in m for m in notes)
