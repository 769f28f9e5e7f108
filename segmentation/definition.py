"""The segment definition: one declarative TOML document with every threshold, band, weight, map and rule.

`load_definition` validates a TOML text and returns a frozen `Definition`; `dump_definition` writes it
back (load -> dump -> load gives an equal Definition and identical labels). Keys left out take the
shipped defaults (segmentation/defaults.toml, which documents every key). Errors are `DefinitionError`
(a ValueError) and name the key.
"""
from __future__ import annotations

import copy
import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

import tomli_w

from ingest.mapping import column_name
from segmentation.rules import Rule, RuleError, validate_expression

__all__ = [
    "Band", "MetaSection", "FeaturesSection", "ValueTierSection", "BehaviorSection", "LifecycleSection",
    "HealthSection", "RfmSection", "FirmographicSection", "CustomSection", "CrossSection", "Definition",
    "DefinitionError", "default_definition", "default_toml", "load_definition", "dump_definition",
    "definition_from_dict", "definition_to_dict", "with_updates", "RFM_CODES", "HEALTH_COMPONENTS",
]

RFM_CODES: tuple[str, ...] = tuple(f"{r}{f}{m}" for r in range(5, 0, -1) for f in range(5, 0, -1)
                                   for m in range(5, 0, -1))
HEALTH_COMPONENTS: tuple[str, ...] = ("usage", "recency", "trend", "support", "nps")


class DefinitionError(ValueError):
    """The definition cannot be used; the message names the key and what to change."""


@dataclass(frozen=True)
class Band:
    """One band [lower, upper) of a numeric column; the last band of a list has upper = inf."""

    label: str
    lower: float
    upper: float = math.inf


@dataclass(frozen=True)
class MetaSection:
    name: str = "Default"
    date: dt.date | None = None


@dataclass(frozen=True)
class FeaturesSection:
    key_event: str = ""
    lookback_days: int | None = None  # None = all history before D
    inactivity_days: int = 90


@dataclass(frozen=True)
class ValueTierSection:
    bands: tuple[Band, ...]
    not_paying_label: str = "Not paying"


@dataclass(frozen=True)
class BehaviorSection:
    new_days: float = 30
    dormant_days: float = 30
    power_top_pct: float = 20.0
    light_bottom_pct: float = 30.0


@dataclass(frozen=True)
class LifecycleSection:
    bands: tuple[Band, ...]
    lapsed_label: str = "Lapsed"


@dataclass(frozen=True)
class HealthSection:
    bands: tuple[Band, ...]
    weights: tuple[tuple[str, float], ...]  # (component, weight) in HEALTH_COMPONENTS order


@dataclass(frozen=True)
class RfmSection:
    segments: tuple[tuple[str, str], ...]  # (code, segment) for all 125 codes, "555" first
    no_activity_label: str = "No activity"


# Scheme keys and label columns of segmentation.schemes: a customers column listed in [firmographic]
# attributes cannot take one of these names.
RESERVED_SCHEME_NAMES = frozenset({
    "value_tier", "behavior", "lifecycle", "health_band", "health_score", "rfm_segment", "r_score", "f_score",
    "m_score", "rfm_code", "size_band", "icp_fit", "goal", "custom", "industry", "plan", "channel", "country",
    "customer_id", "mrr"})


@dataclass(frozen=True)
class FirmographicSection:
    size_bands: tuple[Band, ...]
    icp_weights: tuple[tuple[str, float], ...]
    icp_profile: tuple[tuple[str, tuple[str, ...]], ...] = ()
    icp_top_share: float = 0.10
    unknown_size_label: str = "Unknown size"
    # Customers columns offered as segment schemes besides industry, plan, channel and country (a CRM's
    # contract type, payment method, region ...): each value a segment.
    attributes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CustomSection:
    rules: tuple[Rule, ...] = ()
    default_label: str = "Everyone else"


@dataclass(frozen=True)
class CrossSection:
    min_size: int = 30


@dataclass(frozen=True)
class Definition:
    """A validated segment definition. Frozen; hashable except for the raw economics table."""

    meta: MetaSection
    features: FeaturesSection
    value_tier: ValueTierSection
    behavior: BehaviorSection
    lifecycle: LifecycleSection
    health: HealthSection
    rfm: RfmSection
    firmographic: FirmographicSection
    custom: CustomSection
    cross: CrossSection
    economics: dict[str, Any] = field(default_factory=dict, hash=False)

    @property
    def rfm_map(self) -> dict[str, str]:
        return dict(self.rfm.segments)

    @property
    def health_weights(self) -> dict[str, float]:
        return dict(self.health.weights)


