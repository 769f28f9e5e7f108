"""Custom segments: named boolean expressions over feature columns, evaluated by DuckDB, read-only.

Each rule is a SQL boolean expression (``events_30d >= 20 AND features_used_30d >= 5``). It runs in an
in-memory DuckDB connection of its own (one per thread) that holds one table, ``features``, registered for
the evaluation under way, with external access switched off and the configuration locked, so a rule can
read neither files nor other tables. The expression is
parsed first (DuckDB's own parser, via ``json_serialize_sql``) and refused when it holds a ``;``, a
subquery, a window or a table/file function; then bound against the features table, so an unknown
column gets a message naming the rule and the column.
"""
from __future__ import annotations

import difflib
import functools
import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

__all__ = ["Rule", "RuleError", "validate_expression", "evaluate_rules"]

# Functions that reach outside the features table (files, settings, the environment, other queries).
_FORBIDDEN_FUNCTION = re.compile(
    r"^(read_|glob$|query$|query_table$|getenv$|current_setting$|sniff_csv$|parquet_|delta_scan|iceberg_"
    r"|sqlite_|postgres_|mysql_|duckdb_|pragma_|load_|install_|copy)", re.IGNORECASE)
_FORBIDDEN_CLASSES = {"SUBQUERY", "WINDOW", "STAR", "PARAMETER", "LAMBDA"}


class RuleError(ValueError):
    """A custom rule that cannot be used; the message names the rule and what to change."""


@dataclass(frozen=True)
class Rule:
    """One named segment: customers for whom ``expr`` is true (and no earlier rule matched)."""

    name: str
    expr: str


def _walk(node: object):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def validate_expression(name: str, expr: str) -> None:
    """Refuse anything but a row-wise boolean expression over the features table's columns.

    Raises RuleError naming the rule for: an empty expression, a ``;``, a syntax error, a subquery or
    other table, a window, or a function that reads files or settings (``read_csv``, ``glob``, ...).
    Column names are checked later, against the features frame (see `evaluate_rules`).
    """
    _validate(name, expr)


@functools.lru_cache(maxsize=256)
def _validate(name: str, expr: str) -> None:
    # Memoised: the report and the app check the same few rules at every date (a parse costs ~20 ms).
    if not isinstance(expr, str) or not expr.strip():
        raise RuleError(f"custom rule {name!r}: the expression is empty; write a condition such as "
                        "`events_30d >= 20`.")
    if ";" in expr:
        raise RuleError(f"custom rule {name!r}: ';' is not allowed; a rule is one boolean expression "
                        "over the feature columns.")
    con = duckdb.connect(":memory:")
    try:
        sql = f"SELECT customer_id FROM features WHERE ({expr})"
        raw = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    finally:
        con.close()
    tree = json.loads(raw)
    if tree.get("error"):
        # The expression is wrapped in parentheses: an error "near )" is at its end.
        problem = re.sub(r'(syntax error) at or near "\)"$', r"\1: it ends before the condition does",
                         tree.get("error_message", "syntax error"))
        raise RuleError(f"custom rule {name!r}: the expression {_code(expr)} is not valid SQL ({problem}); write a "
                        "condition such as `mrr >= 1000 AND plan = 'Team'`.")
    statements = tree.get("statements", [])
    if len(statements) != 1:
        raise RuleError(f"custom rule {name!r}: write one boolean expression, not several statements.")
    node = statements[0]["node"]
    if node.get("type") != "SELECT_NODE" or node.get("from_table", {}).get("table_name") != "features":
        raise RuleError(f"custom rule {name!r}: the expression {_code(expr)} must be a single condition "
                        "over the feature columns.")
    where = node.get("where_clause")
    for sub in _walk(where):
        cls = sub.get("class")
        if cls in _FORBIDDEN_CLASSES or sub.get("type") == "BASE_TABLE" or "subquery" in sub:
            raise RuleError(f"custom rule {name!r}: subqueries, windows and other tables are not allowed "
                            "(a rule sees only the features table's columns of one customer).")
        if cls == "FUNCTION":
            fname = str(sub.get("function_name", ""))
            if _FORBIDDEN_FUNCTION.match(fname):
                raise RuleError(f"custom rule {name!r}: the function {fname}() reaches outside the features "
                                "table (files, settings or other tables) and is not allowed.")


_LOCAL = threading.local()


