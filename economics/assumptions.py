"""Every economics assumption (margins, costs to serve, onboarding, churn window, verdict thresholds) with its default.

They live in the definition file's [economics] table (the segmentation definition loader calls
`parse_assumptions` on it) and are returned with every result so a page can show them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from collections.abc import Collection
from typing import Any, Mapping

__all__ = ["Assumptions", "AssumptionsError", "default_assumptions", "parse_assumptions",
           "assumptions_to_dict", "describe_assumptions", "DEFAULT_ONBOARDING_COST", "DEFAULT_COSTS_NOTE"]

DEFAULT_ONBOARDING_COST: Mapping[str, float] = MappingProxyType(
    {"Enterprise": 10000.0, "Mid-market": 3000.0, "SMB": 1500.0, "Self-serve": 0.0})


class AssumptionsError(ValueError):
    """An [economics] key is unknown or holds a value outside its allowed range."""


@dataclass(frozen=True)
class Assumptions:
    """The economics settings (DEFINITIONS.md "Value" and "Cost to serve"). Money in dollars.

    gross_margin: revenue minus cost of goods, before support and onboarding (0-1).
    gross_margin_by_segment: segment -> margin override (0-1).
    support_cost_per_minute: cost of one ticket minute.
    support_team_monthly_cost: used only when tickets have no minutes: divided over that month's tickets.
    infra_cost_per_event, infra_cost_per_seat: infrastructure cost allocated by usage.
    onboarding_cost: value tier at acquisition -> one-off cost per new customer.
    churn_window_months: trailing complete months pooled for churn.
    inactivity_days: transactional churn rule (N days without a purchase).
    lifetime_cap_months: LTV lifetime cap.
    healthy_ltv_cac, healthy_payback_months, draining_ltv_cac: verdict thresholds.
    min_customers, min_churn_events: below either, churn shows a Wilson interval and a note; below
        min_customers customer-months starting with revenue, revenue churn and expansion are n/a, with a note.
    """

    gross_margin: float = 0.80
    gross_margin_by_segment: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    support_cost_per_minute: float = 1.00
    support_team_monthly_cost: float = 0.0
    infra_cost_per_event: float = 0.001
    infra_cost_per_seat: float = 0.0
    onboarding_cost: Mapping[str, float] = field(default_factory=lambda: DEFAULT_ONBOARDING_COST)
    churn_window_months: int = 12
    inactivity_days: int = 90
    lifetime_cap_months: int = 60
    healthy_ltv_cac: float = 3.0
    healthy_payback_months: float = 18.0
    draining_ltv_cac: float = 1.0
    min_customers: int = 30
    min_churn_events: int = 5

    @property
    def prices_seats(self) -> bool:
        """Whether seats have a cost: only then are seats (a distinct count of users) counted."""
        return self.infra_cost_per_seat > 0

    def margin_for(self, segment: str) -> float:
        """The gross margin of a segment: its override, else the default."""
        return float(self.gross_margin_by_segment.get(segment, self.gross_margin))

    def __hash__(self) -> int:  # mappings are not hashable; hash their items
        items = {k: sorted(v.items()) if isinstance(v, dict) else v
                 for k, v in assumptions_to_dict(self).items()}
        return hash(repr(sorted(items.items())))


def default_assumptions() -> Assumptions:
    """The defaults of DEFINITIONS.md and the issue (80% margin, $1 a support minute, ...)."""
    return Assumptions()


_FLOATS = ("support_cost_per_minute", "support_team_monthly_cost", "infra_cost_per_event",
           "infra_cost_per_seat", "healthy_ltv_cac", "healthy_payback_months", "draining_ltv_cac")
_INTS = ("churn_window_months", "inactivity_days", "lifetime_cap_months", "min_customers",
         "min_churn_events")
_KNOWN = ("gross_margin", "gross_margin_by_segment", "onboarding_cost") + _FLOATS + _INTS


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AssumptionsError(f"[economics] {key} = {value!r} is not a finite number; write a number, "
                               "e.g. 0.8.")
    return float(value)


def _margin(key: str, value: Any) -> float:
    v = _number(key, value)
    if not 0.0 <= v <= 1.0:
        raise AssumptionsError(f"[economics] {key} = {value!r} is outside 0-1; write a margin as a "
                               "fraction (80% is 0.8).")
    return v


def parse_assumptions(raw: Mapping[str, Any] | None) -> Assumptions:
    """Validate a definition file's [economics] table into Assumptions; missing keys take defaults.

    Raises AssumptionsError naming the key for an unknown key, a non-number, a negative cost or count,
    a margin outside 0-1, draining_ltv_cac above healthy_ltv_cac, or a window under one month.
    """
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(_KNOWN))
    if unknown:
        raise AssumptionsError(f"[economics] has unknown key(s) {unknown}; known keys: {sorted(_KNOWN)}.")
    values: dict[str, Any] = {}
    if "gross_margin" in raw:
        values["gross_margin"] = _margin("gross_margin", raw["gross_margin"])
    for name in ("gross_margin_by_segment", "onboarding_cost"):
        if name in raw:
            table = raw[name]
            if not isinstance(table, Mapping):
                raise AssumptionsError(f"[economics] {name} must be a table of segment = number, got "
                                       f"{table!r}.")
            parsed = {}
            for seg, v in table.items():
                key = f"{name}.{seg}"
                parsed[str(seg)] = _margin(key, v) if name == "gross_margin_by_segment" else _number(key, v)
                if parsed[str(seg)] < 0:
                    raise AssumptionsError(f"[economics] {key} = {v!r} is negative; costs are >= 0.")
            values[name] = MappingProxyType(parsed)
    for name in _FLOATS:
        if name in raw:
            v = _number(name, raw[name])
            if v < 0:
                raise AssumptionsError(f"[economics] {name} = {raw[name]!r} is negative; use 0 or more.")
            values[name] = v
    for name in _INTS:
        if name in raw:
            v = raw[name]
            if isinstance(v, bool) or not isinstance(v, int) and not (isinstance(v, float) and v.is_integer()):
                raise AssumptionsError(f"[economics] {name} = {v!r} is not a whole number.")
            lowest = 1 if name in ("churn_window_months", "inactivity_days", "lifetime_cap_months") else 0
            if int(v) < lowest:
                raise AssumptionsError(f"[economics] {name} = {v!r} must be at least {lowest}.")
            values[name] = int(v)
    a = Assumptions(**values)
    if a.draining_ltv_cac > a.healthy_ltv_cac:
        raise AssumptionsError(
            f"[economics] draining_ltv_cac = {a.draining_ltv_cac} is above healthy_ltv_cac = "
            f"{a.healthy_ltv_cac}; the margin-draining threshold must not exceed the healthy one.")
    return a


# The [economics] keys that say what a customer costs. While a definition sets none of them, net LTV and the
# verdicts rest on the defaults, made for a B2B SaaS company (the sample company's costs).
COST_KEYS = ("gross_margin", "gross_margin_by_segment", "onboarding_cost", "support_cost_per_minute",
             "support_team_monthly_cost", "infra_cost_per_event", "infra_cost_per_seat")


# What the board pack and the report command say while costs_are_defaults (the pages word it for a screen).
DEFAULT_COSTS_NOTE = "Costs are the product's defaults for a B2B SaaS company, not set for this company's data"


def costs_are_defaults(raw: Mapping[str, Any] | None, data: Mapping[str, Any] | None = None) -> bool:
    """True when a definition's [economics] table sets no cost (COST_KEYS) other than as the data decides
    (`data`: economics.pipeline.data_defaults, e.g. no onboarding on order data): every cost is a default."""
    raw, data = raw or {}, data or {}
    return not any(k in raw and not (k in data and raw[k] == data[k]) for k in COST_KEYS)


def default_costs(symbol: str, tables: Collection[str], data: Mapping[str, Any] | None = None) -> str:
    """The default costs in words ("gross margin 80%; onboarding per new customer ..."), with what the data
    decides (`data`: economics.pipeline.data_defaults), those of support and infra only when a loaded table
    (`tables`: the names) measures them: what a note says net LTV rests on while a definition sets no cost."""
    a = parse_assumptions(data or {})
    onboarding = ("no onboarding cost" if not any(a.onboarding_cost.values()) else
                  "onboarding per new customer " + ", ".join(f"{tier} {symbol}{cost:,.0f}"
                                                             for tier, cost in a.onboarding_cost.items()))
    costs = [f"gross margin {a.gross_margin:.0%}", onboarding]
    if "tickets" in tables:
        costs.append(f"support {symbol}{a.support_cost_per_minute:,.2f} per ticket-minute")
    if "events" in tables:
        costs.append(f"infra {symbol}{a.infra_cost_per_event:,.4f} per event")
    return "; ".join(costs)


def assumptions_to_dict(a: Assumptions) -> dict[str, Any]:
    """A TOML-able dict (the [economics] table); parse_assumptions(assumptions_to_dict(a)) == a."""
    d = {f: getattr(a, f) for f in a.__dataclass_fields__}
    d["gross_margin_by_segment"] = dict(a.gross_margin_by_segment)
    d["onboarding_cost"] = dict(a.onboarding_cost)
    return d


def describe_assumptions(a: Assumptions, symbol: str = "$", with_verdict: bool = False) -> str:
    """The assumptions in one line of words, printed under every chart and table that uses them."""
    onboarding = ", ".join(f"{k} {symbol}{v:,.0f}" for k, v in a.onboarding_cost.items())
    # the setting: the window used is shorter while the data is (the pages name the months pooled)
    window = ("1 complete month" if a.churn_window_months == 1 else
              f"up to {a.churn_window_months} complete months")
    text = (f"gross margin {a.gross_margin:.0%}; support {symbol}{a.support_cost_per_minute:,.2f} per ticket-minute; "
            f"infra {symbol}{a.infra_cost_per_event:,.4f} per event; onboarding {onboarding}; churn pooled over "
            f"{window}; lifetime capped at {a.lifetime_cap_months} months")
    if with_verdict:
        text += (f"; healthy when net LTV:CAC >= {a.healthy_ltv_cac:g} and payback <= "
                 f"{a.healthy_payback_months:g} months, margin-draining below {a.draining_ltv_cac:g}x or when "
                 "contribution per customer-month < 0")
    return text + "."
