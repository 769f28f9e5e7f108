"""The shipped sample company contains the six truths its README promises, measured with plain pandas.

Nothing here imports the project's packages: the arithmetic follows DEFINITIONS.md by hand, so the
sample data is checked independently of the code that will analyse it.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sample_data.generate import generate

DATA = Path(__file__).resolve().parents[2] / "sample_data"
FILES = {"customers": "customers.csv", "revenue": "revenue.csv", "events": "events.csv.gz",
         "tickets": "tickets.csv", "spend": "spend.csv", "nps": "nps.csv"}
CONTRACT_COLUMNS = {
    "customers": ["customer_id", "signup_date", "name", "plan", "industry", "employees", "country", "channel",
                  "seat_limit"],
    "revenue": ["customer_id", "date", "amount", "period_start", "period_end", "plan", "currency"],
    "events": ["customer_id", "timestamp", "event", "user_id"],
    "tickets": ["customer_id", "created_at", "minutes", "category", "csat"],
    "spend": ["month", "amount", "channel"],
    "nps": ["customer_id", "date", "score", "comment", "goal"],
}
DATE_COLUMNS = {"customers": ["signup_date"], "revenue": ["date", "period_start", "period_end"],
                "events": ["timestamp"], "tickets": ["created_at"], "spend": ["month"], "nps": ["date"]}
END = pd.Timestamp("2026-11-01")  # default as-of date: nothing may be dated on or after it
N_MONTHS = 24

# default cost assumptions of the app (DEFINITIONS.md, "Value" and "Cost to serve")
GROSS_MARGIN = 0.80
SUPPORT_PER_MINUTE = 1.00
INFRA_PER_EVENT = 0.001
ONBOARDING = {"Enterprise": 10_000.0, "Mid-market": 3_000.0, "SMB": 1_500.0, "Self-serve": 0.0}
LIFETIME_CAP = 60.0


def _read(name: str, folder: Path = DATA) -> pd.DataFrame:
    df = pd.read_csv(folder / FILES[name], dtype={"customer_id": str, "user_id": str})
    for col in DATE_COLUMNS[name]:
        df[col] = pd.to_datetime(df[col])
    return df


def _month_index(ts: pd.Series) -> pd.Series:
    """Whole months since 2024-11 (month 0)."""
    return (ts.dt.year - 2024) * 12 + ts.dt.month - 11


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return {name: _read(name) for name in FILES}


@pytest.fixture(scope="module")
def ledger(data) -> pd.DataFrame:
    """Monthly revenue per customer (DEFINITIONS.md, Ledger): each invoice spread over the whole months of its
    service period starting with period_start's month, leftover cents to the last month."""
    rev = data["revenue"]
    start = _month_index(rev["period_start"])
    n = (_month_index(rev["period_end"]) - start).clip(lower=1).to_numpy()
    cents = (rev["amount"] * 100).round().astype("int64").to_numpy()
    per = np.trunc(cents / n).astype("int64")
    rows = np.repeat(np.arange(len(rev)), n)
    offset = np.concatenate([np.arange(k) for k in n])
    value = per[rows]
    last = offset == n[rows] - 1
    value[last] = cents[rows][last] - per[rows][last] * (n[rows][last] - 1)
    long = pd.DataFrame({"customer_id": rev["customer_id"].to_numpy()[rows],
                         "month": start.to_numpy()[rows] + offset, "cents": value})
    long = long[long["month"] < N_MONTHS]
    out = long.groupby(["customer_id", "month"], as_index=False)["cents"].sum()
    out["mrr"] = out["cents"].clip(lower=0) / 100
    return out


@pytest.fixture(scope="module")
def paying(ledger) -> pd.DataFrame:
    """customers x months, True when MRR > 0."""
    wide = ledger[ledger["mrr"] > 0].pivot_table(index="customer_id", columns="month", values="mrr",
                                                 aggfunc="sum", fill_value=0)
    return (wide.reindex(columns=range(N_MONTHS), fill_value=0) > 0)


