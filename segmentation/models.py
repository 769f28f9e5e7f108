"""Where customers are going: one import point for the predictive models (issue 7).

- churn risk and likelihood to convert (segmentation.churn): logistic regression, time-based backtest;
- behavioural clusters (segmentation.clusters): k-means, silhouette suggestion, profiles, overlay;
- upsell readiness (segmentation.upsell): ICP fit x readiness, with reasons;
- predicted LTV (segmentation.survival): Kaplan-Meier lifetime x ARPA x gross margin.

Each module's docstring explains its model in plain words.
"""
from __future__ import annotations

from segmentation.churn import (CHURN_FEATURES, CONVERSION_FEATURES, FEATURE_WORDS, MODEL_COLUMNS, Backtest,
                                ChurnBacktest, ConversionBacktest, ModelParams, RiskModel, RiskModelError,
                                at_risk_table, backtest_churn, backtest_conversion, churn_dataset,
                                conversion_dataset, driver_table, fit_churn_model, fit_conversion_model,
                                label_window, mrr_at_risk, score_churn, score_conversion, training_date)
from segmentation.clusters import (CLUSTER_FEATURES, ClusterError, Clusters, cluster_customers, cluster_overlay,
                                   cluster_risk, suggest_k)
from segmentation.survival import (SurvivalError, SurvivalParams, customer_lifetimes, expected_lifetime,
                                   kaplan_meier, survival_ltv)
from segmentation.upsell import UpsellError, UpsellParams, premium_usage, upsell_candidates

__all__ = [
    "CHURN_FEATURES", "CONVERSION_FEATURES", "FEATURE_WORDS", "MODEL_COLUMNS", "Backtest", "ChurnBacktest",
    "ConversionBacktest", "ModelParams", "RiskModel", "RiskModelError", "at_risk_table", "backtest_churn",
    "backtest_conversion", "churn_dataset", "conversion_dataset", "driver_table", "fit_churn_model",
    "fit_conversion_model", "label_window", "mrr_at_risk", "score_churn", "score_conversion", "training_date",
    "CLUSTER_FEATURES", "ClusterError", "Clusters", "cluster_customers", "cluster_overlay", "cluster_risk",
    "suggest_k",
    "SurvivalError", "SurvivalParams", "customer_lifetimes", "expected_lifetime", "kaplan_meier", "survival_ltv",
    "UpsellError", "UpsellParams", "premium_usage", "upsell_candidates",
]
