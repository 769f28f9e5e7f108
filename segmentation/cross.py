"""Cross segmentation: two schemes combined (e.g. value_tier x behavior), small cells folded into "Other"."""
from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["OTHER", "cross_segments"]

OTHER = "Other"


def cross_segments(labels: pd.DataFrame, scheme_a: str, scheme_b: str, min_size: int = 30) -> pd.DataFrame:
    """Customers and MRR of every combination of two schemes' segments.

    Parameters
    ----------
    labels : the frame of `label_all` (columns scheme_a, scheme_b, and mrr for MRR sums).
    min_size : combinations with fewer customers are folded into one "Other" row ([cross] min_size).

    Returns
    -------
    Columns <scheme_a>, <scheme_b>, segment ("A × B", or "Other"), customers, mrr (dollars; NaN without
    an mrr column). Rows in the schemes' segment order (categories) with "Other" last; the folded row
    has "Other" in both scheme columns. Customers sum to len(labels).
    """
    for col in (scheme_a, scheme_b):
        if col not in labels.columns:
            raise ValueError(f"cross_segments: labels have no column {col!r}; available: "
                             f"{', '.join(c for c in labels.columns if c != 'customer_id')}.")
    if scheme_a == scheme_b:
        raise ValueError(f"cross_segments: choose two different schemes (both are {scheme_a!r}).")
    mrr = labels["mrr"].astype("float64") if "mrr" in labels.columns else pd.Series(np.nan, index=labels.index)
    frame = pd.DataFrame({"a": labels[scheme_a], "b": labels[scheme_b], "mrr": mrr})
    grouped = (frame.groupby(["a", "b"], observed=True, sort=True)
               .agg(customers=("mrr", "size"), mrr=("mrr", "sum" if "mrr" in labels.columns else "first"))
               .reset_index())
    grouped = grouped[grouped["customers"] > 0]
    small = grouped["customers"] < min_size
    keep = grouped[~small].copy()
    keep["a"] = keep["a"].astype("str")
    keep["b"] = keep["b"].astype("str")
    keep["segment"] = keep["a"] + " × " + keep["b"]
    rows = [keep]
    if small.any():
        folded = grouped[small]
        rows.append(pd.DataFrame({"a": [OTHER], "b": [OTHER], "segment": [OTHER],
                                  "customers": [int(folded["customers"].sum())],
                                  "mrr": [float(folded["mrr"].sum()) if "mrr" in labels.columns else np.nan]}))
    out = pd.concat(rows, ignore_index=True)
    out["customers"] = out["customers"].astype("int64")
    out = out.rename(columns={"a": scheme_a, "b": scheme_b})
    return out[[scheme_a, scheme_b, "segment", "customers", "mrr"]]