@pytest.fixture(scope="module")
def payers(data, ledger, paying) -> pd.DataFrame:
    """One row per customer who ever paid: channel, first paid month, value tier at acquisition."""
    first = paying.idxmax(axis=1).rename("first_month")
    mrr0 = ledger.set_index(["customer_id", "month"])["mrr"]
    acq_mrr = pd.Series([mrr0[(c, m)] for c, m in first.items()], index=first.index, name="acq_mrr")
    arr = acq_mrr * 12
    tier = pd.Series(np.select([arr >= 50_000, arr >= 10_000, arr >= 1_000], ["Enterprise", "Mid-market", "SMB"],
                               "Self-serve"), index=first.index, name="tier")
    last = (paying.shape[1] - 1 - paying.iloc[:, ::-1].to_numpy().argmax(axis=1))
    out = pd.concat([first, acq_mrr, tier], axis=1)
    out["last_month"] = last
    out = out.join(data["customers"].set_index("customer_id")[["channel", "signup_date", "plan"]])
    return out


def _cac_per_customer(spend: pd.DataFrame, payers: pd.DataFrame) -> pd.Series:
    """CAC (DEFINITIONS.md): a channel's spend in a month divided over its new paying customers of that month;
    a month with spend and no new customers pools into the next months (trailing 3-month window)."""
    new = payers.groupby(["channel", "first_month"]).size()
    spend = spend.assign(m=_month_index(spend["month"]))
    cac: dict[tuple[str, int], float] = {}
    for channel, rows in spend.groupby("channel"):
        by_month = rows.groupby("m")["amount"].sum()
        pending: list[tuple[int, float]] = []
        for m in range(N_MONTHS):
            pending = [(pm, a) for pm, a in pending if m - pm < 3] + [(m, float(by_month.get(m, 0.0)))]
            k = int(new.get((channel, m), 0))
            if k:
                cac[(channel, m)] = sum(a for _, a in pending) / k
                pending = []
    return pd.Series([cac[(c, m)] for c, m in zip(payers["channel"], payers["first_month"])], index=payers.index)


def _economics(members: pd.Index, data, ledger, paying, payers) -> dict[str, float]:
    """Net LTV : CAC of a group of customers (DEFINITIONS.md, Value), with the app's default assumptions."""
    pay = paying.loc[members]
    customer_months = int(pay.to_numpy().sum())
    led = ledger[ledger["customer_id"].isin(members)]
    arpa = led["mrr"].sum() / customer_months
    # pooled monthly logo churn over the trailing 12 complete months (2025-11 .. 2026-10)
    lost = (pay.iloc[:, 11:23].to_numpy() & ~pay.iloc[:, 12:24].to_numpy()).sum()
    at_start = pay.iloc[:, 11:23].to_numpy().sum()
    churn = lost / at_start
    lifetime = min(1 / churn, LIFETIME_CAP) if churn > 0 else LIFETIME_CAP
    tickets = data["tickets"][data["tickets"]["customer_id"].isin(members)]
    support = tickets["minutes"].sum() * SUPPORT_PER_MINUTE / customer_months
    n_events = data["events"]["customer_id"].isin(members).sum()
    infra = n_events * INFRA_PER_EVENT / customer_months
    tiers = payers.loc[members, "tier"]
    onboarding = tiers.map(ONBOARDING).mean()
    contribution = arpa * GROSS_MARGIN - support - infra
    net_ltv = contribution * lifetime - onboarding
    cac = _cac_per_customer(data["spend"], payers).loc[members].mean()
    return {"customers": len(members), "arpa": arpa, "churn": churn, "lifetime": lifetime, "support": support,
            "infra": infra, "contribution": contribution, "net_ltv": net_ltv, "cac": cac, "ratio": net_ltv / cac}


# ------------------------------------------------------------------------------------------- shape
def test_every_file_has_exactly_the_contract_columns(data):
    for name, columns in CONTRACT_COLUMNS.items():
        assert list(data[name].columns) == columns, name


def test_nothing_is_dated_on_or_after_the_default_as_of_date(data):
    # period_end is exempt: it is the exclusive end of a service period paid for before 2026-11-01
    for name, columns in DATE_COLUMNS.items():
        for col in columns:
            if (name, col) == ("revenue", "period_end"):
                continue
            assert data[name][col].max() < END, (name, col)
            assert data[name][col].min() >= pd.Timestamp("2024-11-01"), (name, col)


def test_every_customer_id_in_other_files_exists_in_customers(data):
    known = set(data["customers"]["customer_id"])
    assert data["customers"]["customer_id"].is_unique
    assert data["customers"]["customer_id"].str.fullmatch(r"C\d{5}").all()
    for name in ("revenue", "events", "tickets", "nps"):
        assert set(data[name]["customer_id"]) <= known, name


