"""Churn risk and likelihood to convert: simple logistic-regression scores, honestly backtested.

In plain words, for a founder
-----------------------------
*Churn risk.* Take every customer who was paying on some past date T and look at what they looked like
then (usage in the last 30 days compared with the 30 before, active days, tickets, NPS, MRR, tenure).
Then look at what happened next: did they churn within the following H days (90 by default)? A
logistic regression learns how much each of those signals moves the odds of churning. Applied to
today's customers it gives each one a probability of churning in the next H days, and names the three
signals that push that customer's risk up the most.

*Is it any good?* We only trust a score that would have worked in the past without peeking. The
backtest trains on an older period (features as of T1, outcomes up to T1 + H) and grades the model
on a later, disjoint period (features as of T2 = T1 + H, outcomes up to T2 + H <= D) it never saw:
ROC AUC (0.5 = a coin, 1 = perfect), how many of the 10% riskiest customers really churned
(precision) and what share of all churners they caught (recall), and a calibration table (predicted
vs observed churn by decile). With too few churners or too short a history it says so and gives no
model.

*Likelihood to convert.* The same method for free and trial customers (never paid before T): the
outcome is a first payment within H days.

Conventions
-----------
- The ledger is monthly, so a month's MRR is only known once the month is over. Every date T used
  here is the first day of a month (a given date is moved back to the first of its month) and the
  horizon is whole months: H days -> round(H / 30.44) months (90 days -> 3 months). Features as of T
  use only data strictly before T (segmentation.features, DEFINITIONS.md "Time").
- Churn is DEFINITIONS.md "Churn". Subscription model: a customer paying at T (MRR of the month before
  T > 0) churns within the horizon when some month m in [T, T + H) has MRR(m) = 0 (a later
  reactivation still counts as a churn). Transactional model: a customer not churned at T (and with
  revenue in the last 12 months) churns when the inactivity rule marks them churned as of T + H.
- Conversion: a customer with no positive ledger month before T converts when some month in
  [T, T + H) has MRR > 0.
- Customer attributes that are stored as *current* values (plan, seat_limit and the limit percentages
  built from them) are never model inputs: for past dates they would reveal the future (a customer
  whose plan reads "Free" today never converted).
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import Literal, Mapping

import ibis
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from economics.ledger import first_ledger_month
from segmentation.features import (FEATURE_COLUMNS, FeatureParams, add_months, as_date, current_customers,
                                   customer_features, month_start)

__all__ = [
    "ModelParams", "RiskModel", "Backtest", "ChurnBacktest", "ConversionBacktest", "label_window",
    "churn_dataset", "conversion_dataset", "backtest_churn", "backtest_conversion", "fit_churn_model",
    "fit_conversion_model", "score_churn", "score_conversion", "driver_table", "mrr_at_risk",
    "at_risk_table", "training_date", "MODEL_COLUMNS", "CHURN_FEATURES", "CONVERSION_FEATURES", "FEATURE_WORDS",
    "RiskModelError",
]

Task = Literal["churn", "convert"]
RevenueModel = Literal["subscription", "transactional"]

# Model inputs (raw feature columns); transformed by `_design` (log of counts and money, ...).
CHURN_FEATURES: tuple[str, ...] = (
    "tenure_days", "mrr", "mrr_change_3m", "recency_days", "events_30d", "events_prev_30d", "active_days_30d",
    "features_used_30d", "active_users_30d", "usage_trend", "tickets_90d", "support_minutes_90d", "nps_latest",
)
CONVERSION_FEATURES: tuple[str, ...] = (
    "tenure_days", "recency_days", "events_30d", "events_prev_30d", "active_days_30d", "features_used_30d",
    "active_users_30d", "usage_trend", "tickets_90d", "nps_latest",
)
# The customer_features columns the models read (their populations and inputs, mrr_change_3m derived from
# mrr and mrr_3m_ago): a caller holding the features at the training date for later keeps these alone.
MODEL_COLUMNS: tuple[str, ...] = tuple(c for c in dict.fromkeys(
    ("customer_id", "paying", "churned", "first_paid_month", "mrr_3m_ago", *CHURN_FEATURES, *CONVERSION_FEATURES))
    if c in FEATURE_COLUMNS)
# Columns modelled on a log scale: counts, days and money are skewed (one whale should not dominate).
_LOG_COLUMNS = frozenset({"tenure_days", "mrr", "recency_days", "events_30d", "events_prev_30d",
                          "active_days_30d", "features_used_30d", "active_users_30d", "tickets_90d",
                          "support_minutes_90d"})

FEATURE_WORDS: Mapping[str, str] = {
    "tenure_days": "tenure (days)",
    "mrr": "MRR",
    "mrr_change_3m": "MRR now against 3 months ago",
    "recency_days": "days since last activity",
    "events_30d": "events in last 30 days",
    "events_prev_30d": "events in the 30 days before",
    "active_days_30d": "active days in last 30 days",
    "features_used_30d": "features used in last 30 days",
    "active_users_30d": "active users in last 30 days",
    "usage_trend": "usage trend (last 30 vs previous 30 days)",
    "tickets_90d": "tickets in last 90 days",
    "support_minutes_90d": "support minutes in last 90 days",
    "nps_latest": "latest NPS score",
}

DAYS_PER_MONTH = 30.4375


class RiskModelError(ValueError):
    """A model input is missing or a model without enough data was asked to score."""


@dataclass(frozen=True)
class ModelParams:
    """Settings of the churn and conversion models.

    min_positives: churners (converters) needed in the training and in the test period; below it,
        no model ("not enough data").
    regularization: inverse L2 strength C of the logistic regression (1.0 = scikit-learn's default).
    shuffle_train_labels: trains the backtest's model on shuffled outcomes (one placebo run).
    placebo_runs: the backtest also fits this many models on shuffled training outcomes and reports
        their test AUCs (placebo_auc = their mean, about 0.5 when the evaluation is sound: a model that
        learned nothing real cannot rank the later period). One shuffled fit alone can land anywhere
        between about 0.3 and 0.7: noise still gives some ranking, so the mean over runs is reported.
    seed: seed of the shuffles.
    """

    min_positives: int = 30
    regularization: float = 1.0
    shuffle_train_labels: bool = False
    placebo_runs: int = 0
    seed: int = 0


def label_window(as_of: dt.date, horizon_days: int) -> tuple[dt.date, dt.date, int]:
    """(T, end, months): T = first day of the month of `as_of`; outcomes are observed in months [T, end).

    months = max(1, round(horizon_days / 30.44)); end = T + months calendar months.
    """
    if horizon_days <= 0:
        raise RiskModelError(f"horizon_days must be positive, got {horizon_days}; use e.g. 90.")
    months = max(1, int(round(horizon_days / DAYS_PER_MONTH)))
    start = month_start(as_date(as_of))
    return start, add_months(start, months), months


def _require(tables: Mapping[str, ibis.Table], name: str, what: str) -> ibis.Table:
    if name not in tables:
        raise RiskModelError(f"{what}: no `{name}` table among the tables given ({', '.join(sorted(tables))}); "
                             "load revenue data first (the loader builds the ledger).")
    return tables[name]


def _paying_months(ledger: ibis.Table, start: dt.date, end: dt.date) -> pd.DataFrame:
    """customer_id, paying_months: months in [start, end) with MRR > 0 (ibis)."""
    # Ledger months in the outcome window [start, end) in which the customer paid (MRR > 0).
    lg = ledger.filter((ledger.month >= ibis.literal(start)) & (ledger.month < ibis.literal(end))
                       & (ledger.mrr_cents > 0))
    # Per customer: how many distinct months of the window were paid.
    out = lg.group_by("customer_id").aggregate(paying_months=lg.month.nunique()).execute()
    out["customer_id"] = out["customer_id"].astype("str")
    return out


def _with_paying_months(frame: pd.DataFrame, paid: pd.DataFrame) -> np.ndarray:
    counts = frame[["customer_id"]].merge(paid, on="customer_id", how="left")["paying_months"]
    return pd.to_numeric(counts, errors="coerce").fillna(0).to_numpy(dtype="float64")


def churn_dataset(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                  params: FeatureParams = FeatureParams(),
                  revenue_model: RevenueModel = "subscription",
                  features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features as of T of the customers paying at T, labelled by whether they churn within the horizon.

    Parameters
    ----------
    tables : name -> ibis.Table (contract names, ingest/contract.py); needs customers and ledger.
    as_of : T (moved back to the first day of its month, see `label_window`).
    horizon_days : H; outcomes are observed in the months [T, T + H). Data must cover them.
    params, revenue_model : as in `segmentation.features.customer_features`.
    features : customer_features(tables, T, params, revenue_model) when the caller has them already (the
        report computes the month starts' features anyway); computed here otherwise.

    Returns
    -------
    The `customer_features` columns of the population plus `label` (bool: churns, DEFINITIONS.md
    "Churn"). Population: subscription model, customers with MRR > 0 in the month before T;
    transactional model, customers with revenue in the last 12 months and not churned at T.
    """
    start, end, months = label_window(as_of, horizon_days)
    ledger = _require(tables, "ledger", "churn_dataset")
    if features is not None:
        _check_columns(features, "features", ("customer_id", "paying", "churned"))
    feats = customer_features(tables, start, params, revenue_model) if features is None else features
    pop = current_customers(feats).reset_index(drop=True)
    if revenue_model == "transactional":
        later = customer_features(tables, end, params, revenue_model)[["customer_id", "churned"]]
        flag = pop[["customer_id"]].merge(later, on="customer_id", how="left")["churned"]
        pop["label"] = flag.fillna(False).to_numpy(dtype=bool)
        return pop
    paid = _with_paying_months(pop, _paying_months(ledger, start, end))
    # Churns within the horizon: at least one month of [T, T + H) without MRR.
    pop["label"] = paid < months
    return pop


def conversion_dataset(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                       params: FeatureParams = FeatureParams(),
                       revenue_model: RevenueModel = "subscription",
                       features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Features as of T of the customers who never paid before T, labelled by a first payment in [T, T + H).

    Returns the `customer_features` columns of the population plus `label` (bool: converts). `features`:
    as in churn_dataset.
    """
    start, end, _ = label_window(as_of, horizon_days)
    ledger = _require(tables, "ledger", "conversion_dataset")
    if features is not None:
        _check_columns(features, "features", ("customer_id", "first_paid_month"))
    feats = customer_features(tables, start, params, revenue_model) if features is None else features
    # Never paid before T: no ledger month before T with MRR > 0.
    pop = feats[feats["first_paid_month"].isna()].reset_index(drop=True)
    pop["label"] = _with_paying_months(pop, _paying_months(ledger, start, end)) > 0
    return pop


# ---------------------------------------------------------------------------------------------
# the model

def _raw_inputs(features: pd.DataFrame) -> pd.DataFrame:
    """The model's raw inputs, derived where needed (mrr_change_3m), before filling and scaling."""
    out = pd.DataFrame(index=features.index)
    for col in set(CHURN_FEATURES) | set(CONVERSION_FEATURES):
        if col in features.columns:
            out[col] = pd.to_numeric(features[col], errors="coerce").astype("float64")
    if "mrr" in out and "mrr_3m_ago" in features.columns:
        before = pd.to_numeric(features["mrr_3m_ago"], errors="coerce").astype("float64")
        out["mrr_change_3m"] = np.log1p(out["mrr"].clip(lower=0)) - np.log1p(before.clip(lower=0))
    if "recency_days" in out and "tenure_days" in out:
        # Never active: as if last active at signup (inactive for the whole tenure).
        out["recency_days"] = out["recency_days"].fillna(out["tenure_days"])
    if "usage_trend" in out:
        out["usage_trend"] = out["usage_trend"].fillna(0.0)  # no events in either window: no trend
    return out


def _design(raw: pd.DataFrame, columns: tuple[str, ...], fill: Mapping[str, float]) -> np.ndarray:
    cols = []
    for col in columns:
        x = raw[col].fillna(fill[col]).to_numpy(dtype="float64") if col in raw else np.full(len(raw), fill[col])
        cols.append(np.log1p(np.clip(x, 0, None)) if col in _LOG_COLUMNS else x)
    return np.column_stack(cols) if cols else np.empty((len(raw), 0))


@dataclass(frozen=True, eq=False)
class RiskModel:
    """A fitted churn (task "churn") or conversion (task "convert") model, or the reason there is none.

    enough_data False: `reason` says why and the model cannot score. Otherwise `columns` are the inputs
    used (those with data), `fill` the training medians that replace missing values, `typical` the
    training average each input is compared with (for log-scale inputs the geometric-style average
    expm1(mean(log1p x))), shown next to a customer's value; `coefficients()` the overall drivers.
    """

    task: Task
    enough_data: bool
    reason: str
    trained_as_of: dt.date
    label_end: dt.date
    horizon_months: int
    customers: int
    positives: int
    columns: tuple[str, ...] = ()
    fill: Mapping[str, float] = field(default_factory=dict)
    typical: Mapping[str, float] = field(default_factory=dict)
    scaler: StandardScaler | None = None
    classifier: LogisticRegression | None = None

    def coefficients(self) -> pd.DataFrame:
        """Overall drivers: feature, label, coefficient (change in log-odds per standard deviation of the
        model input), odds_ratio (exp of it), direction ("raises risk"/"lowers risk"), sorted by |coefficient|."""
        if self.classifier is None:
            return pd.DataFrame({"feature": pd.Series(dtype="str"), "label": pd.Series(dtype="str"),
                                 "coefficient": pd.Series(dtype="float64"), "odds_ratio": pd.Series(dtype="float64"),
                                 "direction": pd.Series(dtype="str")})
        coef = self.classifier.coef_[0]
        out = pd.DataFrame({"feature": list(self.columns),
                            "label": [FEATURE_WORDS.get(c, c) for c in self.columns],
                            "coefficient": coef, "odds_ratio": np.exp(coef)})
        out["direction"] = np.where(coef >= 0, "raises probability", "lowers probability")
        order = np.argsort(-np.abs(coef), kind="stable")
        return out.iloc[order].reset_index(drop=True)


def _period(start: dt.date, end: dt.date) -> str:
    """Outcome months [start, end) in words: "2026-08 to 2026-10" (or one month)."""
    last = add_months(end, -1)
    return f"{start:%Y-%m}" if last <= start else f"{start:%Y-%m} to {last:%Y-%m}"


def _no_model(task: Task, reason: str, start: dt.date, end: dt.date, months: int, data: pd.DataFrame) -> RiskModel:
    return RiskModel(task, False, reason, start, end, months, len(data), int(data["label"].sum()) if len(data) else 0)


def _fit(task: Task, data: pd.DataFrame, start: dt.date, end: dt.date, months: int, params: ModelParams,
         shuffle_seed: int | None = None) -> RiskModel:
    positives = int(data["label"].sum())
    negatives = len(data) - positives
    noun = "churners" if task == "churn" else "conversions"
    if positives < params.min_positives:
        what = f"no {noun}" if positives == 0 else f"only {positives:,} {noun if positives > 1 else noun[:-1]}"
        return _no_model(task, f"{what} in {_period(start, end)} among {len(data):,} customers; "
                               f"a model needs at least {params.min_positives} {noun}", start, end, months, data)
    if negatives < params.min_positives:
        return _no_model(task, f"only {negatives:,} customers without an outcome in {_period(start, end)}; "
                               f"a model needs at least {params.min_positives} of them", start, end, months, data)
    wanted = CHURN_FEATURES if task == "churn" else CONVERSION_FEATURES
    raw = _raw_inputs(data)
    # inputs with data and some variation in the training period (a constant cannot explain anything)
    columns = tuple(c for c in wanted if c in raw and raw[c].notna().any() and raw[c].nunique(dropna=True) > 1)
    if not columns:
        return _no_model(task, f"no input varies among the {len(data)} customers of {_period(start, end)} "
                               f"(inputs: {', '.join(wanted)}); load events, tickets or NPS", start, end, months, data)
    fill = {c: float(raw[c].median()) for c in columns}
    x = _design(raw, columns, fill)
    y = data["label"].to_numpy(dtype=bool)
    if shuffle_seed is not None:
        y = np.random.default_rng(shuffle_seed).permutation(y)
    scaler = StandardScaler().fit(x)
    clf = LogisticRegression(C=params.regularization, max_iter=1000).fit(scaler.transform(x), y)
    # "typical" = the average the standardisation compares with, back on the feature's own scale
    typical = {c: float(np.expm1(m)) if c in _LOG_COLUMNS else float(m) for c, m in zip(columns, scaler.mean_)}
    return RiskModel(task, True, "", start, end, months, len(data), positives, columns, fill, typical, scaler, clf)


def _fmt(value: float, column: str = "") -> str:
    """A model input's value in words: mrr_change_3m, a log ratio inside the model, as the ratio it stands
    for ("164x": MRR now is 164 times that of 3 months ago, a customer that barely paid then)."""
    if pd.isna(value):
        return "missing"
    if column == "mrr_change_3m":
        ratio = math.exp(value)
        return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.2g}x"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}".rstrip("0").rstrip(".")


def _standardised(model: RiskModel, features: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    if not model.enough_data or model.classifier is None or model.scaler is None:
        raise RiskModelError(f"no {model.task} model to score with: {model.reason}.")
    if "customer_id" not in features.columns:
        raise RiskModelError("features: no `customer_id` column; pass the frame of customer_features.")
    raw = _raw_inputs(features)
    return raw, model.scaler.transform(_design(raw, model.columns, model.fill))


def _probabilities(model: RiskModel, features: pd.DataFrame) -> np.ndarray:
    _, z = _standardised(model, features)
    return model.classifier.predict_proba(z)[:, 1]


def _score(model: RiskModel, features: pd.DataFrame, prob_name: str, min_contribution: float) -> pd.DataFrame:
    raw, z = _standardised(model, features)
    coef = model.classifier.coef_[0]
    prob = model.classifier.predict_proba(z)[:, 1]
    contrib = z * coef  # each input's push on the log-odds, relative to an average customer
    top = np.argsort(-contrib, axis=1, kind="stable")[:, :3]
    values = np.column_stack([raw[c].to_numpy(dtype="float64") if c in raw else np.full(len(raw), np.nan)
                              for c in model.columns]) if model.columns else np.empty((len(raw), 0))
    words = [FEATURE_WORDS.get(c, c) for c in model.columns]
    typical = [_fmt(model.typical[c], c) for c in model.columns]
    texts = []
    for i in range(len(features)):
        parts = []
        for j in top[i]:
            if contrib[i, j] < min_contribution:
                break
            level = "high" if z[i, j] > 0 else "low"
            parts.append(f"{words[j]} {level} ({_fmt(values[i, j], model.columns[j])} vs typical {typical[j]})")
        texts.append("; ".join(parts))
    return pd.DataFrame({"customer_id": features["customer_id"].astype("str").to_numpy(),
                         prob_name: prob, "top_drivers": pd.Series(texts, dtype="str").to_numpy()})


def score_churn(model: RiskModel, features: pd.DataFrame, min_contribution: float = 0.1) -> pd.DataFrame:
    """Churn probability within the model's horizon for each row of `features` (customer_features as of D).

    Returns customer_id, churn_probability (0-1), top_drivers: the (up to) three inputs that push this
    customer's risk up the most, each "input high/low (value vs typical value)"; a contribution is the
    standardised coefficient x the customer's standardised input (how far from an average customer, in
    standard deviations); only contributions >= min_contribution (log-odds) are listed, so a customer
    with nothing unusual has an empty text. "typical" is the training average. Score only the customers
    who can churn at D (features.current_customers): the model learned from those.
    """
    return _score(model, features, "churn_probability", min_contribution)


def score_conversion(model: RiskModel, features: pd.DataFrame, min_contribution: float = 0.1) -> pd.DataFrame:
    """Probability of a first payment within the horizon: customer_id, conversion_probability, top_drivers
    (the inputs that raise it most). Score only customers who never paid before D."""
    return _score(model, features, "conversion_probability", min_contribution)


def driver_table(model: RiskModel) -> pd.DataFrame:
    """The model's overall drivers (standardised coefficients); see RiskModel.coefficients."""
    return model.coefficients()


# ---------------------------------------------------------------------------------------------
# backtest

@dataclass(frozen=True, eq=False)
class Backtest:
    """Result of a time-based backtest.

    enough_data / reason: False with the reason when there is no honest evaluation.
    train_as_of, test_as_of, test_label_end: T1, T2 = T1 + H, T2 + H (outcomes seen in [T, T + H)).
    auc: ROC AUC on the test period. precision_top_decile: share of the 10% highest-scored test customers
    who had the outcome; recall_top_decile: share of all test outcomes among them; base_rate: outcome
    rate of the test period. calibration: decile (1 = highest scores), customers, mean_predicted,
    observed_rate, positives. coefficients: standardised coefficients of the training model.
    placebo_auc, placebo_auc_low, placebo_auc_high: mean, minimum and maximum test AUC of the models
    trained on shuffled outcomes (ModelParams.placebo_runs; NaN when 0).
    """

    task: Task
    enough_data: bool
    reason: str
    train_as_of: dt.date
    test_as_of: dt.date
    test_label_end: dt.date
    horizon_months: int
    train_customers: int = 0
    train_positives: int = 0
    test_customers: int = 0
    test_positives: int = 0
    auc: float = float("nan")
    precision_top_decile: float = float("nan")
    recall_top_decile: float = float("nan")
    base_rate: float = float("nan")
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)
    coefficients: pd.DataFrame = field(default_factory=pd.DataFrame)
    placebo_auc: float = float("nan")
    placebo_auc_low: float = float("nan")
    placebo_auc_high: float = float("nan")

    @property
    def churners(self) -> tuple[int, int]:
        """(training, test) outcome counts: churners for churn, conversions for conversion."""
        return self.train_positives, self.test_positives


ChurnBacktest = Backtest
ConversionBacktest = Backtest


def _calibration(prob: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    order = np.argsort(-prob, kind="stable")
    decile = np.empty(len(prob), dtype=np.int64)
    decile[order] = np.arange(len(prob)) * 10 // max(len(prob), 1) + 1
    frame = pd.DataFrame({"decile": decile, "p": prob, "y": y.astype("float64")})
    out = frame.groupby("decile").agg(customers=("p", "size"), mean_predicted=("p", "mean"),
                                      observed_rate=("y", "mean"), positives=("y", "sum")).reset_index()
    out["positives"] = out["positives"].astype("int64")
    out["customers"] = out["customers"].astype("int64")
    return out


def _backtest(task: Task, tables: Mapping[str, ibis.Table], as_of: dt.date, horizon: int, params: FeatureParams,
              revenue_model: RevenueModel, model_params: ModelParams) -> Backtest:
    _require(tables, "ledger", f"backtest_{task}")
    _, _, months = label_window(as_of, horizon)
    # Outcomes must be complete months before D: the last one ends at the first day of D's month.
    d_month = month_start(as_date(as_of))
    t2 = add_months(d_month, -months)
    t1 = add_months(t2, -months)
    empty = Backtest(task, False, "", t1, t2, d_month, months)
    first = first_ledger_month(tables["ledger"])
    if first is None:
        return _replace(empty, reason="the ledger is empty: no revenue history")
    if first > add_months(t1, -months):
        return _replace(empty, reason=(f"history too short: data starts {first}; a backtest with a "
                                       f"{months}-month horizon needs data from {add_months(t1, -months)} "
                                       f"(three horizons before {d_month})"))
    make = churn_dataset if task == "churn" else conversion_dataset
    train = make(tables, t1, horizon, params, revenue_model)
    test = make(tables, t2, horizon, params, revenue_model)
    noun = "churners" if task == "churn" else "conversions"
    counts = dict(train_customers=len(train), train_positives=int(train["label"].sum()),
                  test_customers=len(test), test_positives=int(test["label"].sum()))
    result = _replace(empty, **counts)
    model = _fit(task, train, t1, t2, months, model_params,
                 model_params.seed if model_params.shuffle_train_labels else None)
    if not model.enough_data:
        return _replace(result, reason=f"training period: {model.reason}")
    negatives = counts["test_customers"] - counts["test_positives"]
    if counts["test_positives"] < model_params.min_positives or negatives < model_params.min_positives:
        return _replace(result, reason=(f"test period {_period(t2, d_month)}: {counts['test_positives']:,} {noun} and "
                                        f"{negatives:,} others among {len(test):,} customers; an honest test needs "
                                        f"at least {model_params.min_positives} of each"))
    scores = _probabilities(model, test)
    y = test["label"].to_numpy(dtype=bool)
    placebo = [roc_auc_score(y, _probabilities(_fit(task, train, t1, t2, months, model_params,
                                                    model_params.seed + 1 + run), test))
               for run in range(model_params.placebo_runs)]
    k = max(1, math.ceil(0.1 * len(test)))
    top = np.argsort(-scores, kind="stable")[:k]
    return _replace(result, enough_data=True,
                    auc=float(roc_auc_score(y, scores)),
                    precision_top_decile=float(y[top].mean()),
                    recall_top_decile=float(y[top].sum() / y.sum()),
                    base_rate=float(y.mean()),
                    calibration=_calibration(scores, y),
                    coefficients=model.coefficients(),
                    placebo_auc=float(np.mean(placebo)) if placebo else float("nan"),
                    placebo_auc_low=float(np.min(placebo)) if placebo else float("nan"),
                    placebo_auc_high=float(np.max(placebo)) if placebo else float("nan"))


def _replace(bt: Backtest, **changes: object) -> Backtest:
    return replace(bt, **changes)


def backtest_churn(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                   params: FeatureParams = FeatureParams(),
                   revenue_model: RevenueModel = "subscription",
                   model_params: ModelParams = ModelParams()) -> Backtest:
    """Time-based backtest of the churn model (see the module docstring).

    With D = first day of the month of `as_of` and h = horizon months: train on features as of
    T1 = D - 2h labelled in [T1, T1 + h); test on features as of T2 = D - h labelled in [T2, D), a later
    and disjoint period whose outcomes the model never saw. No model (enough_data False, with the
    reason) when the data start less than 3 horizons before D, or fewer than `min_positives`
    churners (or non-churners) are in either period.
    """
    return _backtest("churn", tables, as_of, horizon_days, params, revenue_model, model_params)


def backtest_conversion(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                        params: FeatureParams = FeatureParams(),
                        revenue_model: RevenueModel = "subscription",
                        model_params: ModelParams = ModelParams()) -> Backtest:
    """The same backtest for the conversion model (free and trial customers; outcome: a first payment)."""
    return _backtest("convert", tables, as_of, horizon_days, params, revenue_model, model_params)


def _fit_latest(task: Task, tables: Mapping[str, ibis.Table], as_of: dt.date, horizon: int, params: FeatureParams,
                revenue_model: RevenueModel, model_params: ModelParams,
                features: pd.DataFrame | None = None) -> RiskModel:
    _require(tables, "ledger", f"fit_{task}_model")
    _, _, months = label_window(as_of, horizon)
    d_month = month_start(as_date(as_of))
    t = training_date(as_of, horizon)
    make = churn_dataset if task == "churn" else conversion_dataset
    first = first_ledger_month(tables["ledger"])
    if first is None or first > add_months(t, -months):
        data = pd.DataFrame({"label": pd.Series(dtype=bool)})
        start = "no data" if first is None else f"data start {first}"
        return _no_model(task, f"history too short ({start}); the model needs data from {add_months(t, -months)}",
                         t, d_month, months, data)
    return _fit(task, make(tables, t, horizon, params, revenue_model, features), t, d_month, months,
                model_params)


def fit_churn_model(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                    params: FeatureParams = FeatureParams(),
                    revenue_model: RevenueModel = "subscription",
                    model_params: ModelParams = ModelParams(),
                    features: pd.DataFrame | None = None) -> RiskModel:
    """The churn model to use today: trained on the latest fully-observed window, features as of
    T = D - h labelled in [T, D) (T: `training_date`). Score today's customers with `score_churn(model,
    features as of D)`. `enough_data` False (with the reason) when churners are too few or the history
    too short. `features`: customer_features at T when the caller has them already (see churn_dataset)."""
    return _fit_latest("churn", tables, as_of, horizon_days, params, revenue_model, model_params, features)


def training_date(as_of: dt.date, horizon_days: int = 90) -> dt.date:
    """T, the date whose features the model of `fit_churn_model` / `fit_conversion_model` learns from:
    the month start one horizon (in whole months) before the month of D."""
    _, _, months = label_window(as_of, horizon_days)
    return add_months(month_start(as_date(as_of)), -months)


def fit_conversion_model(tables: Mapping[str, ibis.Table], as_of: dt.date, horizon_days: int = 90,
                         params: FeatureParams = FeatureParams(),
                         revenue_model: RevenueModel = "subscription",
                         model_params: ModelParams = ModelParams()) -> RiskModel:
    """The conversion model to use today (see fit_churn_model); score with `score_conversion`."""
    return _fit_latest("convert", tables, as_of, horizon_days, params, revenue_model, model_params)


# ---------------------------------------------------------------------------------------------
# for the app and the report

def _check_columns(frame: pd.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise RiskModelError(f"{name}: missing column(s) {', '.join(missing)}; pass the frame documented "
                             "by the function (score_churn output, customer_features, label_all).")


def at_risk_table(scores: pd.DataFrame, features: pd.DataFrame, threshold: float = 0.5) -> pd.DataFrame:
    """The at-risk list (the report's at_risk.csv): customers whose churn probability >= threshold.

    Columns: customer_id, probability, top_drivers, mrr (dollars, as of D), expected_loss (probability x
    mrr: the MRR expected to churn), sorted by expected_loss descending (a team works the list from the
    revenue most at stake, not from a $2 customer's 94%), then probability descending.
    """
    _check_columns(scores, "scores", ("customer_id", "churn_probability", "top_drivers"))
    _check_columns(features, "features", ("customer_id", "mrr"))
    mrr = features[["customer_id", "mrr"]].assign(customer_id=lambda f: f["customer_id"].astype("str"))
    out = scores.assign(customer_id=scores["customer_id"].astype("str")).merge(mrr, on="customer_id", how="left")
    out = out[out["churn_probability"] >= threshold]
    out = out.rename(columns={"churn_probability": "probability"})[["customer_id", "probability", "top_drivers", "mrr"]]
    out["mrr"] = pd.to_numeric(out["mrr"], errors="coerce").astype("float64").fillna(0.0)
    out["expected_loss"] = out["probability"] * out["mrr"]
    return out.sort_values(["expected_loss", "probability"], ascending=[False, False],
                           kind="stable").reset_index(drop=True)


def mrr_at_risk(scores: pd.DataFrame, labels: pd.DataFrame, threshold: float = 0.5,
                scheme: str = "value_tier") -> pd.DataFrame:
    """MRR at risk by segment of `scheme` (a label_all column; labels also carry mrr at D).

    Columns: segment, customers (scored), at_risk_customers (probability >= threshold), mrr, mrr_at_risk
    (MRR of the at-risk customers), share_at_risk (mrr_at_risk / mrr), expected_mrr_loss (sum of
    probability x MRR over all scored customers). Segments in the scheme's order; a last row "All".
    """
    _check_columns(scores, "scores", ("customer_id", "churn_probability"))
    _check_columns(labels, "labels", ("customer_id", "mrr", scheme))
    frame = scores[["customer_id", "churn_probability"]].assign(customer_id=scores["customer_id"].astype("str"))
    lab = labels[["customer_id", "mrr", scheme]].assign(customer_id=labels["customer_id"].astype("str"))
    frame = frame.merge(lab, on="customer_id", how="inner")
    frame["mrr"] = pd.to_numeric(frame["mrr"], errors="coerce").fillna(0.0).astype("float64")
    frame["risky"] = frame["churn_probability"] >= threshold
    frame["risky_mrr"] = frame["mrr"].where(frame["risky"], 0.0)
    frame["expected"] = frame["mrr"] * frame["churn_probability"]
    seg = frame[scheme]
    order = ([str(c) for c in seg.cat.categories] if isinstance(seg.dtype, pd.CategoricalDtype)
             else sorted(seg.astype("str").unique()))
    frame["segment"] = seg.astype("str")
    grouped = frame.groupby("segment").agg(customers=("customer_id", "size"), at_risk_customers=("risky", "sum"),
                                           mrr=("mrr", "sum"), mrr_at_risk=("risky_mrr", "sum"),
                                           expected_mrr_loss=("expected", "sum"))
    grouped = grouped.reindex([s for s in order if s in grouped.index])
    total = pd.DataFrame([{"customers": len(frame), "at_risk_customers": int(frame["risky"].sum()),
                           "mrr": frame["mrr"].sum(), "mrr_at_risk": frame["risky_mrr"].sum(),
                           "expected_mrr_loss": frame["expected"].sum()}], index=["All"])
    out = pd.concat([grouped, total]).rename_axis("segment").reset_index()
    out["customers"] = out["customers"].astype("int64")
    out["at_risk_customers"] = out["at_risk_customers"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["share_at_risk"] = np.where(out["mrr"] > 0, out["mrr_at_risk"] / out["mrr"].where(out["mrr"] > 0, 1),
                                        np.nan)
    return out[["segment", "customers", "at_risk_customers", "mrr", "mrr_at_risk", "share_at_risk",
                "expected_mrr_loss"]]
