"""Plotly figure builders: pure functions from small frames to figures, testable without a browser.

Conventions: every figure has a title, axis titles with units, and money in the data's currency; a
segment keeps one colour on every chart (its position in the scheme's order); verdicts have their own
three colours. `CHART_CONFIG` makes the toolbar's camera download a 16:9 PNG for slides.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from functools import partial

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from economics.assumptions import Assumptions, parse_assumptions
from economics.unit import shown_ltv_cac, shown_payback
from ui.format import CURRENCY_SYMBOLS, plural

__all__ = [
    "CHART_CONFIG", "VERDICT_COLORS", "segment_colors", "map_axes", "map_note", "uncertain", "segment_map",
    "worth_without_cac",
    "distribution", "bar_by_segment", "retention_heatmap", "retention_curves", "cross_heatmap", "sankey", "waterfall", "quadrant",
    "customer_scatter", "adoption_heatmap", "movements_chart", "activation_bars", "grouped_bars",
]

CHART_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "width": 1600, "height": 900, "scale": 1,
                             "filename": "segment-economics-chart"},
}
# segment colours avoid the verdict colours' red and green first, so a segment never looks "bad" by hue
PALETTE = ("#2563eb", "#7c3aed", "#0891b2", "#db2777", "#f59e0b", "#4f46e5", "#0d9488", "#ea580c",
           "#9333ea", "#0284c7", "#b45309", "#65a30d", "#be123c", "#16a34a", "#4d7c0f", "#dc2626")
NEUTRAL = {"Not paying": "#9ca3af", "Other": "#cbd5e1", "No usage data": "#d1d5db", "(new)": "#86efac",
           "(reactivated)": "#bef264",
           "(churned)": "#fca5a5", "Unknown size": "#d1d5db", "Not stated": "#d1d5db",
           "No activity": "#d1d5db", "Unattributed": "#d1d5db", "Lapsed": "#9ca3af"}
# measures (revenue, costs) in neutral hues so they never read as a segment's colour
MEASURE_COLORS = ("#475569", "#f59e0b", "#0d9488", "#a855f7")
VERDICT_COLORS = {"healthy": "#16a34a", "marginal": "#f59e0b", "margin-draining": "#dc2626",
                  "needs data": "#9ca3af"}
_LAYOUT = dict(template="plotly_white", font=dict(family="Inter, Helvetica, Arial, sans-serif", size=13),
               margin=dict(l=60, r=30, t=100, b=60), title=dict(x=0.01, xanchor="left", y=0.97, yanchor="top"),
               legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0))


def _style(fig: go.Figure, title: str, **layout) -> None:
    """The house layout, a left-aligned title, then the figure's own settings."""
    fig.update_layout(**_LAYOUT)
    fig.update_layout(title=dict(text=title, x=0.01, xanchor="left", y=0.97, yanchor="top"), **layout)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)


def _symbol(currency: str) -> str:
    code = (currency or "").upper()
    return CURRENCY_SYMBOLS.get(code, f"{code} " if code else "")


def _money_text(value: float, symbol: str) -> str:
    """-$318, not $-318 (a value that rounds to 0 has no sign); n/a when it is not measured."""
    if value is None or math.isnan(value):
        return "n/a"
    return f"{'-' if round(value) < 0 else ''}{symbol}{abs(value):,.0f}"


def segment_colors(order: list[str]) -> dict[str, str]:
    """One colour per segment, fixed by its position in the scheme's order; greys for catch-alls."""
    colors, i = {}, 0
    for seg in order:
        if seg in NEUTRAL:
            colors[seg] = NEUTRAL[seg]
        else:
            colors[seg] = PALETTE[i % len(PALETTE)]
            i += 1
    return colors


def _color(seg: str, colors: dict[str, str]) -> str:
    return colors.get(seg) or NEUTRAL.get(seg) or PALETTE[abs(hash(seg)) % len(PALETTE)]


# Where a bubble's label may go, in order of preference, and the label box's offset from the bubble's
# centre: (textposition, x of the box's left edge in widths and radii, y of its bottom in heights and radii).
_LABEL_PLACES = (("top center", -0.5, 0, 0, 1), ("bottom center", -0.5, 0, -1, -1),
                 ("middle right", 0, 1, -0.5, 0), ("middle left", -1, -1, -0.5, 0),
                 ("top right", 0, 1, 0, 1), ("top left", -1, -1, 0, 1),
                 ("bottom right", 0, 1, -1, -1), ("bottom left", -1, -1, -1, -1))
_LABEL_OFFSETS = {name: tuple(rest) for name, *rest in _LABEL_PLACES}


def _label_box(cx: float, cy: float, r: float, w: float, h: float, place: str) -> tuple[float, ...]:
    """A label's box (left, bottom, right, top) in pixels, y upwards, at `place` around its bubble."""
    fx, rx, fy, ry = _LABEL_OFFSETS[place]
    left, bottom = cx + fx * w + rx * r, cy + fy * h + ry * r
    return left, bottom, left + w, bottom + h


