"""A real browser against the real app: Playwright driving Debian's Chromium, and the app served by
werkzeug on a free loopback port in a thread of the test process (local mode: no OAuth configured).

Playwright's own browser downloads cannot be used here (no network but package registries), so the
browser is the system's ``chromium`` (``tests/run.sh`` installs it). Without it the tests skip with
the reason on a developer's machine, and FAIL in CI (``CI=true``): a browser test that silently
does not run proves nothing.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from wle.app import create_app

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run",
]


def missing(reason: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} — the browser tests must run in CI (tests/run.sh installs what they need).")
    pytest.skip(reason)


def chromium_path() -> str:
    path = os.environ.get("WLE_TEST_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        missing("Chromium is not installed (apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def playwright_driver():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver):
    browser = playwright_driver.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def live_server(settings):
    """The app on http://127.0.0.1:<free port>; yields its base URL."""
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