# ---------------------------------------------------------------------------------------------
# parsing helpers

def _check_keys(table: dict[str, Any], allowed: set[str], path: str) -> None:
    if not isinstance(table, dict):
        raise DefinitionError(f"'{path}' must be a table, got {type(table).__name__}.")
    unknown = sorted(set(table) - allowed)
    if unknown:
        where = f"{path}." if path else ""
        raise DefinitionError(f"unknown key '{where}{unknown[0]}' in the definition; the keys allowed "
                              f"{'in [' + path + ']' if path else 'at the top level'} are: {', '.join(sorted(allowed))}.")


def _number(value: Any, key: str, *, minimum: float | None = None, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        raise DefinitionError(f"'{key}' must be a number, got {value!r}.")
    if minimum is not None and value < minimum:
        raise DefinitionError(f"'{key}' = {value} is below its minimum {minimum}; use a value >= {minimum}.")
    if maximum is not None and value > maximum:
        raise DefinitionError(f"'{key}' = {value} is above its maximum {maximum}; use a value <= {maximum}.")
    return value


def _integer(value: Any, key: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DefinitionError(f"'{key}' must be a whole number, got {value!r}.")
    if value < minimum:
        raise DefinitionError(f"'{key}' = {value} must be >= {minimum}.")
    return value


def _text(value: Any, key: str, *, allow_empty: bool = False) -> str:
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise DefinitionError(f"'{key}' must be a non-empty text, got {value!r}.")
    return value


def _bands(raw: Any, key: str) -> tuple[Band, ...]:
    """Bands listed in ascending order, starting at 0, each upper equal to the next lower, last open."""
    if not isinstance(raw, list) or not raw:
        raise DefinitionError(f"'{key}' must be a non-empty list of {{label, lower, upper}} tables.")
    bands: list[Band] = []
    for i, item in enumerate(raw):
        where = f"{key}[{i}]"
        _check_keys(item, {"label", "lower", "upper"}, where)
        if "label" not in item or "lower" not in item:
            raise DefinitionError(f"'{where}' needs a label and a lower edge.")
        label = _text(item["label"], f"{where}.label")
        lower = _number(item["lower"], f"{where}.lower")
        last = i == len(raw) - 1
        if "upper" in item:
            upper = _number(item["upper"], f"{where}.upper") if not (
                isinstance(item["upper"], float) and math.isinf(item["upper"])) else math.inf
        elif last:
            upper = math.inf
        else:
            raise DefinitionError(f"'{where}' ({label}) needs an upper edge; only the last band is open.")
        if last and upper != math.inf:
            raise DefinitionError(f"'{where}' ({label}) is the last band and must have no upper edge, so "
                                  f"values >= {lower} are covered (remove 'upper').")
        if upper <= lower:
            raise DefinitionError(f"'{where}' ({label}): upper {upper} must be above lower {lower}.")
        bands.append(Band(label, float(lower), float(upper)))
    if bands[0].lower != 0:
        raise DefinitionError(f"'{key}[0]' ({bands[0].label}) must start at 0 so every value is covered; "
                              f"it starts at {bands[0].lower:g}.")
    for i in range(1, len(bands)):
        prev, cur = bands[i - 1], bands[i]
        if cur.lower < prev.upper:
            raise DefinitionError(f"'{key}': bands overlap: {prev.label} [{prev.lower:g}, {prev.upper:g}) and "
                                  f"{cur.label} [{cur.lower:g}, ...); make {cur.label}'s lower edge {prev.upper:g}.")
        if cur.lower > prev.upper:
            raise DefinitionError(f"'{key}': bands leave a gap: {prev.label} ends at {prev.upper:g} but "
                                  f"{cur.label} starts at {cur.lower:g}; make them meet.")
    labels = [b.label for b in bands]
    if len(set(labels)) != len(labels):
        raise DefinitionError(f"'{key}': band labels must be distinct, got {labels}.")
    return tuple(bands)


def _weights(raw: Any, key: str, allowed: tuple[str, ...] | None) -> tuple[tuple[str, float], ...]:
    _check_keys(raw, set(allowed) if allowed is not None else set(raw), key)
    out = []
    for name, value in raw.items():
        w = _number(value, f"{key}.{name}")
        if w < 0:
            raise DefinitionError(f"'{key}.{name}' = {w} is a negative weight; weights must be >= 0.")
        out.append((name, float(w)))
    if allowed is not None:
        given = dict(out)
        out = [(name, given.get(name, 0.0)) for name in allowed]
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# sections

def _meta(raw: dict[str, Any]) -> MetaSection:
    _check_keys(raw, {"name", "date"}, "meta")
    date = raw.get("date")
    if isinstance(date, dt.datetime):
        date = date.date()
    if date is not None and not isinstance(date, dt.date):
        try:
            date = dt.date.fromisoformat(str(date))
        except ValueError:
            raise DefinitionError(f"'meta.date' must be a date such as 2026-11-01, got {date!r}.") from None
    return MetaSection(name=_text(raw.get("name", "Default"), "meta.name"), date=date)


def _features(raw: dict[str, Any]) -> FeaturesSection:
    _check_keys(raw, {"key_event", "lookback_days", "inactivity_days"}, "features")
    lookback = raw.get("lookback_days", "all")
    if isinstance(lookback, str):
        if lookback != "all":
            raise DefinitionError(f"'features.lookback_days' must be \"all\" or a number of days, got {lookback!r}.")
        lookback_days = None
    else:
        lookback_days = _integer(lookback, "features.lookback_days", minimum=1)
    return FeaturesSection(
        key_event=_text(raw.get("key_event", ""), "features.key_event", allow_empty=True),
        lookback_days=lookback_days,
        inactivity_days=_integer(raw.get("inactivity_days", 90), "features.inactivity_days", minimum=1),
    )


def _behavior(raw: dict[str, Any]) -> BehaviorSection:
    _check_keys(raw, {"new_days", "dormant_days", "power_top_pct", "light_bottom_pct"}, "behavior")
    d = BehaviorSection()
    top = _number(raw.get("power_top_pct", d.power_top_pct), "behavior.power_top_pct", minimum=0, maximum=100)
    bottom = _number(raw.get("light_bottom_pct", d.light_bottom_pct), "behavior.light_bottom_pct",
                     minimum=0, maximum=100)
    if top + bottom > 100:
        raise DefinitionError(f"'behavior.power_top_pct' + 'behavior.light_bottom_pct' = {top + bottom:g} "
                              "exceeds 100; the Power and Light shares cannot overlap.")
    return BehaviorSection(
        new_days=_number(raw.get("new_days", d.new_days), "behavior.new_days", minimum=0),
        dormant_days=_number(raw.get("dormant_days", d.dormant_days), "behavior.dormant_days", minimum=1),
        power_top_pct=float(top), light_bottom_pct=float(bottom))


def _rfm(raw: dict[str, Any], base: RfmSection) -> RfmSection:
    _check_keys(raw, {"segments", "no_activity_label"}, "rfm")
    segments = base.segments
    if "segments" in raw:
        table = raw["segments"]
        if not isinstance(table, dict):
            raise DefinitionError("'rfm.segments' must be a table of \"RFM\" code = segment name.")
        extra = sorted(set(table) - set(RFM_CODES))
        if extra:
            raise DefinitionError(f"'rfm.segments.\"{extra[0]}\"' is not an RFM code; codes are three digits "
                                  "1-5 (recency, frequency, monetary), e.g. \"545\".")
        missing = [c for c in RFM_CODES if c not in table]
        if missing:
            raise DefinitionError(f"'rfm.segments' misses {len(missing)} of the 125 codes (first: "
                                  f"\"{missing[0]}\"); every code needs a segment name.")
        segments = tuple((c, _text(table[c], f"rfm.segments.\"{c}\"")) for c in RFM_CODES)
    return RfmSection(segments=segments,
                      no_activity_label=_text(raw.get("no_activity_label", base.no_activity_label),
                                              "rfm.no_activity_label"))


def _firmographic(raw: dict[str, Any], base: FirmographicSection) -> FirmographicSection:
    _check_keys(raw, {"size_bands", "icp_weights", "icp_profile", "icp_top_share", "unknown_size_label",
                      "attributes"}, "firmographic")
    attributes = base.attributes
    if "attributes" in raw:
        attributes = raw["attributes"]
        if not isinstance(attributes, list) or not all(isinstance(a, str) and a.strip() for a in attributes):
            raise DefinitionError(f"'firmographic.attributes' must be a list of customers column names, got "
                                  f"{attributes!r}.")
        # As the columns are stored (ingest.mapping.column_name): "PaymentMethod", as the export writes it,
        # and "payment_method" name the same column.
        attributes = [column_name(a) if "+" not in a else a for a in attributes]
        taken = [a for a in attributes if a in RESERVED_SCHEME_NAMES or "+" in a]
        if taken:
            raise DefinitionError(f"'firmographic.attributes': {taken[0]!r} is a built-in segmentation or "
                                  "contains '+'; list customers columns other than the built-in schemes.")
        attributes = tuple(dict.fromkeys(attributes))
    weights = _weights(raw["icp_weights"], "firmographic.icp_weights", None) if "icp_weights" in raw \
        else base.icp_weights
    profile = base.icp_profile
    if "icp_profile" in raw:
        table = raw["icp_profile"]
        _check_keys(table, set(table), "firmographic.icp_profile")
        items = []
        for attr, values in table.items():
            if isinstance(values, str):
                values = [values]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise DefinitionError(f"'firmographic.icp_profile.{attr}' must be a list of values, got {values!r}.")
            items.append((attr, tuple(values)))
        profile = tuple(items)
    share = _number(raw.get("icp_top_share", base.icp_top_share), "firmographic.icp_top_share",
                    minimum=0.0, maximum=1.0)
    if share <= 0:
        raise DefinitionError("'firmographic.icp_top_share' must be above 0 (e.g. 0.10 = top decile).")
    return FirmographicSection(
        size_bands=_bands(raw["size_bands"], "firmographic.size_bands") if "size_bands" in raw else base.size_bands,
        icp_weights=weights, icp_profile=profile, icp_top_share=float(share),
        unknown_size_label=_text(raw.get("unknown_size_label", base.unknown_size_label),
                                 "firmographic.unknown_size_label"), attributes=attributes)


def _custom(raw: dict[str, Any], base: CustomSection) -> CustomSection:
    _check_keys(raw, {"rules", "default_label"}, "custom")
    rules = base.rules
    if "rules" in raw:
        if not isinstance(raw["rules"], list):
            raise DefinitionError("'custom.rules' must be a list of {name, expr} tables.")
        parsed = []
        for i, item in enumerate(raw["rules"]):
            where = f"custom.rules[{i}]"
            _check_keys(item, {"name", "expr"}, where)
            name = _text(item.get("name"), f"{where}.name")
            expr = _text(item.get("expr"), f"{where}.expr ({name})")
            try:
                validate_expression(name, expr)
            except RuleError as exc:
                raise DefinitionError(f"'{where}': {exc}") from None
            parsed.append(Rule(name, expr))
        names = [r.name for r in parsed]
        if len(set(names)) != len(names):
            raise DefinitionError(f"'custom.rules': rule names must be distinct, got {names}.")
        rules = tuple(parsed)
    default_label = _text(raw.get("default_label", base.default_label), "custom.default_label")
    if default_label in {r.name for r in rules}:
        raise DefinitionError(f"'custom.default_label' {default_label!r} is also a rule name; pick another.")
    return CustomSection(rules=rules, default_label=default_label)


def _economics(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DefinitionError("'economics' must be a table of assumptions.")
    try:
        from economics.assumptions import parse_assumptions
    except ImportError:  # the economics package is optional here
        return copy.deepcopy(raw)
    try:
        parse_assumptions(copy.deepcopy(raw))
    except ValueError as exc:
        raise DefinitionError(f"'economics': {exc}") from None
    return copy.deepcopy(raw)


_TOP_KEYS = {"meta", "features", "value_tier", "behavior", "lifecycle", "health", "rfm", "firmographic",
             "custom", "cross", "economics"}


def definition_from_dict(raw: dict[str, Any], base: Definition | None = None) -> Definition:
    """Validate a parsed TOML document; keys left out come from `base` (default: the shipped defaults)."""
    _check_keys(raw, _TOP_KEYS, "")
    b = base if base is not None else default_definition()
    sec = {k: raw.get(k, {}) for k in _TOP_KEYS}
    for k, v in sec.items():
        if not isinstance(v, dict):
            raise DefinitionError(f"'{k}' must be a table ([{k}]), got {type(v).__name__}.")

    meta_raw = {"name": b.meta.name, "date": b.meta.date} if base is not None else {}
    meta_raw = {k: v for k, v in meta_raw.items() if v is not None} | sec["meta"]
    feats_base = {"key_event": b.features.key_event,
                  "lookback_days": "all" if b.features.lookback_days is None else b.features.lookback_days,
                  "inactivity_days": b.features.inactivity_days}

    _check_keys(sec["value_tier"], {"bands", "not_paying_label"}, "value_tier")
    value_tier = ValueTierSection(
        bands=_bands(sec["value_tier"]["bands"], "value_tier.bands") if "bands" in sec["value_tier"]
        else b.value_tier.bands,
        not_paying_label=_text(sec["value_tier"].get("not_paying_label", b.value_tier.not_paying_label),
                               "value_tier.not_paying_label"))
    _check_keys(sec["lifecycle"], {"bands", "lapsed_label"}, "lifecycle")
    lifecycle = LifecycleSection(
        bands=_bands(sec["lifecycle"]["bands"], "lifecycle.bands") if "bands" in sec["lifecycle"]
        else b.lifecycle.bands,
        lapsed_label=_text(sec["lifecycle"].get("lapsed_label", b.lifecycle.lapsed_label), "lifecycle.lapsed_label"))
    _check_keys(sec["health"], {"bands", "weights"}, "health")
    weights = (_weights(dict(b.health.weights) | sec["health"]["weights"], "health.weights", HEALTH_COMPONENTS)
               if "weights" in sec["health"] else b.health.weights)
    if "weights" in sec["health"]:
        _check_keys(sec["health"]["weights"], set(HEALTH_COMPONENTS), "health.weights")
    if sum(w for _, w in weights) <= 0:
        raise DefinitionError("'health.weights' are all zero; give at least one component a positive weight.")
    health = HealthSection(
        bands=_bands(sec["health"]["bands"], "health.bands") if "bands" in sec["health"] else b.health.bands,
        weights=weights)
    _check_keys(sec["cross"], {"min_size"}, "cross")
    cross = CrossSection(min_size=_integer(sec["cross"].get("min_size", b.cross.min_size), "cross.min_size"))
    behavior_base = {"new_days": b.behavior.new_days, "dormant_days": b.behavior.dormant_days,
                     "power_top_pct": b.behavior.power_top_pct, "light_bottom_pct": b.behavior.light_bottom_pct}
    _check_keys(sec["behavior"], set(behavior_base), "behavior")
    defn = Definition(
        meta=_meta(meta_raw),
        features=_features(feats_base | sec["features"]),
        value_tier=value_tier,
        behavior=_behavior(behavior_base | sec["behavior"]),
        lifecycle=lifecycle,
        health=health,
        rfm=_rfm(sec["rfm"], b.rfm),
        firmographic=_firmographic(sec["firmographic"], b.firmographic),
        custom=_custom(sec["custom"], b.custom),
        cross=cross,
        economics=_economics(sec["economics"] if "economics" in raw else b.economics),
    )
    # One churn rule for both packages: the economics table may repeat inactivity_days, but not differ.
    econ_days = defn.economics.get("inactivity_days")
    if econ_days is not None and econ_days != defn.features.inactivity_days:
        raise DefinitionError(f"'economics.inactivity_days' = {econ_days} differs from 'features.inactivity_days' = "
                              f"{defn.features.inactivity_days}; set one value (in [features]) or make them equal.")
    return defn


def _bootstrap(raw: dict[str, Any]) -> Definition:
    """Build the shipped defaults without a base (every key must be present in defaults.toml)."""
    fir = raw["firmographic"]
    rfm_base = RfmSection(segments=())
    seed = Definition(
        meta=MetaSection(), features=FeaturesSection(),
        value_tier=ValueTierSection(bands=_bands(raw["value_tier"]["bands"], "value_tier.bands")),
        behavior=BehaviorSection(),
        lifecycle=LifecycleSection(bands=_bands(raw["lifecycle"]["bands"], "lifecycle.bands")),
        health=HealthSection(bands=_bands(raw["health"]["bands"], "health.bands"),
                             weights=_weights(raw["health"]["weights"], "health.weights", HEALTH_COMPONENTS)),
        rfm=_rfm(raw["rfm"], rfm_base),
        firmographic=FirmographicSection(size_bands=_bands(fir["size_bands"], "firmographic.size_bands"),
                                         icp_weights=_weights(fir["icp_weights"], "firmographic.icp_weights", None)),
        custom=CustomSection(), cross=CrossSection(), economics={},
    )
    return definition_from_dict(raw, seed)


@lru_cache(maxsize=1)
def default_toml() -> str:
    """The shipped defaults, with comments explaining every key (segmentation/defaults.toml)."""
    return resources.files("segmentation").joinpath("defaults.toml").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _default() -> Definition:
    return _bootstrap(tomllib.loads(default_toml()))


def default_definition() -> Definition:
    """The shipped default definition."""
    return _default()


def load_definition(toml_text: str) -> Definition:
    """Parse and validate a TOML definition; keys left out take the shipped defaults.

    Raises DefinitionError naming the key for invalid TOML, an unknown key, overlapping or gapped bands,
    a negative weight, a percentage outside 0-100, an incomplete RFM map or an invalid custom rule.
    """
    try:
        raw = tomllib.loads(toml_text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"the definition is not valid TOML: {exc}.") from None
    return definition_from_dict(raw)


def _bands_out(bands: tuple[Band, ...]) -> list[dict[str, Any]]:
    out = []
    for band in bands:
        item: dict[str, Any] = {"label": band.label, "lower": _plain(band.lower)}
        if band.upper != math.inf:
            item["upper"] = _plain(band.upper)
        out.append(item)
    return out


def _plain(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def definition_to_dict(defn: Definition) -> dict[str, Any]:
    """The definition as a plain TOML-able dict (the inverse of `definition_from_dict`)."""
    meta: dict[str, Any] = {"name": defn.meta.name}
    if defn.meta.date is not None:
        meta["date"] = defn.meta.date
    f, bh, fi = defn.features, defn.behavior, defn.firmographic
    return {
        "meta": meta,
        "features": {"key_event": f.key_event,
                     "lookback_days": "all" if f.lookback_days is None else f.lookback_days,
                     "inactivity_days": f.inactivity_days},
        "value_tier": {"not_paying_label": defn.value_tier.not_paying_label,
                       "bands": _bands_out(defn.value_tier.bands)},
        "behavior": {"new_days": _plain(bh.new_days), "dormant_days": _plain(bh.dormant_days),
                     "power_top_pct": float(bh.power_top_pct), "light_bottom_pct": float(bh.light_bottom_pct)},
        "lifecycle": {"lapsed_label": defn.lifecycle.lapsed_label, "bands": _bands_out(defn.lifecycle.bands)},
        "health": {"bands": _bands_out(defn.health.bands), "weights": dict(defn.health.weights)},
        "firmographic": {"unknown_size_label": fi.unknown_size_label, "size_bands": _bands_out(fi.size_bands),
                         "icp_top_share": fi.icp_top_share, "icp_weights": dict(fi.icp_weights),
                         "icp_profile": {k: list(v) for k, v in fi.icp_profile},
                         "attributes": list(fi.attributes)},
        "custom": {"default_label": defn.custom.default_label,
                   "rules": [{"name": r.name, "expr": r.expr} for r in defn.custom.rules]},
        "cross": {"min_size": defn.cross.min_size},
        "economics": copy.deepcopy(defn.economics),
        "rfm": {"no_activity_label": defn.rfm.no_activity_label, "segments": dict(defn.rfm.segments)},
    }


def dump_definition(defn: Definition) -> str:
    """The definition as TOML text (comments are not kept; defaults.toml documents every key)."""
    header = ("# Segment definition (see segmentation/defaults.toml for what every key means).\n"
              "# Bands are [lower, upper); the last band of each list is open-ended.\n\n")
    return header + tomli_w.dumps(definition_to_dict(defn))


def _merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def with_updates(defn: Definition, **section_changes: dict[str, Any]) -> Definition:
    """A new validated definition with some keys changed, e.g. ``with_updates(d, behavior={"power_top_pct": 25})``.

    Nested tables merge key by key; lists (bands, rules) are replaced whole.
    """
    raw = _merge(definition_to_dict(defn), section_changes)
    return definition_from_dict(raw)