def _overlap(a: tuple, b: tuple) -> float:
    """The area two boxes (left, bottom, right, top) share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _hits_bubble(box: tuple, cx: float, cy: float, r: float) -> bool:
    nearest_x, nearest_y = min(max(cx, box[0]), box[2]), min(max(cy, box[1]), box[3])
    return (nearest_x - cx) ** 2 + (nearest_y - cy) ** 2 < r * r


def _label_places(x: np.ndarray, y: np.ndarray, radius: np.ndarray, texts: list[str],
                  size: tuple[float, float], char_px: float = 7.0, line_px: float = 18.0) -> list[str]:
    """A textposition per bubble so that labels cover neither each other nor other bubbles: bubbles in
    order of size (largest first), each label at the place of _LABEL_PLACES that covers the least area of
    the labels placed before it, of other bubbles (their squares, when the label touches the bubble) and
    of the outside of the plot (counted three times); the first place in that order on a tie, so a free
    place is always taken. `size`: the plot's width and height in pixels; x, y, radius in pixels too."""
    plot = (0.0, 0.0, size[0], size[1])
    chosen: dict[int, str] = {}
    placed: list[tuple] = []
    for i in np.argsort(-radius, kind="stable"):
        w = char_px * len(texts[i])
        best = None
        for place, *_ in _LABEL_PLACES:
            box = _label_box(x[i], y[i], radius[i], w, line_px, place)
            cost = sum(_overlap(box, other) for other in placed) + 3 * (w * line_px - _overlap(box, plot))
            cost += sum(_overlap(box, (x[j] - radius[j], y[j] - radius[j], x[j] + radius[j], y[j] + radius[j]))
                        for j in range(len(x)) if j != i and _hits_bubble(box, x[j], y[j], radius[j]))
            if best is None or cost < best[0]:
                best = (cost, place, box)
            if cost == 0:
                break
        chosen[int(i)] = best[1]
        placed.append(best[2])
    return [chosen[i] for i in range(len(x))]


def _axis_range(values: np.ndarray, lines: tuple[float, ...], length: float, low_px: float,
                high_px: float) -> tuple[float, float]:
    """An axis range (in axis units: log10 on a log axis) over the values and the reference lines drawn on
    it, leaving `low_px` and `high_px` pixels free at its ends (for the bubbles and their labels) on an axis
    `length` pixels long."""
    ends = np.concatenate([values, np.array(lines, dtype=float)])
    low, high = float(np.min(ends)), float(np.max(ends))
    span = high - low or 1.0
    unit = span / max(length - low_px - high_px, 1.0)   # axis units per pixel
    return low - low_px * unit, high + high_px * unit


def _to_pixels(values: np.ndarray, axis: tuple[float, float], length: float) -> np.ndarray:
    return (values - axis[0]) / (axis[1] - axis[0]) * length


def map_axes(econ: pd.DataFrame) -> tuple[str, str]:
    """The segment map's axes (column names): net LTV:CAC against NRR when the data gives them; without
    spend data (CAC unknown) contribution per customer-month instead of net LTV:CAC, and with under 13
    complete months monthly logo churn instead of NRR."""
    def known(column: str) -> bool:
        return bool(np.isfinite(econ[column].to_numpy(dtype=float)).any()) if len(econ) else False

    return ("net_ltv_cac" if known("net_ltv_cac") else "contribution_pcm",
            "nrr" if known("nrr") or not known("logo_churn") else "logo_churn")


def uncertain(econ: pd.DataFrame) -> pd.Series:
    """The segments whose net LTV rests on few customers or churn events (`small_sample`: churn read as its
    interval) or on the lifetime cap with no churn seen: the segment map marks them with " *"."""
    none = pd.Series(False, index=econ.index)

    def flag(column: str) -> pd.Series:
        return econ[column].fillna(False).astype(bool) if column in econ else none

    no_churn = econ["churn_events"].fillna(0).eq(0) if "churn_events" in econ else none
    return flag("small_sample") | (flag("ltv_capped") & no_churn)


def map_note(econ: pd.DataFrame) -> str:
    """What the segment map's axes stand for when `map_axes` replaces net LTV:CAC or NRR, and what a " *"
    after a segment means ("" when neither applies)."""
    x_col, y_col = map_axes(econ)
    notes = []
    if uncertain(econ).any():
        notes.append("* Few paying customers or churn events, or none churned: churn and net LTV rest on a wide "
                     "interval or on the lifetime cap, so the point is rough (Unit economics gives the range).")
    if x_col != "net_ltv_cac":
        notes.append("Without CAC (it needs spend data) the map places segments by contribution per "
                     "customer-month: what a paying customer leaves after gross margin, support and infra; "
                     "left of 0 it loses money every month. Right of 0 a segment still drains margin when "
                     "onboarding costs more than a customer leaves over its lifetime (net LTV < 0).")
    if y_col != "nrr":
        notes.append("Monthly logo churn stands in for 12-month NRR, which needs 13 complete months of history.")
    return " ".join(notes)


