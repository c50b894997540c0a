"""Shared pieces of the real-browser tests: serving `ringwatch dashboard`, driving Debian's Chromium, waiting."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the (closed) network.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
WAIT_MS = 30_000


def ringwatch() -> list[str]:
    """The installed `ringwatch` command."""
    script = Path(sys.executable).with_name("ringwatch")
    found = str(script) if script.exists() else shutil.which("ringwatch")
    assert found, "the ringwatch command is not installed: pip install -e '.[test]'"
    return [found]


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve_dashboard(db: Path, folder: Path, *args: str, port: int | None = None, env: dict | None = None,
                    command: list[str] | None = None):
    """Run `ringwatch dashboard` (or ``command``, another way to start it) on ``db`` until the block ends; yields
    its URL."""
    port = port or free_port()
    log_path = folder / f"server-{port}.log"
    log = log_path.open("w")
    # Own process group: the command starts Streamlit as a child, and both must stop with the test.
    proc = subprocess.Popen([*(command or ringwatch()), "dashboard", "--db", str(db), "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env={**os.environ, **(env or {})})
    url = f"http://localhost:{port}"
    try:
        wait_until_serving(proc, port, log_path)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@contextlib.contextmanager
def chromium():
    """A headless Chromium driven by Playwright."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tests need Debian's Chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def new_page(browser):
    """A fresh browser context and tab that records (and dismisses) any dialog in ``tab.dialogs``, and
    script errors in ``tab.console_errors``."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.dialogs = []
    tab.console_errors = []

    def on_dialog(dialog):
        tab.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    # Streamlit probes /<page>/_stcore/... (404) and fetches icons from the closed network on every page:
    # resource loads are not the page's errors; script errors and uncaught exceptions are.
    tab.on("console", lambda msg: tab.console_errors.append(msg.text)
           if msg.type == "error" and not msg.text.startswith("Failed to load resource") else None)
    tab.on("pageerror", lambda exc: tab.console_errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()


def shot(page, name: str, height: int = 2000) -> None:
    """Screenshot the page; Streamlit scrolls inside its own container, so grow the window instead of full_page."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": height})
    page.wait_for_timeout(400)  # let Plotly follow the resize
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    page.set_viewport_size({"width": 1400, "height": 1000})


def settled(page) -> None:
    """Wait until Streamlit has finished the current run (no 'running' status widget)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=WAIT_MS)


def plot_ready(page, key: str, title_part: str = "") -> None:
    """Wait until the Plotly chart under widget ``key`` is drawn with a title containing ``title_part``."""
    page.wait_for_function(
        """([key, part]) => {
            const el = document.querySelector(`.st-key-${key} .js-plotly-plot`);
            return !!(el && el._fullLayout && el._fullLayout.title
                      && (el._fullLayout.title.text || '').includes(part)
                      && el.querySelector('.main-svg'));
        }""", arg=[key, title_part], timeout=WAIT_MS)
    # one more frame so WebGL traces are on screen, not just queued
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def choose(page, key: str, text: str) -> float:
    """Pick an option of a select box; returns the moment it was picked (perf_counter)."""
    box = page.locator(f".st-key-{key} input[role=combobox]")
    box.click()
    box.fill(text)
    option = page.locator("[role=option]", has_text=text).first
    option.wait_for(timeout=WAIT_MS)
    picked = time.perf_counter()
    option.click()
    return picked


def wait_until_serving(proc, port: int, log_path, timeout: float = 60) -> None:
    """Wait for ``ringwatch dashboard`` on ``port`` to answer its health check; fail with its log if it stops."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail("ringwatch dashboard did not start:\n" + log_path.read_text())
        time.sleep(0.3)
