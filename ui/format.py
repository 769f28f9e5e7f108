"""How numbers read on screen: money in the data's currency, percentages, months, ratios."""
from __future__ import annotations

import math
import numbers
import re

import pandas as pd

__all__ = ["money", "pct", "ratio", "months", "count", "is_missing", "table_height", "plain", "CURRENCY_SYMBOLS",
           "currency_symbol", "net_ltv_text", "verdict_ratio", "verdict_months", "plural", "validation_table",
           "file_name"]

CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}


def currency_symbol(currency: str) -> str:
    """The symbol of a known currency code; "" when the data states none or one without a symbol here."""
    return CURRENCY_SYMBOLS.get((currency or "").upper(), "")


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def net_ltv_text(row, currency: str) -> str:
    """A segment's net LTV: on a small sample its interval over the churn interval ("-421 to 2,620"), not a
    falsely precise figure (segment_economics' small_sample, net_ltv_low / _high)."""
    if row.get("small_sample") and not is_missing(row.get("net_ltv_low")):
        low, high = money(row["net_ltv_low"], currency), money(row["net_ltv_high"], currency)
        # both ends at the lifetime cap (no churn either way): one figure, not "88.9k to 88.9k"
        return f"{low} to {high}" if low != high else low
    return money(row["net_ltv"], currency)


def money(value, currency: str = "USD", compact: bool = True, cents: bool = True) -> str:
    """$12.3k / $1.2M when compact, else $12,345; under 100 with cents unless cents=False; zero is $0."""
    if is_missing(value):
        return "n/a"
    code = (currency or "").upper()
    symbol = CURRENCY_SYMBOLS.get(code, f"{code} " if code else "")  # unknown currency: no symbol
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if compact and v >= 1_000_000:
        return f"{sign}{symbol}{v / 1_000_000:.1f}M"
    if compact and v >= 10_000:
        return f"{sign}{symbol}{v / 1_000:.1f}k"
    if v >= 100 or not cents or v == 0:
        return f"{sign}{symbol}{v:,.0f}"
    return f"{sign}{symbol}{v:,.2f}"


def pct(value, digits: int = 1) -> str:
    """0.123 -> 12.3%."""
    if is_missing(value):
        return "n/a"
    return f"{value * 100:.{digits}f}%"


def ratio(value, digits: int = 1) -> str:
    """2.9975 -> '2.99x' with digits=2: truncated, so a ratio just under a threshold never prints as it."""
    if is_missing(value):
        return "n/a"
    if math.isinf(value):
        return "n/a"
    scale = 10 ** digits
    return f"{math.floor(value * scale) / scale:.{digits}f}x"


def verdict_ratio(value, assumptions) -> str:
    """Net LTV:CAC beside a verdict ('2.10x', '2.9975x' next to a 3x threshold): the digits of the verdict's
    rule (economics.unit.shown_ltv_cac), so the headline and the rule read the same number; n/a when
    missing or infinite, as ratio()."""
    from economics.unit import shown_ltv_cac

    if is_missing(value) or math.isinf(value):
        return "n/a"
    return f"{shown_ltv_cac(value, assumptions)}x"


def verdict_months(value, assumptions) -> str:
    """CAC payback beside a verdict ('10.0 mo', '18.04 mo' next to an 18-month threshold): the digits of the
    verdict's rule (economics.unit.shown_payback); 'never' when infinite, as months()."""
    from economics.unit import shown_payback

    if is_missing(value):
        return "n/a"
    if math.isinf(value):
        return "never"
    return f"{shown_payback(value, assumptions)} mo"


def months(value) -> str:
    if is_missing(value):
        return "n/a"
    if math.isinf(value):
        return "never"
    return f"{value:.1f} mo"


def count(value) -> str:
    if is_missing(value):
        return "n/a"
    return f"{int(value):,}"


def kpi_value(kind: str, value, currency: str = "") -> str:
    """A tile's value by its kind (count, money, pct, ratio, months)."""
    return {"count": count, "money": lambda v: money(v, currency), "pct": lambda v: pct(v, 1 if abs(v) < 0.1 else 0)
            if not is_missing(v) else "n/a", "ratio": ratio, "months": months}[kind](value)


def kpi_delta(kind: str, value, before, currency: str = "") -> str | None:
    """The change against the month before ('+102', '-0.21 pts'); None when either is missing."""
    if is_missing(value) or is_missing(before) or math.isinf(value) or math.isinf(before):
        return None
    diff = value - before
    sign = "+" if diff >= 0 else "-"
    diff = abs(diff)
    text = {"count": f"{diff:,.0f}", "money": money(diff, currency, cents=False), "pct": f"{diff * 100:.2f} pts",
            "ratio": f"{diff:.1f}x", "months": f"{diff:.1f} mo"}[kind]
    return sign + text


def plural(n, noun: str, nouns: str | None = None) -> str:
    """A count and its noun in the number the count takes: '1 paying customer', '2,840 paying customers',
    '0 customers', '1 complete month'; `nouns` when the plural is not noun + 's'. A whole float reads as an
    integer (a threshold of 18.0 months: '18 months'); counts carry thousands separators."""
    if isinstance(n, numbers.Integral) or float(n).is_integer():
        n = int(n)
    text = f"{n:,}" if isinstance(n, int) else f"{n:,g}"
    return f"{text} {noun if n == 1 else (nouns or noun + 's')}"


def table_height(rows: int, at_most: int) -> int:
    """A dataframe's height in pixels that fits `rows` rows and the header (no empty rows under a short
    table), at most `at_most` (a longer table scrolls)."""
    return min(at_most, 35 * (rows + 1) + 3)


def plain(text) -> str:
    """`text` for st.markdown as it is written: markdown and LaTeX characters escaped (a "$5" or a
    "file_name" in a message is not a formula or italics)."""
    return re.sub(r"([\\`*_{}\[\]<>$#|~])", r"\\\1", str(text))


def file_name(text: str) -> str:
    """`text` fit for a downloaded file's name: any run of characters other than letters, digits, dots and
    dashes one "_" (a segment "SMB · Outbound sales", a definition "Q3 board")."""
    return re.sub(r"[^\w.-]+", "_", text).strip("_")


def validation_table(problems: pd.DataFrame) -> pd.DataFrame:
    """A load's problems (ingest.problems.Problems.frame) as the Data page shows them in st.table, whose
    cells are markdown: the severity, where (file, table, column, example rows; the message says how many)
    and the message, each written as it is (plain), errors first."""

    def where(row) -> str:
        rows = row["rows"] and f"{'rows' if ',' in row['rows'] else 'row'} {row['rows']}"
        parts = [row["file"], row["table"] and f"table {row['table']}",
                 row["column"] and f"column {row['column']}", rows]
        return plain(" · ".join(str(p) for p in parts if p and not is_missing(p)))

    severity = {"error": ":red[**Error**]", "warning": ":orange[Warning]"}
    return pd.DataFrame({"": [severity.get(s, s) for s in problems["severity"]],
                         "where": [where(row) for _, row in problems.iterrows()],
                         "what it means and what to do": [plain(m) for m in problems["message"]]})