def test_the_sample_is_about_3000_customers_over_24_months_with_free_and_paying_ones(data, payers):
    customers = data["customers"]
    assert len(customers) == 3000
    assert set(customers["plan"]) == {"Free", "Starter", "Team", "Business", "Enterprise"}
    assert (customers.loc[~customers["customer_id"].isin(payers.index), "plan"] == "Free").all()
    months = data["revenue"]["date"].dt.to_period("M").nunique()
    assert months == 24
    annual = data["revenue"][(data["revenue"]["period_end"] - data["revenue"]["period_start"]).dt.days > 300]
    assert len(annual) > 100 and (data["revenue"]["amount"] < 0).sum() > 20
    assert set(data["spend"]["channel"]) == set(customers["channel"])


def test_events_are_in_time_order_weekday_heavy_and_in_business_hours(data):
    ts = data["events"]["timestamp"]
    assert ts.is_monotonic_increasing
    assert (ts.dt.day_of_week >= 5).mean() < 0.1
    assert ts.dt.hour.between(8, 17).mean() > 0.75
    assert data["events"]["event"].nunique() == 20


def test_the_same_seed_gives_identical_files(tmp_path):
    a = generate(tmp_path / "a", customers=150, seed=11)
    b = generate(tmp_path / "b", customers=150, seed=11)
    c = generate(tmp_path / "c", customers=150, seed=12)
    for table in a:
        assert a[table].read_bytes() == b[table].read_bytes(), table
    assert a["revenue"].read_bytes() != c["revenue"].read_bytes()
    assert set(a) == set(FILES) and a["events"].name == "events.csv.gz"
    with gzip.open(a["events"], "rt") as fh:
        assert fh.readline().strip() == "customer_id,timestamp,event,user_id"


def test_parquet_output_has_the_same_columns_and_events_in_time_order(tmp_path):
    paths = generate(tmp_path, customers=120, events=5_000, fmt="parquet", seed=3)
    events = pd.read_parquet(paths["events"])
    assert list(events.columns) == CONTRACT_COLUMNS["events"]
    assert events["timestamp"].is_monotonic_increasing
    assert 4_000 < len(events) < 6_000  # --events sets the total volume
    for table, columns in CONTRACT_COLUMNS.items():
        assert list(pd.read_parquet(paths[table]).columns) == columns, table


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(customers=st.integers(min_value=30, max_value=120), seed=st.integers(min_value=0, max_value=2**31))
def test_any_seed_and_size_gives_consistent_tables(tmp_path_factory, customers, seed):
    folder = tmp_path_factory.mktemp("any")
    generate(folder, customers=customers, seed=seed)
    data = {name: _read(name, folder) for name in FILES}
    ids = set(data["customers"]["customer_id"])
    assert len(ids) == customers
    for name in ("revenue", "events", "tickets", "nps"):
        assert set(data[name]["customer_id"]) <= ids, name
        for col in DATE_COLUMNS[name]:
            if col != "period_end":
                assert (data[name][col] < END).all(), (name, col)
    rev = data["revenue"]
    months = _month_index(rev["period_end"]) - _month_index(rev["period_start"])
    assert months.isin([1, 12]).all()  # monthly or annual service periods
    assert (rev["period_end"].dt.day == rev["period_start"].dt.day).all()
    signup = data["customers"].set_index("customer_id")["signup_date"]
    assert (rev["date"].to_numpy() >= signup[rev["customer_id"]].to_numpy()).all()  # nobody pays before signup
    first_event = data["events"].groupby("customer_id")["timestamp"].min()
    assert (first_event >= signup[first_event.index]).all()
    assert data["nps"]["score"].between(0, 10).all() and (data["tickets"]["minutes"] > 0).all()


# ------------------------------------------------------------------------------------ planted truths
def test_truth_1_enterprise_has_high_cac_high_ltv_and_healthy_net_ltv_to_cac(data, ledger, paying, payers):
    enterprise = payers.index[payers["tier"] == "Enterprise"]
    e = _economics(enterprise, data, ledger, paying, payers)
    others = _cac_per_customer(data["spend"], payers)[payers["tier"] != "Enterprise"].mean()
    assert e["customers"] >= 60
    assert e["cac"] > 4 * others  # the most expensive customers to win
    assert e["net_ltv"] > 150_000
    assert e["ratio"] >= 3