def segment_map(econ: pd.DataFrame, currency: str = "USD", title: str = "Segment map",
                plot_size: tuple[float, float] = (830.0, 310.0), revenue_word: str = "MRR",
                thresholds: Assumptions | None = None) -> go.Figure:
    """Bubble chart: net LTV:CAC (x) against NRR (y), bubble size MRR, colour by verdict, labelled; labels
    are placed around their bubbles so that they do not cover each other (`plot_size`: the plotting
    area's expected width and height in pixels). Without spend data or a year of history the axes are
    those `map_axes` names: contribution per customer-month, monthly logo churn. The verdict's lines sit at
    the `thresholds` of the assumptions in force (default: the defaults), and a ratio hovers with the digits
    its verdict rule prints (2.9975x beside a 3x line, not 3.0x)."""
    a = thresholds or parse_assumptions({})
    sym = _symbol(currency)
    x_col, y_col = map_axes(econ)
    by_ratio, by_nrr = x_col == "net_ltv_cac", y_col == "nrr"
    fig = go.Figure()
    data = econ.copy()
    data["x"] = data[x_col]
    data["y"] = data[y_col] * 100
    max_mrr = max(float(data["mrr"].max() or 0), 1.0)
    data["size"] = 12 + 60 * np.sqrt(data["mrr"].clip(lower=0).fillna(0) / max_mrr)
    positive = data["x"][data["x"] > 0]
    # an outlier squashes the rest: a log axis (for the ratio; contribution can be negative)
    log = by_ratio and bool(len(positive)) and positive.max() / max(positive.min(), 1e-9) > 20
    x_lines = (a.draining_ltv_cac, a.healthy_ltv_cac) if by_ratio else (0.0,)
    y_lines = (100.0,) if by_nrr else (0.0,)
    # Only bubbles plotly draws are placed (finite x and y; on a log axis, x > 0).
    drawn = np.isfinite(data["x"]) & np.isfinite(data["y"]) & ((data["x"] > 0) if log else True)
    # Points that rest on few churn events (or on the lifetime cap, no churn seen) are marked, as the table
    # marks them: a bubble at 90x is no measure when nobody of the segment churned.
    rough = uncertain(data)
    data["segment"] = data["segment"].astype(str).where(~rough, data["segment"].astype(str) + " *")
    data["place"] = "top center"
    x_range = y_range = None
    if drawn.any():
        # Axis ranges set here, room left for the largest bubble (and a label above the top one), so that
        # the labels can be placed in pixels where plotly will draw them.
        d = data[drawn]
        big = float(d["size"].max()) / 2 + 4
        xs = np.log10(d["x"].to_numpy(dtype=float)) if log else d["x"].to_numpy(dtype=float)
        ys = d["y"].to_numpy(dtype=float)
        x_range = _axis_range(xs, tuple(np.log10(x_lines)) if log else x_lines, plot_size[0], big, big)
        y_range = _axis_range(ys, y_lines, plot_size[1], big, big + 18)
        if len(d) > 1:
            data.loc[drawn, "place"] = _label_places(
                _to_pixels(xs, x_range, plot_size[0]), _to_pixels(ys, y_range, plot_size[1]),
                d["size"].to_numpy(dtype=float) / 2, d["segment"].astype(str).tolist(), plot_size)
    data["x_text"] = [shown_ltv_cac(float(v), a) for v in data["x"]] if by_ratio else ""
    x_hover = "net LTV:CAC %{hovertext}x" if by_ratio else f"contribution {sym}%{{x:,.0f}} per customer-month"
    y_hover = "NRR %{y:.0f}%" if by_nrr else "monthly logo churn %{y:.1f}%"
    for verdict, group in data.groupby("verdict", sort=False):
        fig.add_trace(go.Scatter(
            x=group["x"], y=group["y"], mode="markers+text", name=str(verdict),
            text=group["segment"], textposition=group["place"].tolist(), hovertext=group["x_text"],
            marker=dict(size=group["size"],
                        color=VERDICT_COLORS.get(str(verdict), "#64748b"), opacity=0.75,
                        line=dict(width=1, color="white")),
            customdata=np.stack([group["mrr"], group["customers"]], axis=-1),
            hovertemplate=(f"<b>%{{text}}</b><br>{x_hover}<br>{y_hover}<br>"
                           f"{revenue_word} {sym}%{{customdata[0]:,.0f}}<br>%{{customdata[1]:,}} customers"
                           "<extra></extra>"),
        ))
    if log:
        ticks = [v for v in (0.25, 0.5, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000)
                 if positive.min() / 2 <= v <= positive.max() * 2]
        fig.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{v:g}x" for v in ticks])
    if x_range is not None:
        fig.update_xaxes(range=list(x_range))
        fig.update_yaxes(range=list(y_range))
    x_marks = ((a.draining_ltv_cac, "#dc2626", f"{a.draining_ltv_cac:g}x: loses money"),
               (a.healthy_ltv_cac, "#16a34a", f"{a.healthy_ltv_cac:g}x: healthy")) if by_ratio else \
        ((0, "#dc2626", "left of 0: loses money every month"),)
    for x, color, text in x_marks:
        fig.add_vline(x=x, line_dash="dot", line_color=color)
        # annotations on a log axis take the exponent as their position
        fig.add_annotation(x=math.log10(x) if log else x, y=0, yref="paper", text=text, showarrow=False,
                           xanchor="left", yanchor="bottom", font=dict(color=color, size=11))
    if by_nrr:
        # on a white ground, so that the vertical 1x / 0 line does not run through the words
        fig.add_hline(y=100, line_dash="dot", line_color="#94a3b8", annotation_text="NRR 100%: no net shrink",
                      annotation_position="top left", annotation_bgcolor="rgba(255,255,255,0.85)")
    else:
        fig.update_yaxes(ticksuffix="%")
    if not by_ratio:
        fig.update_xaxes(tickprefix=sym, tickformat=",.0f")
    _style(fig, title,
           xaxis_title="Net LTV : CAC (x)" if by_ratio else
           "Contribution per customer-month" + (f" ({sym.strip()})" if sym.strip() else ""),
           yaxis_title="Net revenue retention, 12 months (%)" if by_nrr else "Monthly logo churn (%)",
           height=480)
    return fig


