"""Small export files written out by hand, as a user would upload them."""
from __future__ import annotations

from datetime import date

import pytest

from ingest.load import LoadOptions, Upload

TODAY = date(2026, 11, 26)


def csv_upload(name: str, text: str, encoding: str = "utf-8", **kw) -> Upload:
    body = "\n".join(line.strip() for line in text.strip().splitlines()) + "\n"
    return Upload(name, body.encode(encoding), **kw)


@pytest.fixture
def options() -> LoadOptions:
    return LoadOptions(today=TODAY)


@pytest.fixture
def revenue_csv() -> Upload:
    return csv_upload("revenue.csv", """
        customer_id,date,amount
        00017,2026-01-15,100.00
        00017,2026-02-15,100.00
        00042,2026-02-03,250.50
    """)


@pytest.fixture
def customers_csv() -> Upload:
    return csv_upload("customers.csv", """
        customer_id,signup_date,plan,industry,employees,region
        00017,2026-01-10,Team,Retail,40,EU
        00042,2026-02-01,Business,Finance,250,US
    """)
