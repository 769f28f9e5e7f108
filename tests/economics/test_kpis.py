"""The Overview's headline tiles: values from the last two complete months, and why a tile reads n/a."""
from __future__ import annotations

import math

import pandas as pd

from economics.assumptions import Assumptions
from economics.kpis import headline_kpis, snapshot_tiles_note

NAN = math.nan
A = Assumptions()


def _movements(months: int) -> pd.DataFrame:
    month = pd.date_range("2025-01-01", periods=months, freq="MS")
    return pd.DataFrame({"month": month, "customers_end": range(100, 100 + months),
                         "ending_mrr": [1000.0 * (i + 1) for i in range(months)]})


def _blended(note: str = "", cac: float = 900.0) -> pd.Series:
    return pd.Series({"logo_churn": 0.02, "net_ltv_cac": 3.5 if not math.isnan(cac) else NAN,
                      "payback_months": 9.0 if not math.isnan(cac) else NAN, "cac": cac, "note": note})


def test_tiles_take_the_last_and_the_previous_complete_month():
    kpis = {k.label: k for k in headline_kpis(_movements(14), (1.05, 0.9), (1.0, 0.88), _blended(), _blended(),
                                              (None, None), A)}
    assert (kpis["Paying customers"].value, kpis["Paying customers"].before) == (113.0, 112.0)
    assert (kpis["MRR"].value, kpis["MRR"].before) == (14000.0, 13000.0)
    assert (kpis["NRR (12 months)"].value, kpis["GRR (12 months)"].before) == (1.05, 0.88)
    assert "February 2026" in kpis["Paying customers"].help
    assert not any(k.missing for k in kpis.values())


def test_an_na_tile_says_what_it_needs():
    no_spend = _blended("needs spend data", cac=NAN)
    kpis = {k.label: k for k in headline_kpis(_movements(12), (NAN, NAN), (NAN, NAN), no_spend, no_spend,
                                              (None, None), A, "transactional")}
    assert kpis["NRR (12 months)"].missing == kpis["GRR (12 months)"].missing == \
        "needs 13 months; has 12"
    assert {kpis[k].missing for k in ("Net LTV : CAC (blended)", "CAC payback", "Blended CAC")} == \
        {"needs spend data"}
    assert kpis["Monthly revenue"].missing == "" and kpis["Monthly revenue"].value == 12000.0
    # Order data: customers_end counts the customers the inactivity rule keeps active, and says so.
    assert "Paying customers" not in kpis and kpis["Active customers"].value == 111.0
    assert "less than 90 days old" in kpis["Active customers"].help
    assert "customers active at the start of each month" in kpis["Monthly churn"].help
    # n/a for another reason (13 months, spend data, nobody paying a year ago): no reason is made up
    kpis = {k.label: k for k in headline_kpis(_movements(13), (NAN, NAN), (NAN, NAN), _blended(), _blended(),
                                              (None, None), A)}
    assert kpis["NRR (12 months)"].missing == "" and kpis["Blended CAC"].missing == ""


def test_on_a_crm_snapshot_no_tile_has_a_change_and_12_month_retention_is_not_measurable():
    # Telco: every churn of the rebuilt history falls in the snapshot month, so "+26.58 pts against the month
    # before" and NRR 79% were artefacts of the snapshot, not movements.
    kpis = {k.label: k for k in headline_kpis(_movements(14), (0.79, 0.78), (1.0, 1.0), _blended(), _blended(),
                                              (None, None), A, snapshot=True)}
    assert all(math.isnan(k.before) for k in kpis.values())
    assert kpis["Paying customers"].value == 113.0 and kpis["Monthly churn"].value == 0.02
    for label in ("NRR (12 months)", "GRR (12 months)"):
        assert math.isnan(kpis[label].value) and kpis[label].missing == "not from a snapshot"
    # beside them: why, and why the as-of date is the month after the export day (Telco: 1 Nov -> 1 Dec)
    assert snapshot_tiles_note("2026-11-01").startswith(
        "a CRM snapshot taken 01 Nov 2026 (its month counts in full, so the as-of date is the 1st of the next) "
        "records who left")
    assert snapshot_tiles_note("").startswith("a CRM snapshot records who left in its own month only")