def test_truth_2_sales_led_smb_looks_fine_on_revenue_but_drains_margin(data, ledger, paying, payers):
    smb = payers[payers["tier"] == "SMB"]
    sales_led = smb.index[smb["channel"] == "Outbound sales"]
    self_serve = smb.index[smb["channel"] != "Outbound sales"]
    s = _economics(sales_led, data, ledger, paying, payers)
    o = _economics(self_serve, data, ledger, paying, payers)
    assert s["customers"] >= 200
    assert s["arpa"] >= 0.9 * o["arpa"]  # on revenue it looks as good as self-serve SMB
    assert s["contribution"] > 0
    assert 0.3 <= s["ratio"] <= 0.9  # margin-draining: net LTV : CAC below 1
    assert o["ratio"] >= 3


def test_truth_3_business_power_users_create_most_of_their_tiers_support_load(data, paying, payers):
    mid = payers[payers["tier"] == "Mid-market"]
    months_paid = paying.loc[mid.index].sum(axis=1)
    events = data["events"]["customer_id"].value_counts().reindex(mid.index, fill_value=0)
    per_month = (events / months_paid).sort_values(ascending=False)
    power = per_month.index[: int(round(0.2 * len(per_month)))]
    minutes = data["tickets"].groupby("customer_id")["minutes"].sum().reindex(mid.index, fill_value=0)
    assert minutes[power].sum() / minutes.sum() > 0.5


def test_truth_4_cohorts_after_the_product_change_retain_better_at_six_months(paying, payers):
    m6 = payers["first_month"] + 6
    eligible = payers[m6 < N_MONTHS]
    retained = pd.Series([paying.at[c, m] for c, m in zip(eligible.index, eligible["first_month"] + 6)],
                         index=eligible.index)
    after = eligible["signup_date"] >= pd.Timestamp("2025-11-01")
    before_rate, after_rate = retained[~after].mean(), retained[after].mean()
    assert after.sum() >= 300 and (~after).sum() >= 500
    assert after_rate - before_rate >= 0.10


def test_truth_5_churners_fade_from_active_to_light_to_dormant_before_leaving(data, paying, payers):
    churners = payers[(payers["last_month"] < N_MONTHS - 1) & (payers["last_month"] - payers["first_month"] >= 4)]
    ev = data["events"][data["events"]["customer_id"].isin(churners.index)]
    ev = ev.assign(m=_month_index(ev["timestamp"]).to_numpy(), day=ev["timestamp"].dt.normalize())
    ev = ev.join(churners["last_month"], on="customer_id")
    ev["before"] = ev["last_month"] - ev["m"]  # 0 = the last paid month
    counts = ev[ev["before"].between(0, 3)].groupby(["customer_id", "before"]).size()
    counts = counts.unstack(fill_value=0).reindex(index=churners.index, columns=[3, 2, 1, 0], fill_value=0)
    days = ev[ev["before"].between(0, 3)].groupby(["customer_id", "before"])["day"].nunique()
    days = days.unstack(fill_value=0).reindex(index=churners.index, columns=[3, 2, 1, 0], fill_value=0)
    mean_events, mean_days = counts.mean(), days.mean()
    assert len(churners) >= 200
    assert mean_events[3] > mean_events[2] > mean_events[1] > mean_events[0]
    assert mean_days[3] > mean_days[2] > mean_days[1] > mean_days[0]
    assert mean_events[0] < 0.1 * mean_events[3]  # near zero in the last month


def test_truth_6_high_value_customers_use_different_features(data, payers):
    high = payers.index[payers["tier"].isin(["Enterprise", "Mid-market"])]
    ev = data["events"][data["events"]["customer_id"].isin(payers.index)]
    is_high = ev["customer_id"].isin(high)
    advanced = ev["event"].isin(["api_call", "sso_login", "workflow_automation"])
    assert advanced[is_high].mean() > 0.35
    assert advanced[~is_high].mean() < 0.05
    top_high = set(ev.loc[is_high, "event"].value_counts().index[:3])
    top_rest = set(ev.loc[~is_high, "event"].value_counts().index[:3])
    assert top_high == {"api_call", "sso_login", "dashboard_view"} or len(top_high & top_rest) <= 1
