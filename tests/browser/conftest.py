"""Real-browser harness: a Streamlit server on a free port and Debian's Chromium driven by Playwright.

Without Chromium these tests skip with a message saying how to install it; under CI (CI=true) a missing
browser fails instead, so a green CI always means the browser suite ran.

Fixtures
--------
chrome       one Chromium for the whole session (launched with the arguments of shared/STACK.md)
server       one Streamlit server for the session, on a free port, with its own empty workspace file (its
             first request loads the sample company; starting another costs ~10 s, so tests share it and
             each test leaves the sample company loaded)
make_server  a factory for more fresh servers in one test (each stopped at the test's end)
tab          a new browser context (own cookies, so its own Streamlit session) with a tall 1400 x 2400
             viewport, because Streamlit scrolls an inner container and a full-page shot shows the window
new_tab      a factory for more independent contexts in one test (two users at once)

The names are not pytest-playwright's (`browser`, `page`): that plugin parametrizes every test using its
fixture names by `browser_name` and would try to launch its own, downloaded browser.

Helpers
-------
wait_ready(page)           a script run has finished and no other followed, the title is drawn and every
                           chart has rendered
rerun(page, action)        do `action` (a click, key presses) and wait for the run it starts to finish
open_page(page, url)       goto + wait_ready, failing with the page's exception text when it shows one
shot(page, name)           save artifacts/screenshots/<name>.png
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

__all__ = ["Server", "wait_ready", "rerun", "open_page", "shot", "page_url", "ROOT", "ARTIFACTS"]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 2400}
TIMEOUT_MS = 60_000

# Streamlit marks its root element with the script's run state: "initial" before the session connects,
# then "notRunning", "rerunRequested", "running", "stopRequested". Every tab counts the runs that started
# and finished, so a wait is for the end of a run that began after the action, never a stale "idle".
_APP = '[data-testid="stApp"]'
_IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
_COUNT_RUNS = """
(() => {
  window.__st = {started: 0, finished: 0};
  const attr = 'data-test-script-state';
  const observer = new MutationObserver(records => {
    records.forEach((r, i) => {
      const next = records.slice(i + 1).find(q => q.target === r.target);
      const now = next ? next.oldValue : r.target.getAttribute(attr);
      // busy: a run is requested, going or stopping; idle: "initial" or "notRunning"
      const busy = v => v !== null && v !== 'initial' && v !== 'notRunning';
      if (!busy(r.oldValue) && busy(now)) window.__st.started++;
      if (busy(r.oldValue) && !busy(now)) window.__st.finished++;
    });
  });
  observer.observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                               attributeFilter: [attr]});
  // elements (lazy-loaded components, grids, charts) can still be added after a run has finished:
  // remember when the page's content last changed
  window.__st.changed = performance.now();
  new MutationObserver(() => { window.__st.changed = performance.now(); })
      .observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def _require_browser() -> None:
    if Path(CHROMIUM).exists():
        return
    message = ("Debian's Chromium is not installed: run `apt-get install -y chromium` "
               "(never `playwright install`) to run the browser tests.")
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One Streamlit process on its own workspace file; stopped through its own handle.

    Its output goes to a log file next to the workspace (a pipe nobody reads would fill up and stall
    the server); `log_tail()` shows the end of it in failure messages.
    """

    def __init__(self, workspace: Path, start_timeout: float = 60.0):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workspace = workspace
        self.log_path = workspace.with_suffix(".log")
        env = {**os.environ, "SEGMENTS_WORKSPACE": str(workspace)}
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.port", str(self.port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Streamlit did not start within {start_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@pytest.fixture(scope="session")
def chrome():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory, chrome) -> Iterator[Server]:
    s = Server(tmp_path_factory.mktemp("ws") / "workspace.duckdb")
    yield s
    s.stop()


@pytest.fixture
def make_server(tmp_path_factory, chrome) -> Iterator[Callable[[], Server]]:
    started: list[Server] = []

    def make() -> Server:
        s = Server(tmp_path_factory.mktemp("ws") / "workspace.duckdb")
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


@pytest.fixture
def new_tab(chrome) -> Iterator[Callable[[], object]]:
    contexts = []

    def make():
        context = chrome.new_context(viewport=VIEWPORT, accept_downloads=True)
        context.add_init_script(_COUNT_RUNS)
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(TIMEOUT_MS)
        return pg

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def tab(new_tab):
    return new_tab()


def page_url(server: Server, script: str) -> str:
    """The URL of a page script: app.py is `/`, pages/4_Unit_economics.py is `/Unit_economics`."""
    if script == "app.py":
        return server.url + "/"
    stem = Path(script).stem
    head, _, rest = stem.partition("_")
    return f"{server.url}/{rest if head.isdigit() and rest else stem}"


def wait_ready(page, after: int = 0, timeout: float = TIMEOUT_MS) -> None:
    """Wait until more than `after` script runs have finished, none has started since for a moment, the
    title is drawn and every chart has rendered.

    "notRunning" alone is not enough: on a new page the state reads "notRunning" once the session has
    connected and before the first run starts. The tab's init script counts the runs that started
    (idle -> busy) and finished (busy -> idle).
    """
    page.wait_for_selector(_APP, timeout=timeout)
    idle = """n => window.__st && window.__st.finished > n && window.__st.finished === window.__st.started
                  && document.querySelector('[data-testid="stApp"]')
                             .getAttribute('data-test-script-state') === 'notRunning'"""
    page.wait_for_function(idle, arg=after, timeout=timeout)
    # a script that calls st.rerun() runs again right away: wait until the tab stays idle for a moment
    while True:
        counts = page.evaluate("() => window.__st.finished")
        page.wait_for_timeout(300)
        if page.evaluate("() => window.__st.started") == counts:
            break
        page.wait_for_function(idle, arg=counts, timeout=timeout)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] h1', timeout=timeout)
    # no element still shows its loading skeleton (components load lazily) or is left over from the
    # previous run, every plotly chart has drawn its SVG, and nothing on the page changed for 300 ms
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')
                 && !document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')
                 && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
                    .every(c => c.querySelector('.js-plotly-plot .main-svg'))
                 && performance.now() - window.__st.changed > 300""", timeout=timeout)


def rerun(page, action: Callable[[], object], timeout: float = TIMEOUT_MS) -> None:
    """Do `action` (a click, key presses, an upload), then wait for the run it starts to finish."""
    before = page.evaluate("() => window.__st.finished")
    action()
    wait_ready(page, after=before, timeout=timeout)


def open_page(page, url: str, timeout: float = TIMEOUT_MS) -> None:
    """Go to `url` and wait until it is ready; fail with the exception's text if the page shows one."""
    page.goto(url)
    wait_ready(page, timeout=timeout)
    errors = page.locator('[data-testid="stException"]')
    if errors.count():
        pytest.fail(f"{url} shows an exception:\n{errors.first.inner_text()[:2000]}")


def shot(page, name: str) -> Path:
    """Save the whole page as artifacts/screenshots/<name>.png.

    Streamlit scrolls an inner container, so a "full page" screenshot shows only the window: the window
    is made as tall as the content (at least 2400 px) for the shot, then put back.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    size = page.viewport_size
    content = page.evaluate(
        """() => Math.max(...['stMain', 'stAppViewContainer', 'stSidebarContent']
                 .map(id => document.querySelector(`[data-testid="${id}"]`)?.scrollHeight || 0))""")
    height = int(content) + 40 if content > size["height"] else size["height"]
    if height != size["height"]:
        page.set_viewport_size({"width": size["width"], "height": height})
        page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True)
    if height != size["height"]:
        page.set_viewport_size(size)
    return path
