"""The per-segment summary the Segments page shows, and the seeds' default playbook per segment."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["segment_summary", "PLAYBOOK_DEFAULTS", "SUMMARY_COLUMNS"]

SUMMARY_COLUMNS = ("segment", "customers", "share", "mrr", "mrr_share", "churn_rate", "expansion_rate", "nps",
                   "change")

# What to do with each kind of segment (the product's seeds); editable on the page.
PLAYBOOK_DEFAULTS: dict[str, str] = {
    "Champions": "Advocacy: referrals, case studies, early access to new features.",
    "Loyal": "Upsell higher tiers; ask for reviews.",
    "Promising": "Onboarding nudges toward the features retained customers use.",
    "Needs attention": "Personal check-in; offer training.",
    "At-risk": "CSM outreach within a week; find the blocker.",
    "Can't lose them": "Executive call; tailored retention offer.",
    "Dormant": "Win-back campaign; ask why they stopped.",
    "Power": "Beta programme and expansion offers; watch their support load.",
    "Active": "Nurture toward power use; feature education.",
    "Light": "Activation campaign on the key features.",
    "New": "Guided onboarding; first value within 30 days.",
    "Enterprise": "Named CSM, quarterly business reviews, multi-year renewals.",
    "Mid-market": "Pooled CSM; expansion plays on seats.",
    "SMB": "Scaled success: webinars, in-app guides; watch cost to serve.",
    "Self-serve": "Product-led: in-app upgrades, no-touch support.",
    "Not paying": "Trial conversion: time-boxed offers, usage-based nudges.",
    "Healthy": "Expansion and referral asks.",
    "Neutral": "Find the next feature that makes them sticky.",
    "Critical": "Escalate to the account owner now.",
    "Onboarding": "Get to first value fast; remove setup friction.",
    "Adopting": "Drive the second and third key feature.",
    "Established": "Expansion and multi-team rollout.",
    "Mature": "Renewal planning; advocacy.",
    "Lapsed": "Win-back offer three months after churn.",
}


def segment_summary(labels: pd.DataFrame, features: pd.DataFrame, earlier: pd.DataFrame, scheme: str,
                    order: list[str], economics_table: pd.DataFrame | None = None,
                    with_mrr: bool = True) -> pd.DataFrame:
    """One row per segment of `scheme` at D, in display order.

    Columns (SUMMARY_COLUMNS): customers (at D) and MRR (dollars), their shares, churn_rate and
    expansion_rate (monthly, from the segment economics: segment at the start of each month),
    nps (Net Promoter Score, -100 to 100: % promoters (9-10) minus % detractors (0-6) among customers'
    latest answers; NaN without answers), change (customers at D minus customers at the earlier
    date, both labelled with the same definition). Segments empty at D but present earlier keep a row.
    MRR is the segment economics' (MRR of the last complete month, DEFINITIONS.md "Months", by segment at D:
    the figure the Unit economics page and the MRR tile show) when `economics_table` is given, otherwise
    the sum of the labels' `mrr` (the features' MRR at D: on order data the 12-month average, the last
    complete month's otherwise). `labels` may hold some customers only (the page's status filter); with
    `with_mrr` False (no paying customer among them) MRR is 0.
    """
    now = labels[["customer_id", scheme, "mrr"]].rename(columns={scheme: "segment"})
    now["segment"] = now["segment"].astype(str)
    if "nps_latest" in features:
        now = now.merge(features[["customer_id", "nps_latest"]], on="customer_id", how="left")
    else:
        now["nps_latest"] = np.nan
    score = now["nps_latest"]
    # NPS (Bain): % promoters (9-10) minus % detractors (0-6) among customers who answered
    now["promoter"] = (score >= 9).where(score.notna())
    now["detractor"] = (score <= 6).where(score.notna())
    g = now.groupby("segment", sort=False).agg(customers=("customer_id", "size"), mrr=("mrr", "sum"),
                                               promoters=("promoter", "mean"), detractors=("detractor", "mean"))
    g["nps"] = (g["promoters"] - g["detractors"]) * 100
    before = earlier[scheme].astype(str).value_counts()
    segments = [s for s in order if s in g.index or s in before.index]
    segments += [s for s in g.index.union(before.index) if s not in segments]
    out = pd.DataFrame({"segment": segments})
    out["customers"] = out["segment"].map(g["customers"]).fillna(0).astype("int64")
    out["share"] = out["customers"] / max(int(out["customers"].sum()), 1)
    e = economics_table.set_index("segment") if economics_table is not None and len(economics_table) else None
    out["mrr"] = out["segment"].map(g["mrr"] if e is None else e["mrr"]).fillna(0.0).astype("float64")
    if not with_mrr:
        out["mrr"] = 0.0
    total_mrr = out["mrr"].sum()
    out["mrr_share"] = out["mrr"] / total_mrr if total_mrr else np.nan
    for col, source in (("churn_rate", "logo_churn"), ("expansion_rate", "expansion_rate")):
        out[col] = np.nan if e is None else out["segment"].map(e[source]).astype("float64")
    out["nps"] = out["segment"].map(g["nps"]).astype("float64")
    out["change"] = out["customers"] - out["segment"].map(before).fillna(0).astype("int64")
    return out[list(SUMMARY_COLUMNS)]