def distribution(counts: pd.DataFrame, colors: dict[str, str], currency: str = "USD",
                 title: str = "Customers and MRR by segment", revenue_word: str = "MRR") -> go.Figure:
    """Two bars per segment: share of customers and share of MRR (`revenue_word`: "revenue" for
    transactional revenue). Columns: segment, customers, mrr. Over HORIZONTAL_FROM segments (an attribute
    such as country) the bars lie horizontally, one row per segment, so every name and count can be read."""
    total_c = max(counts["customers"].sum(), 1)
    total_m = max(counts["mrr"].sum(), 1e-9)
    horizontal = len(counts) > HORIZONTAL_FROM
    fig = go.Figure()

    def bar(values: pd.Series, **kwargs) -> go.Bar:
        share = values / kwargs.pop("total") * 100
        where = dict(y=counts["segment"], x=share, orientation="h") if horizontal else dict(x=counts["segment"], y=share)
        return go.Bar(**where, marker_color=[_color(s, colors) for s in counts["segment"]], **kwargs)

    at = "%{y}: %{x:.1f}%" if horizontal else "%{x}: %{y:.1f}%"
    fig.add_trace(bar(counts["customers"], total=total_c, name="% of customers",
                      text=counts["customers"].map("{:,}".format), textposition="outside",
                      hovertemplate=at + " of customers (%{text})<extra></extra>"))
    fig.add_trace(bar(counts["mrr"], total=total_m, name=f"% of {revenue_word}", opacity=0.45,
                      marker_pattern_shape="/", hovertemplate=at + f" of {revenue_word}<extra></extra>"))
    if horizontal:
        _style(fig, title, barmode="group", xaxis_title="Share (%)", yaxis_title="Segment",
               height=max(420, 34 * len(counts) + 160))
        fig.update_yaxes(autorange="reversed")   # the first segment on top
    else:
        _style(fig, title, barmode="group", yaxis_title="Share (%)", xaxis_title="Segment", height=420)
    return fig


HORIZONTAL_FROM = 12   # distribution: more segments than this lie horizontally


def bar_by_segment(frame: pd.DataFrame, y: str, colors: dict[str, str], title: str, y_title: str,
                   text_format: str | Callable[[float], str] = "{:,.0f}", error: tuple[str, str] | None = None,
                   reference: float | None = None, reference_label: str = "",
                   percent: bool = False, infinite: str = "n/a") -> go.Figure:
    """One bar per segment (column `segment`) of metric `y`, optional error bars (low, high columns). An
    infinite value (a payback that never comes) has no bar, and the text `infinite` at the axis."""
    values = pd.to_numeric(frame[y], errors="coerce").astype("float64")
    fig = go.Figure(go.Bar(
        x=frame["segment"], y=values.where(~np.isinf(values), 0.0),
        marker_color=[_color(s, colors) for s in frame["segment"]],
        text=[infinite if math.isinf(v) else (text_format(v) if callable(text_format) else text_format.format(v))
              if not math.isnan(v) else "n/a" for v in values],
        textposition="outside",
        error_y=(dict(type="data", symmetric=False, array=frame[error[1]] - frame[y],
                      arrayminus=frame[y] - frame[error[0]], color="#475569")
                 if error else None),
        hovertemplate="%{x}: %{text}<extra></extra>",
    ))
    if reference is not None:
        fig.add_hline(y=reference, line_dash="dot", line_color="#475569", annotation_text=reference_label)
    _style(fig, title, yaxis_title=y_title, xaxis_title="Segment", height=420,
                      showlegend=False, yaxis_tickformat=".0%" if percent else None)
    return fig


CELL_LABELS_UP_TO = 30   # periods; a wider heatmap's cells are too narrow for their percentages


