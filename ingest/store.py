"""The workspace: one DuckDB file holding the typed tables of the last successful load.

The workspace is shared by everyone using the server. A load replaces every table in one transaction,
so readers see either the previous load or the new one, never a mix, and a failed load changes nothing.
"""
from __future__ import annotations

import hashlib
import os
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from ingest.contract import STORED_TABLES

__all__ = ["Workspace", "WorkspaceUnavailable", "default_path", "WORKSPACE_ENV"]

WORKSPACE_ENV = "SEGMENTS_WORKSPACE"

_connections: dict[str, duckdb.DuckDBPyConnection] = {}
_connections_lock = threading.Lock()
_write_lock = threading.Lock()


def default_path() -> Path:
    """The workspace file: $SEGMENTS_WORKSPACE, else data/workspace.duckdb beside the project."""
    env = os.environ.get(WORKSPACE_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent / "data" / "workspace.duckdb"


class WorkspaceUnavailable(Exception):
    """The workspace file cannot be opened (another program holds it, it is not a DuckDB file, no
    permission); the message says what to do. The file is never changed."""


def _shared_connection(path: str) -> duckdb.DuckDBPyConnection:
    # DuckDB allows one read-write handle per file and process: every caller shares it and works on
    # its own cursor, so concurrent sessions of one server never conflict.
    with _connections_lock:
        con = _connections.get(path)
        if con is None:
            try:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                con = duckdb.connect(path)
            except (duckdb.Error, OSError) as exc:
                raise WorkspaceUnavailable(_unavailable(path, exc)) from exc
            _connections[path] = con
        return con


def _unavailable(path: str, exc: Exception) -> str:
    own_file = f"`{WORKSPACE_ENV}=/path/to/another.duckdb streamlit run app.py`"
    text = str(exc)
    if "lock" in text.lower():
        holder = re.search(r"\(PID (\d+)\)", text)
        who = f" (process {holder.group(1)})" if holder else ""
        return (f"The workspace file {path} is open in another program{who}, most likely a second copy of "
                f"this dashboard. Stop that one and reload this page, or give this one a workspace of its own: "
                f"{own_file}.")
    return (f"The workspace file {path} cannot be opened: {text}. It was left as it is. Move it aside (it "
            f"holds the last loaded data) and reload this page to start again from the sample company, or "
            f"use another file: {own_file}.")


@dataclass
class Workspace:
    """A handle on the workspace file. Cheap to create; the DuckDB connection is shared per file."""

    path: str | Path

    @classmethod
    def default(cls) -> "Workspace":
        return cls(default_path())

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor of its own for one thread; it sees the last committed load."""
        return _shared_connection(str(self.path)).cursor()

    def ibis(self):
        """An ibis backend over this workspace, for the heavy scans in segmentation/ and economics/."""
        import ibis

        return ibis.duckdb.from_connection(self.cursor())

    # -- reading -----------------------------------------------------------------------------
    def tables(self) -> list[str]:
        rows = self.cursor().execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchall()
        present = {r[0] for r in rows}
        return [t for t in STORED_TABLES if t in present]

    def is_empty(self) -> bool:
        return "revenue" not in self.tables()

    def never_loaded(self) -> bool:
        """True on the very first start: nothing was ever loaded or cleared here."""
        return not self.meta()

    def table(self, name: str) -> pd.DataFrame:
        if name not in STORED_TABLES:
            raise ValueError(f"Unknown table {name!r}; the workspace holds {', '.join(STORED_TABLES)}.")
        if name not in self.tables():
            return pd.DataFrame()
        return self.cursor().execute(f'SELECT * FROM "{name}"').df()

    def row_counts(self) -> dict[str, int]:
        cur = self.cursor()
        return {t: cur.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in self.tables()}

    def meta(self) -> dict[str, str]:
        cur = self.cursor()
        try:
            rows = cur.execute("SELECT key, value FROM meta").fetchall()
        except duckdb.CatalogException:
            return {}
        return dict(rows)

    @property
    def data_version(self) -> str:
        """Changes on every load: caches key on it."""
        return self.meta().get("data_version", "empty")

    # -- writing -----------------------------------------------------------------------------
    def replace(self, tables: dict[str, pd.DataFrame], meta: dict[str, str]) -> str:
        """Replace the whole workspace with `tables` in one transaction; return the new data version.

        Tables not given are dropped, so a load is all of one upload and nothing of the previous one.
        """
        unknown = set(tables) - set(STORED_TABLES)
        if unknown:
            raise ValueError(f"Unknown tables {sorted(unknown)}; expected some of {STORED_TABLES}.")
        digest = hashlib.sha256()
        loaded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        digest.update(uuid.uuid4().bytes)  # a new version on every load, even of identical data
        for name in sorted(tables):
            digest.update(name.encode())
            digest.update(pd.util.hash_pandas_object(tables[name], index=False).values.tobytes())
        version = digest.hexdigest()[:16]
        meta = {**{k: str(v) for k, v in meta.items()}, "data_version": version, "loaded_at": loaded_at}

        with _write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                for name in STORED_TABLES:
                    cur.execute(f'DROP TABLE IF EXISTS "{name}"')
                for name, frame in tables.items():
                    cur.register("_incoming", frame)
                    cur.execute(f'CREATE TABLE "{name}" AS SELECT * FROM _incoming')
                    cur.unregister("_incoming")
                cur.execute("CREATE OR REPLACE TABLE meta (key VARCHAR, value VARCHAR)")
                cur.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return version

    # -- saved segment definitions (kept across loads: they describe segments, not data) --------
    def saved_definitions(self) -> dict[str, str]:
        """Name -> TOML text of every definition saved in this workspace."""
        try:
            rows = self.cursor().execute("SELECT name, toml FROM definitions ORDER BY name").fetchall()
        except duckdb.CatalogException:
            return {}
        return dict(rows)

    def save_definition(self, name: str, toml_text: str) -> None:
        name = name.strip()
        if not name:
            raise ValueError("A saved definition needs a name.")
        with _write_lock:
            cur = self.cursor()
            cur.execute("CREATE TABLE IF NOT EXISTS definitions "
                        "(name VARCHAR PRIMARY KEY, toml VARCHAR, saved_at TIMESTAMP)")
            cur.execute("INSERT OR REPLACE INTO definitions VALUES (?, ?, now())", [name, toml_text])

    def clear(self) -> None:
        """Drop every table. The workspace stays empty (it is not refilled with the sample company)."""
        with _write_lock:
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                for name in STORED_TABLES:
                    cur.execute(f'DROP TABLE IF EXISTS "{name}"')
                cur.execute("CREATE OR REPLACE TABLE meta (key VARCHAR, value VARCHAR)")
                cur.execute("INSERT INTO meta VALUES ('source', 'cleared'), ('data_version', ?)",
                            [uuid.uuid4().hex[:16]])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