def _connection(frame: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """This thread's rules connection with `frame` registered as `features`: in memory, no file or network
    access, settings locked, and no table but the frame of the evaluation under way (unregistered after
    it). Opened once per thread: a new connection cost more than the rules at 100k customers."""
    con = getattr(_LOCAL, "con", None)
    if con is None:
        con = duckdb.connect(":memory:")
        con.execute("SET enable_external_access = false")
        con.execute("SET lock_configuration = true")
        _LOCAL.con = con
    con.register("features", frame)
    return con


def _rule_frame(features: pd.DataFrame, columns: list) -> pd.DataFrame:
    """The columns rules may read; categorical ones (labels of other schemes) as plain strings."""
    frame = features[columns].reset_index(drop=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype("string")
    return frame


def named_columns(rules: Sequence[Rule], columns: Sequence) -> list:
    """The `columns` the rules' expressions name, bare or quoted, in any case: found by a scan of their
    words, so a superset of the columns they read (a word in a string literal counts too)."""
    words = {w.lower() for r in rules for w in re.findall(r'[A-Za-z_][A-Za-z0-9_]*|"[^"]+"', r.expr)}
    return [c for c in columns if str(c).lower() in words or f'"{str(c).lower()}"' in words]


def _code(expr: str) -> str:
    """An expression as code in a message: the page shows it verbatim (as plain text, Streamlit's markdown
    turned ">=" into a "≥" that a rule refuses)."""
    return f"`{expr.replace('`', '')}`"


def _binding_problem(rule: Rule, error: str, features: pd.DataFrame) -> str:
    """A rule's binding error in the user's words: for an unknown column, the closest names and every
    column a rule can use (DuckDB's own message lists none); for text compared with a number, the text
    columns the rule names."""
    columns = list(features.columns)
    unknown = re.search(r'column "([^"]+)" not found', error)
    if re.search(r"Cannot compare values of type VARCHAR and type \w*(INTEGER|DECIMAL|DOUBLE|NUMERIC)|"
                 r"Cannot compare values of type \w*(INTEGER|DECIMAL|DOUBLE|NUMERIC)\w* and type VARCHAR", error):
        text = sorted(c for c in named_columns([rule], columns) if not pd.api.types.is_numeric_dtype(features[c]))
        which = f" ({', '.join(text)} {'is' if len(text) == 1 else 'are'} text)" if text else ""
        return (f"custom rule {rule.name!r}: the expression {_code(rule.expr)} compares text with a number{which}. "
                "Compare a text column with a quoted value, e.g. `plan = 'Team'`, and a number column with a number.")
    if not unknown:
        return f"custom rule {rule.name!r}: {error.splitlines()[0]} (the expression was {_code(rule.expr)})."
    name = unknown.group(1)
    usable = sorted(c for c in columns if c != "customer_id")
    close = difflib.get_close_matches(name, usable, n=3, cutoff=0.6)
    guess = f" Did you mean {' or '.join(close)}?" if close else ""
    return (f"custom rule {rule.name!r}: there is no column {name!r} (the expression was {_code(rule.expr)})."
            f"{guess} A rule can use: {', '.join(usable)}.")


def evaluate_rules(features: pd.DataFrame, rules: Sequence[Rule], default_label: str) -> pd.Series:
    """Label each row with the name of the first rule whose expression is true, else ``default_label``.

    A NULL condition (a missing input) does not match. Returns a categorical Series indexed like
    ``features`` whose categories are the rule names then the default label.
    Raises RuleError naming the rule for an unknown column, a non-boolean expression, or anything
    `validate_expression` refuses.
    """
    order = list(dict.fromkeys([r.name for r in rules] + [default_label]))
    codes_of = {label: i for i, label in enumerate(order)}
    if not rules or len(features) == 0:
        codes = np.full(len(features), codes_of[default_label], dtype=np.int16)
        return pd.Series(pd.Categorical.from_codes(codes, categories=order), index=features.index)
    for rule in rules:
        validate_expression(rule.name, rule.expr)
    # Only the columns the rules name go to DuckDB (copying every feature column costs more than the rules).
    used = named_columns(rules, list(features.columns))
    con = _connection(_rule_frame(features, used or list(features.columns[:1])))
    try:
        for rule in rules:
            try:
                kind = con.execute(f"DESCRIBE SELECT ({rule.expr}) AS matched FROM features").fetchall()
            except duckdb.Error:
                # Against every column: a name the scan above missed still binds, and an unknown column's
                # message lists the columns there are.
                con = _connection(_rule_frame(features, list(features.columns)))
                try:
                    kind = con.execute(f"DESCRIBE SELECT ({rule.expr}) AS matched FROM features").fetchall()
                except duckdb.Error as exc:
                    raise RuleError(_binding_problem(rule, str(exc), features)) from None
            if kind[0][1] not in ("BOOLEAN", '"NULL"', "NULL"):
                raise RuleError(f"custom rule {rule.name!r}: the expression {_code(rule.expr)} gives {kind[0][1]}, "
                                "not true/false; compare a column with a value, e.g. `events_30d >= 20`.")
        cases = " ".join(f"WHEN ({r.expr}) THEN {codes_of[r.name]}" for r in rules)
        sql = f"SELECT CAST(CASE {cases} ELSE {codes_of[default_label]} END AS SMALLINT) AS code FROM features"
        try:
            codes = con.execute(sql).fetchnumpy()["code"]
        except duckdb.Error as exc:
            text = re.search(r"Could not convert string '(.*)' to (DOUBLE|FLOAT|DECIMAL|\w*INT\w*)", str(exc))
            if text:   # a number column compared with a quoted text
                raise RuleError(f"custom rules could not be evaluated: the text '{text.group(1)}' is compared with "
                                "a number column. Compare a number column with a number, e.g. `mrr >= 1000`, and "
                                "a text column with a quoted value, e.g. `plan = 'Team'`.") from None
            raise RuleError(f"custom rules could not be evaluated: {str(exc).splitlines()[0]}") from None
    finally:
        con.unregister("features")
    codes = np.asarray(codes, dtype=np.int16)
    return pd.Series(pd.Categorical.from_codes(codes, categories=order), index=features.index)