def retention_heatmap(table: pd.DataFrame, value: str = "retention",
                      title: str = "Logo retention by signup cohort",
                      period_title: str = "Months since the cohort's first month") -> go.Figure:
    """Cohort x period heatmap with percentages in the cells (up to CELL_LABELS_UP_TO periods: beyond, the
    labels would pile into each other; the colour and the hover remain) and counts on hover.

    Columns: cohort, period, cohort_size, active, `value`, complete.
    """
    grid = table.pivot(index="cohort", columns="period", values=value).sort_index()
    active = table.pivot(index="cohort", columns="period", values="active").reindex(grid.index)
    size = table.groupby("cohort")["cohort_size"].first().reindex(grid.index)
    partial = table.pivot(index="cohort", columns="period", values="complete").reindex(grid.index)
    text = grid.map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}%")
    complete = partial.fillna(True).astype(bool).to_numpy()
    custom = np.dstack([active.to_numpy(dtype=float), np.repeat(size.to_numpy(dtype=float)[:, None],
                                                               grid.shape[1], axis=1)])
    z = grid.to_numpy(dtype=float) * 100
    cohorts = [f"{c} ({int(n):,})" for c, n in zip(grid.index, size)]
    hover = ("Cohort %{y}, period %{x}<br>" + value.replace("_", " ") + " %{z:.1f}%<br>active customers "
             "%{customdata[0]:,.0f} of %{customdata[1]:,.0f}")
    fig = go.Figure()
    # A period still running (its revenue not all in: a quarter one month old reads a third) is drawn in grey,
    # not on the blue scale, so it does not read as a cliff; its value keeps a "*".
    grey = [[0, "#e5e7eb"], [1, "#e5e7eb"]]
    for running, keep in ((False, complete), (True, ~complete)):
        fig.add_trace(go.Heatmap(
            z=np.where(keep, z, np.nan), x=[str(c) for c in grid.columns], y=cohorts,
            text=np.where(keep, text.to_numpy() + ("*" if running else ""), ""),
            texttemplate="%{text}" if grid.shape[1] <= CELL_LABELS_UP_TO else "", textfont=dict(size=11),
            customdata=custom, colorscale=grey if running else "Blues", zmin=0, zmax=100, showscale=not running,
            colorbar=dict(title="%", ticksuffix="%"), hoverongaps=False,
            hovertemplate=hover + ("<br>partial period: not over yet" if running else "") + "<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    _style(fig, title + " (* = partial period)",
                      xaxis_title=period_title, yaxis_title="Cohort (customers)",
                      height=max(420, 22 * len(grid) + 140))
    return fig


FEW_COHORTS = 3   # an average curve's point resting on fewer cohorts is drawn hollow


def _retention_top(values: pd.Series) -> float:
    """The top of a retention axis in %: 105, or above the highest point (net revenue retention passes 100%
    with expansion: SMB's read up to 121% and 17 of its 24 points fell off a 0-105% axis)."""
    top = float(values.max()) * 100 if len(values) and values.notna().any() else 0.0
    return 105.0 if top <= 100 else float(math.ceil((top + 5) / 10) * 10)


def retention_curves(curves: pd.DataFrame, colors: dict[str, str], value: str = "retention",
                     title: str = "Average retention curve") -> go.Figure:
    """Lines of `value` by period, one per `segment` (columns: segment, period, value; optional cohorts and
    customers, as economics.cohorts.average_curve gives them). With the cohorts, a point resting on fewer
    than FEW_COHORTS cohorts (the late periods only the oldest cohorts reach) is drawn hollow, and the hover
    says how many cohorts and customers are behind each point."""
    fig = go.Figure()
    for seg, group in curves.groupby("segment", sort=False):
        color = _color(str(seg), colors)
        marker, behind, data, words = dict(), "", None, None
        if "cohorts" in group:
            few = group["cohorts"] < FEW_COHORTS
            marker = dict(symbol=["circle-open" if f else "circle" for f in few], size=8,
                          line=dict(color=color, width=2))
            data = group[["cohorts", "customers"]].to_numpy()
            # in words, so the last periods read "1 cohort", not "1 cohorts"
            words = [f" ({plural(int(c), 'cohort')}, {plural(int(n), 'customer')})" for c, n in data]
            behind = "%{text}"
        fig.add_trace(go.Scatter(x=group["period"], y=group[value] * 100, mode="lines+markers", name=str(seg),
                                 line=dict(color=color, width=2.5), marker=marker, customdata=data, text=words,
                                 hovertemplate=f"{seg}: period %{{x}}, %{{y:.1f}}%{behind}<extra></extra>"))
    _style(fig, title, xaxis_title="Period since cohort start",
                      yaxis_title="Retained (%)", yaxis_range=[0, _retention_top(curves[value])], height=420)
    return fig


def cross_heatmap(crosstab: pd.DataFrame, title: str, x_title: str, y_title: str) -> go.Figure:
    """Customers in each combination of two schemes (rows: scheme A, columns: scheme B)."""
    counts = crosstab.to_numpy()
    fig = go.Figure(go.Heatmap(
        z=crosstab.to_numpy(dtype=float), x=[str(c) for c in crosstab.columns],
        y=[str(i) for i in crosstab.index], text=counts, texttemplate="%{text:,}",
        customdata=[[plural(int(n), "customer") for n in row] for row in counts],   # "1 customer"
        colorscale="Blues", colorbar=dict(title="customers"),
        hovertemplate=f"{y_title} %{{y}} / {x_title} %{{x}}: %{{customdata}}<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    _style(fig, title, xaxis_title=x_title, yaxis_title=y_title,
                      height=max(380, 40 * len(crosstab) + 160))
    return fig


def sankey(transitions: pd.DataFrame, colors: dict[str, str], title: str, left: str, right: str) -> go.Figure:
    """Flows from_segment -> to_segment, width = customers; "(new)" and "(reactivated)" enter left,
    "(churned)" leaves right. Each node's label holds its customers ("Active (628)"). Both sides list the
    segments in the scheme's order (the order of `colors`, segment_colors), "(new)" and "(reactivated)" on
    top and "(churned)" at the bottom, whatever the order of the rows."""
    t = transitions[transitions["customers"] > 0]
    rank = {seg: i for i, seg in enumerate(colors)} | {"(new)": -2, "(reactivated)": -1, "(churned)": len(colors) + 1}

    def ordered(names: pd.Series) -> list[str]:
        return sorted(dict.fromkeys(names), key=lambda s: rank.get(s, len(colors)))   # stable: others keep theirs

    sources, targets = ordered(t["from_segment"]), ordered(t["to_segment"])
    # Each node says how many customers it holds on its date.
    out_of, into = t.groupby("from_segment")["customers"].sum(), t.groupby("to_segment")["customers"].sum()
    def named(seg: str, n: int) -> str:   # "(new)" reads "new (504)", not "(new) (504)"
        return f"{seg[1:-1] if seg.startswith('(') and seg.endswith(')') else seg} ({n:,})"

    labels = [named(s, out_of[s]) for s in sources] + [named(s, into[s]) for s in targets]
    index_l = {s: i for i, s in enumerate(sources)}
    index_r = {s: len(sources) + i for i, s in enumerate(targets)}
    node_colors = [_color(s, colors) for s in sources] + [_color(s, colors) for s in targets]
    link_colors = [_color(s, colors) for s in t["from_segment"]]
    # fixed positions keep the scheme's order top to bottom on both sides (plotly would reorder them)
    total = float(t["customers"].sum()) or 1.0

    def _ys(names: list[str], column: str) -> list[float]:
        # Each node's centre, top to bottom; a node too thin for its label gets a label's height, so the
        # labels of a few small segments in a row (7 Enterprise customers beside 1,500 SMB) do not overlap.
        sizes = [float(t.loc[t[column] == n, "customers"].sum()) / total for n in names]
        gap, label = 0.02, 0.045
        slots = [max(size, label) for size in sizes]
        scale = (1 - gap * max(len(names) - 1, 0)) / sum(slots) if slots else 1.0
        out, top = [], 0.0
        for slot in slots:
            out.append(min(max(top + slot * scale / 2, 0.001), 0.999))
            top += slot * scale + gap
        return out

    fig = go.Figure(go.Sankey(
        arrangement="fixed",
        node=dict(label=labels, color=node_colors, pad=14, thickness=16,
                  x=[0.001] * len(sources) + [0.999] * len(targets),
                  y=_ys(sources, "from_segment") + _ys(targets, "to_segment")),
        link=dict(source=[index_l[s] for s in t["from_segment"]],
                  target=[index_r[s] for s in t["to_segment"]], value=t["customers"],
                  color=[_fade(c) for c in link_colors],
                  customdata=[[a, b, plural(int(n), "customer")]
                              for a, b, n in t[["from_segment", "to_segment", "customers"]].itertuples(index=False)],
                  hovertemplate="%{customdata[0]} → %{customdata[1]}: %{customdata[2]}<extra></extra>"),
    ))
    _style(fig, f"{title}: {left} (left) → {right} (right)", height=520)
    return fig


def _fade(hex_color: str, alpha: float = 0.35) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def waterfall(steps: pd.DataFrame, currency: str = "USD", segment: str = "",
              no_cac: str = "CAC needs spend data") -> go.Figure:
    """Waterfall from lifetime revenue down to what is left after CAC (to net LTV when CAC is unknown,
    `no_cac` saying why). Columns: step, amount (signed), measure ("absolute", "relative" or "total", as
    economics.unit.waterfall returns)."""
    end = "what is left after CAC" if "CAC" in set(steps["step"]) else f"net LTV ({no_cac})"
    title = f"{segment}: from lifetime revenue to {end}" if segment else f"From lifetime revenue to {end}"
    sym = _symbol(currency)
    fig = go.Figure(go.Waterfall(
        x=steps["step"], y=steps["amount"], measure=steps["measure"],
        text=[_money_text(v, sym) for v in steps["amount"]], textposition="outside",
        decreasing=dict(marker=dict(color="#dc2626")), increasing=dict(marker=dict(color="#16a34a")),
        totals=dict(marker=dict(color="#2563eb")), connector=dict(line=dict(color="#94a3b8")),
    ))
    _style(fig, title, yaxis_title=f"{sym} per customer, over its lifetime", height=440,
                      showlegend=False, yaxis_tickprefix=sym)
    return fig


def worth_without_cac(paying: pd.DataFrame, colors: dict[str, str], currency: str = "USD",
                      by: str = "segment") -> tuple[go.Figure, go.Figure]:
    """The unit economics charts when no segment's CAC is known (no spend data): net LTV per customer, with
    whiskers over the churn interval (net_ltv_low / _high), and contribution per customer-month by segment,
    each with the break-even line at 0."""
    sym = _symbol(currency)
    text = partial(_money_text, symbol=sym)
    unit = f"{sym.strip()} per customer".strip()
    ltv = bar_by_segment(paying, "net_ltv", colors, f"Net LTV per customer by {by}", unit, text,
                         error=("net_ltv_low", "net_ltv_high"), reference=0.0)
    contribution = bar_by_segment(paying, "contribution_pcm", colors, f"Contribution per customer-month by {by}",
                                  f"{unit}-month", text, reference=0.0)
    return ltv, contribution


def quadrant(econ: pd.DataFrame, colors: dict[str, str], thresholds: Assumptions,
             title: str = "Profitability quadrant") -> go.Figure:
    """Net LTV:CAC (y) against CAC payback months (x), bubble size MRR; the healthy corner shaded and the
    margin-draining line drawn at the `thresholds` of the assumptions in force. A segment hovers with the
    digits its verdict rule prints."""
    healthy_ratio, healthy_payback = thresholds.healthy_ltv_cac, thresholds.healthy_payback_months
    draining = thresholds.draining_ltv_cac
    data = econ.dropna(subset=["net_ltv_cac", "payback_months"])
    never = data[np.isinf(data["payback_months"]) | np.isinf(data["net_ltv_cac"])]
    data = data.drop(index=never.index)
    max_mrr = max(float(data["mrr"].max() or 0), 1.0) if len(data) else 1.0
    fig = go.Figure()
    fig.add_shape(type="rect", x0=0, x1=healthy_payback, y0=healthy_ratio,
                  y1=max(healthy_ratio * 2, float(data["net_ltv_cac"].max() or 0) * 1.1 if len(data) else 6),
                  fillcolor="rgba(22,163,74,0.08)", line_width=0, layer="below")
    for _, row in data.iterrows():
        fig.add_trace(go.Scatter(
            x=[row["payback_months"]], y=[row["net_ltv_cac"]], mode="markers+text", name=row["segment"],
            text=[row["segment"]], textposition="middle right",
            marker=dict(size=14 + 50 * math.sqrt(max(row["mrr"], 0) / max_mrr),
                        color=_color(row["segment"], colors), opacity=0.8),
            hovertemplate=(f"<b>{row['segment']}</b><br>net LTV:CAC {shown_ltv_cac(row['net_ltv_cac'], thresholds)}x"
                           f"<br>payback {shown_payback(row['payback_months'], thresholds)} months<extra></extra>")))
    if len(data) and data["net_ltv_cac"].max() / max(data["net_ltv_cac"][data["net_ltv_cac"] > 0].min(), 1e-9) > 20:
        fig.update_yaxes(type="log")  # one small segment at 275x would squash the rest
    fig.add_hline(y=draining, line_dash="dot", line_color="#dc2626", annotation_text=f"{draining:g}x")
    fig.add_hline(y=healthy_ratio, line_dash="dot", line_color="#16a34a", annotation_text=f"{healthy_ratio:g}x")
    fig.add_vline(x=healthy_payback, line_dash="dot", line_color="#16a34a",
                  annotation_text=plural(healthy_payback, "month"))
    if len(never):
        # Contribution per customer-month <= 0: the CAC is never paid back, so no point to place.
        fig.add_annotation(text=f"Not placed: {', '.join(never['segment'].astype(str))} never "
                                f"{'pay back their' if len(never) > 1 else 'pays back its'} CAC (contribution <= 0).",
                           xref="paper", yref="paper", x=0, y=1.02, xanchor="left", yanchor="bottom",
                           showarrow=False, font=dict(size=12, color="#b91c1c"))
    _style(fig, title, xaxis_title="CAC payback (months)",
                      yaxis_title="Net LTV : CAC (x)", height=460, showlegend=False)
    return fig


def customer_scatter(frame: pd.DataFrame, colors: dict[str, str], currency: str = "USD",
                     title: str = "Support cost as a share of each customer's revenue") -> go.Figure:
    """Columns: customer_id, segment, revenue, support_cost (both per month). x: revenue (log scale),
    y: support cost as a share of revenue, so heavy-support customers stand out at every size."""
    sym = _symbol(currency)
    data = frame[frame["revenue"] > 0].assign(share=lambda f: f["support_cost"] / f["revenue"] * 100)
    fig = go.Figure()
    for seg, group in data.groupby("segment", sort=False):
        fig.add_trace(go.Scattergl(
            x=group["revenue"], y=group["share"], mode="markers", name=str(seg),
            marker=dict(color=_color(str(seg), colors), size=6, opacity=0.6), text=group["customer_id"],
            customdata=group["support_cost"],
            hovertemplate=(f"%{{text}} ({seg})<br>revenue {sym}%{{x:,.0f}}/mo<br>support {sym}%{{customdata:,.0f}}"
                           "/mo (%{y:.0f}% of revenue)<extra></extra>")))
    fig.add_hline(y=30, line_dash="dot", line_color="#dc2626", annotation_text="support = 30% of revenue")
    ticks = [v for v in (10, 30, 100, 300, 1000, 3000, 10000, 30000, 100000)
             if len(data) and data["revenue"].min() / 3 <= v <= data["revenue"].max() * 3]
    fig.update_xaxes(tickvals=ticks, ticktext=[f"{sym}{v:,}" for v in ticks])
    _style(fig, title, xaxis_title=f"Revenue per month ({sym}, log scale)", xaxis_type="log",
           yaxis_title="Support cost (% of revenue)", height=480)
    return fig


def adoption_heatmap(adoption: pd.DataFrame, order: list[str], title: str = "Feature adoption by segment") -> go.Figure:
    """Share of each segment's customers using each feature in the last 30 days (columns: segment, feature, share)."""
    grid = adoption.pivot(index="feature", columns="segment", values="share")
    grid = grid[[s for s in order if s in grid.columns] + [s for s in grid.columns if s not in order]]
    grid = grid.loc[grid.max(axis=1).sort_values(ascending=False).index]
    fig = go.Figure(go.Heatmap(
        z=grid.to_numpy(dtype=float) * 100, x=list(grid.columns), y=list(grid.index),
        text=grid.map(lambda v: "" if pd.isna(v) else f"{v * 100:.0f}%").to_numpy(), texttemplate="%{text}",
        colorscale="Purples", zmin=0, zmax=100, colorbar=dict(title="%", ticksuffix="%"),
        hovertemplate="%{y} in %{x}: %{z:.0f}% of customers<extra></extra>"))
    fig.update_yaxes(autorange="reversed")
    _style(fig, title, xaxis_title="Segment", yaxis_title="Feature",
                      height=max(420, 24 * len(grid) + 160))
    return fig


def movements_chart(movements: pd.DataFrame, currency: str = "USD", title: str = "MRR movements by month",
                    revenue_word: str = "MRR") -> go.Figure:
    """Stacked bars of new, expansion, reactivation (up) and contraction, churned (down), with net line;
    `revenue_word` names the series on the axis ("Revenue" on order data, never MRR)."""
    sym = _symbol(currency)
    fig = go.Figure()
    months = pd.to_datetime(movements["month"]).dt.strftime("%b %Y")
    for col, color, sign in (("new", "#16a34a", 1), ("expansion", "#65a30d", 1), ("reactivation", "#0891b2", 1),
                             ("contraction", "#f59e0b", -1), ("churned", "#dc2626", -1)):
        if col in movements:
            fig.add_trace(go.Bar(x=months, y=sign * movements[col], name=col.capitalize(), marker_color=color,
                                 hovertemplate=f"{col}: {sym}%{{y:,.0f}}<extra></extra>"))
    net = movements["ending_mrr"] - movements["starting_mrr"]
    fig.add_trace(go.Scatter(x=months, y=net, name="Net change", mode="lines+markers",
                             line=dict(color="#111827")))
    unit = f" ({sym.strip()})" if sym.strip() else ""   # no empty brackets when the data states no currency
    _style(fig, title, barmode="relative", yaxis_title=f"{revenue_word} change{unit}",
                      xaxis_title="Month", height=420, yaxis_tickprefix=sym)
    return fig


def activation_bars(frame: pd.DataFrame, event: str, within_days: int) -> go.Figure:
    """Share of each signup cohort that did `event` within N days. Columns: cohort, cohort_size, activated,
    share, complete (False while some members' window is still open)."""
    colors = ["#2563eb" if c else "#93c5fd" for c in frame["complete"]]
    fig = go.Figure(go.Bar(
        x=frame["cohort"], y=frame["share"] * 100, marker_color=colors,
        text=[f"{v * 100:.0f}%" for v in frame["share"]], textposition="outside",
        customdata=np.stack([frame["activated"], frame["cohort_size"]], axis=1),
        hovertemplate="%{x}: %{y:.1f}% (%{customdata[0]:,} of %{customdata[1]:,})<extra></extra>"))
    _style(fig, f"Signups who did {event} within {plural(within_days, 'day')} (light bars: window still open)",
           xaxis_title="Signup cohort", yaxis_title="Activated (%)", height=400, showlegend=False)
    return fig


def grouped_bars(frame: pd.DataFrame, names: dict[str, str], currency: str, title: str, y_title: str) -> go.Figure:
    """Bars per segment, one colour per measure. Columns: segment, measure, value (money). When every value
    is positive and they span more than LOG_SPREAD times, the axis is logarithmic (and says so): Enterprise's
    net LTV of $290k flattened Self-serve's $777 and $370 CAC to lines nobody could compare."""
    sym = _symbol(currency)
    values = frame["value"].dropna()
    log = bool(len(values)) and bool((values > 0).all()) and values.max() / values.min() > LOG_SPREAD
    fig = go.Figure()
    for i, (measure, group) in enumerate(frame.groupby("measure", sort=False)):
        fig.add_trace(go.Bar(x=group["segment"], y=group["value"], name=names.get(measure, measure),
                             marker_color=MEASURE_COLORS[i % len(MEASURE_COLORS)],
                             text=[f"{sym}{v:,.0f}" if pd.notna(v) else "n/a" for v in group["value"]],
                             textposition="outside",
                             hovertemplate="%{x}: %{text}<extra>" + names.get(measure, measure) + "</extra>"))
    _style(fig, title, barmode="group", xaxis_title="Segment", height=420, yaxis_tickprefix=sym,
           yaxis_title=f"{y_title} (log scale)" if log else y_title, yaxis_type="log" if log else "linear",
           **({"yaxis_dtick": 1} if log else {}))   # a log axis ticks powers of ten only, not 2 and 5 between
    return fig


LOG_SPREAD = 50   # grouped_bars: values spanning more than this many times get a log axis
