"""Fixtures shared by the test packages."""
from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.fixture
def held_by_another_process(tmp_path):
    """A workspace file another process (a second dashboard, say) holds open."""
    path = tmp_path / "held.duckdb"
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); time.sleep(120)", str(path)], stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"open"
    yield path, holder.pid
    holder.kill()
    holder.wait()
