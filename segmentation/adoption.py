"""Feature adoption by segment: the share of each segment's customers using each feature lately."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import ibis
import pandas as pd

__all__ = ["feature_adoption"]


def _segments(labels: pd.Series | pd.DataFrame) -> pd.DataFrame:
    if isinstance(labels, pd.DataFrame):
        if not {"customer_id", "segment"} <= set(labels.columns):
            raise ValueError("feature_adoption: a labels frame needs columns customer_id and segment; "
                             f"got {list(labels.columns)}. Or pass a Series of segments indexed by customer_id.")
        frame = labels[["customer_id", "segment"]]
    else:
        frame = pd.DataFrame({"customer_id": labels.index.astype("str"), "segment": labels.to_numpy()})
    return pd.DataFrame({"customer_id": frame["customer_id"].astype("str").to_numpy(),
                         "segment": frame["segment"].astype("str").to_numpy()})


def feature_adoption(tables: Mapping[str, ibis.Table], labels: pd.Series | pd.DataFrame, as_of: dt.date,
                     window_days: int = 30, order: list[str] | None = None) -> pd.DataFrame:
    """Share of each segment's customers who used each feature (event name) in the window before D.

    Parameters
    ----------
    tables : name -> ibis.Table; needs `events` with an `event` column.
    labels : segments as a Series indexed by customer_id, or a frame with customer_id and segment.
    as_of : D; events in [D - window_days, D) count (strictly before D).
    order : optional segment order for the rows (default: by segment size, descending).

    Returns
    -------
    One row per (segment, event), zeros included: segment, event, feature (= event, for charts),
    customers_using, segment_size, share (= customers_using / segment_size), share_all (share among
    all labelled customers), lift (share / share_all). Empty when there are no events.
    """
    cols = ["segment", "event", "feature", "customers_using", "segment_size", "share", "share_all", "lift"]
    seg = _segments(labels)
    if "events" not in tables or "event" not in tables["events"].columns or seg.empty:
        return pd.DataFrame(columns=cols)
    ev = tables["events"]
    d = pd.Timestamp(as_of).to_pydatetime().replace(hour=0, minute=0, second=0, microsecond=0)
    start = d - dt.timedelta(days=window_days)
    # Customers who used each feature: distinct (customer, event name) with an event in [D - window, D).
    used = (ev.filter(ev.timestamp >= ibis.literal(start), ev.timestamp < ibis.literal(d), ev.event.notnull())
            .select("customer_id", "event").distinct().execute())
    used["customer_id"] = used["customer_id"].astype("str")
    used["event"] = used["event"].astype("str")
    sizes = seg.groupby("segment").size()
    total = len(seg)
    joined = used.merge(seg, on="customer_id", how="inner")
    counts = joined.groupby(["segment", "event"]).size()
    events = sorted(used["event"].unique())
    segments = order if order is not None else list(sizes.sort_values(ascending=False, kind="stable").index)
    segments = [s for s in segments if s in sizes.index] + [s for s in sizes.index if s not in segments]
    grid = pd.MultiIndex.from_product([segments, events], names=["segment", "event"])
    out = counts.reindex(grid, fill_value=0).rename("customers_using").reset_index()
    out["feature"] = out["event"]
    out["segment_size"] = out["segment"].map(sizes).astype("int64")
    out["customers_using"] = out["customers_using"].astype("int64")
    out["share"] = out["customers_using"] / out["segment_size"]
    all_share = joined.groupby("event")["customer_id"].nunique() / total
    out["share_all"] = out["event"].map(all_share).fillna(0.0).astype("float64")
    out["lift"] = out["share"] / out["share_all"].where(out["share_all"] > 0)
    return out[cols]
