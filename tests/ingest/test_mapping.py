"""Exports from the tools startups use are recognised without a manual mapping."""
from __future__ import annotations

import pytest

from ingest.mapping import guess_mapping, guess_table, normalise

# Column headers as the vendors document their exports.
STRIPE_INVOICES = ["id", "Customer", "Customer Email", "Customer Name", "Amount Due", "Amount Paid",
                   "Currency", "Date (UTC)", "Period Start (UTC)", "Period End (UTC)", "Status", "Subscription"]
STRIPE_SUBSCRIPTIONS = ["id", "Customer ID", "Customer Name", "Plan", "Product", "Quantity", "Interval",
                        "Amount", "Status", "Created (UTC)", "Start (UTC)", "Current Period Start (UTC)",
                        "Current Period End (UTC)", "Canceled At (UTC)", "Ended At (UTC)"]
HUBSPOT_COMPANIES = ["Record ID", "Company name", "Company owner", "Create Date", "Industry",
                     "Number of Employees", "Country/Region", "Original Source", "Annual Revenue"]
ZENDESK_TICKETS = ["Id", "Requester", "Organization", "Created at", "Subject", "Status", "Priority",
                   "Ticket type", "Satisfaction Score", "Total time spent (sec)"]
SEGMENT_TRACKS = ["messageId", "anonymousId", "userId", "groupId", "event", "timestamp", "properties"]
AMPLITUDE_EVENTS = ["amplitude_id", "user_id", "device_id", "event_type", "event_time", "account_id"]
TELCO = ["customerID", "gender", "tenure", "Contract", "MonthlyCharges", "TotalCharges", "Churn"]
ONLINE_RETAIL = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                 "CustomerID", "Country"]


@pytest.mark.parametrize("name, columns, table, expected", [
    ("invoices.csv", STRIPE_INVOICES, "revenue",
     {"customer_id": "Customer", "date": "Date (UTC)", "amount": "Amount Paid",
      "period_start": "Period Start (UTC)", "period_end": "Period End (UTC)", "currency": "Currency"}),
    ("subscriptions.csv", STRIPE_SUBSCRIPTIONS, "revenue",
     {"customer_id": "Customer ID", "start_date": "Start (UTC)", "end_date": "Ended At (UTC)",
      "mrr": "Amount", "interval": "Interval", "plan": "Plan"}),
    ("hubspot-companies.csv", HUBSPOT_COMPANIES, "customers",
     {"customer_id": "Record ID", "signup_date": "Create Date", "name": "Company name", "industry": "Industry",
      "employees": "Number of Employees", "country": "Country/Region", "channel": "Original Source"}),
    ("zendesk_tickets.csv", ZENDESK_TICKETS, "tickets",
     {"customer_id": "Organization", "created_at": "Created at", "minutes": "Total time spent (sec)",
      "category": "Ticket type", "csat": "Satisfaction Score"}),
    ("tracks.csv", SEGMENT_TRACKS, "events",
     {"customer_id": "groupId", "timestamp": "timestamp", "event": "event", "user_id": "userId"}),
    ("amplitude_export.csv", AMPLITUDE_EVENTS, "events",
     {"customer_id": "account_id", "timestamp": "event_time", "event": "event_type", "user_id": "user_id"}),
    ("Telco-Customer-Churn.csv", TELCO, "revenue",
     {"customer_id": "customerID", "tenure_months": "tenure", "mrr": "MonthlyCharges", "churned": "Churn"}),
    ("online_retail.csv", ONLINE_RETAIL, "revenue",
     {"customer_id": "CustomerID", "date": "InvoiceDate", "quantity": "Quantity", "unit_price": "UnitPrice"}),
])
def test_vendor_exports_are_recognised_and_mapped(name, columns, table, expected):
    assert guess_table(name, columns) == table
    mapping = guess_mapping(table, columns)
    assert {k: mapping.get(k) for k in expected} == expected


def test_recognition_works_without_a_telling_file_name():
    assert guess_table("export (3).csv", ["customer_id", "timestamp", "event", "user_id"]) == "events"
    assert guess_table("export (4).csv", ["customer_id", "date", "score", "comment"]) == "nps"
    assert guess_table("export (5).csv", ["month", "channel", "spend"]) == "spend"


def test_column_names_are_normalised_case_and_punctuation_insensitively():
    assert normalise("Period Start (UTC)") == "period_start"
    assert normalise("  Customer-ID ") == "customer_id"
    assert normalise("Country/Region") == "country_region"
