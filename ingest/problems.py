"""Problems found while reading and checking exports: what, where, how often, and what to do.

Row numbers are the ones a spreadsheet shows: the header is row 1, the first data row is row 2.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

import pandas as pd

__all__ = ["Problem", "Problems", "file_rows", "partial_month_message", "data_end_note", "noted_at_load",
           "repeated_invoices_message"]

Severity = Literal["error", "warning"]
_MAX_EXAMPLE_ROWS = 5


@dataclass(frozen=True)
class Problem:
    """One finding. Errors block a load; warnings are for the user's information."""

    file: str
    table: str
    column: str
    rows: tuple[int, ...]
    count: int
    message: str
    severity: Severity = "error"


@dataclass
class Problems:
    """Collects problems for one load."""

    items: list[Problem] = field(default_factory=list)

    def add(self, file: str, table: str, column: str, message: str, *, rows=(), count: int | None = None,
            severity: Severity = "error") -> None:
        rows = tuple(int(r) for r in list(rows)[:_MAX_EXAMPLE_ROWS])
        self.items.append(Problem(file, table, column, rows, len(rows) if count is None else int(count),
                                  message, severity))

    def error(self, file: str, table: str, column: str, message: str, **kw) -> None:
        self.add(file, table, column, message, severity="error", **kw)

    def warning(self, file: str, table: str, column: str, message: str, **kw) -> None:
        self.add(file, table, column, message, severity="warning", **kw)

    @property
    def has_errors(self) -> bool:
        return any(p.severity == "error" for p in self.items)

    def errors_in(self, file: str) -> bool:
        return any(p.severity == "error" and p.file == file for p in self.items)

    def frame(self) -> pd.DataFrame:
        """The report as a table: severity, file, table, column, rows (examples), count, message."""
        columns = ["severity", "file", "table", "column", "rows", "count", "message"]
        if not self.items:
            return pd.DataFrame(columns=columns)
        order = {"error": 0, "warning": 1}
        records = [{"severity": p.severity, "file": p.file, "table": p.table, "column": p.column,
                    "rows": ", ".join(str(r) for r in p.rows), "count": p.count, "message": p.message}
                   for p in sorted(self.items, key=lambda p: order[p.severity])]
        return pd.DataFrame.from_records(records, columns=columns)

    def text(self) -> str:
        """The report as lines for a terminal."""
        lines = []
        for p in self.items:
            where = ", ".join(x for x in (p.file, p.column and f"column {p.column}",
                                          p.rows and "rows " + ", ".join(map(str, p.rows))) if x)
            lines.append(f"{p.severity.upper()}: {where}: {p.message}")
        return "\n".join(lines)


def file_rows(mask: pd.Series) -> list[int]:
    """Spreadsheet row numbers (header = 1) where mask is true, first few; the index is the data row."""
    labels = mask.index[mask.to_numpy(dtype=bool)][:_MAX_EXAMPLE_ROWS]
    return [int(label) + 2 for label in labels]


def repeated_invoices_message(repeats: int, column: str) -> str:
    """The warning for revenue rows repeating an earlier row with the same invoice or order id, counted once
    (the loader and the folder scan)."""
    return (f"{repeats:,} row(s) repeat an earlier row exactly, with the same {column} (one invoice exported "
            "twice, as when two exports overlap): each was counted once.")


def partial_month_message(partial, max_date, last_complete, revenue_model: str) -> str:
    """The warning of a load whose data ends inside a month (both loaders say it), in the revenue model's
    words: order revenue is never called MRR (DEFINITIONS.md "Revenue")."""
    movements = "MRR movements" if revenue_model == "subscription" else "revenue movements"
    return (f"The last month, {partial:%B %Y}, is incomplete: the data ends on {max_date:%d %b %Y}. Monthly "
            f"metrics (churn, {movements}, NRR) and each customer's revenue and tier use complete months up to "
            f"{last_complete:%B %Y}; cohort tables show {partial:%B %Y} flagged as partial.")


def data_end_note(meta: Mapping[str, str]) -> str | None:
    """The load's warning that the data's last month is incomplete (partial_month_message, from the
    meta the load wrote), None when the data ends with a month. It speaks of the data's end: a view as
    of an earlier date leaves it out (its own months are what the view names)."""
    as_of = date.fromisoformat(meta["default_as_of"])
    if as_of.day == 1:
        return None
    partial = as_of.replace(day=1)
    return partial_month_message(partial, date.fromisoformat(meta["max_date"]),
                                 (partial - timedelta(days=1)).replace(day=1), meta.get("revenue_model", ""))


def noted_at_load(meta: Mapping[str, str], as_of: date | None = None) -> list[tuple[str, str]]:
    """What the last load warned about, kept in the workspace's meta: (where, message) per warning, where
    naming the file and the column ("Telco.csv, column TotalCharges"; "" when neither is known). With an
    `as_of` before the data's default, without the data-end warning (data_end_note)."""
    earlier = as_of is not None and "default_as_of" in meta and as_of < date.fromisoformat(meta["default_as_of"])
    end = data_end_note(meta) if earlier else None
    return [(", ".join(x for x in (n.get("file"), n.get("column") and f"column {n['column']}") if x), n["message"])
            for n in json.loads(meta.get("warnings") or "[]") if n["message"] != end]
