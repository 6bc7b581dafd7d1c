"""The real user interfaces in a real browser: servers, a Selenium-driven chromium, and axe-core.

Design
------
The browser is Debian's chromium driven by Debian's chromedriver through Selenium 4
(``Service(executable_path=...)``), headless, with a fresh profile and no network features:
nothing is downloaded at run time. ``Servers`` starts Jupyter servers on localhost (JupyterLab
for the student, the nbgrader formgrader for the instructor), each in its own folder with its
own runtime, config and workspace folders, a random token, and stops them at the end.

The accessibility audit is npm's ``axe-core`` 4.x, read from $AUTOGRADER_AXE_JS or from
``.browser/node_modules/axe-core/axe.min.js`` (.ci/run installs it there with npm): it is
injected into the page the browser has loaded and run on the whole document. ``serious`` and
``critical`` violations fail the tests; every violation is reported with its nodes.

What is missing (chromium, chromedriver, selenium, JupyterLab, axe-core) makes the tests skip
with the reason, or fail when $AUTOGRADER_REQUIRE_BROWSER is set, as .ci/run does.
"""

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BROWSER_DEPS = os.path.join(ROOT, ".browser", "node_modules")
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                "--hide-scrollbars", "--disable-dev-shm-usage"]
BLOCKING = ("serious", "critical")          # axe impacts that fail a page
SERVER_START_SECONDS = 120                  # a loaded 2-core machine starts JupyterLab in ~10 s


def missing(reason):
    """Skip with ``reason``, or fail when the browser tests are required."""
    if os.environ.get("AUTOGRADER_REQUIRE_BROWSER"):
        pytest.fail(reason + " (AUTOGRADER_REQUIRE_BROWSER is set; .ci/run installs it)")
    pytest.skip(reason)


def need_module(name):
    try:
        return __import__(name)
    except ImportError:
        missing("python package %r is not installed (pip install -e '.[dev]')" % name)


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    missing("no chromium on PATH (apt-get install chromium chromium-driver)")


def axe_source():
    path = os.environ.get("AUTOGRADER_AXE_JS") or os.path.join(BROWSER_DEPS, "axe-core", "axe.min.js")
    if not os.path.isfile(path):
        missing("axe-core not found at %s (npm install --prefix .browser axe-core@4)" % path)
    with open(path, encoding="utf-8") as f:
        return f.read()


def make_driver(profile, width=1280, height=1000):
    """A headless chromium under Selenium, with a fresh profile folder."""
    binary = chromium_binary()
    if not os.path.exists(CHROMEDRIVER):
        missing("no chromedriver at %s (apt-get install chromium-driver)" % CHROMEDRIVER)
    need_module("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in CHROME_FLAGS + ["--user-data-dir=" + profile, "--window-size=%d,%d" % (width, height)]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    driver.set_script_timeout(120)
    return driver


def audit(driver, axe_js):
    """axe-core's violations of the page the driver shows: [{id, impact, help, nodes: [html]}]."""
    driver.execute_script(axe_js)
    found = driver.execute_async_script(
        "var done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(function (r) { done({version: axe.version, violations: r.violations.map(function (v) {"
        "  return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(function (n) {"
        "    return n.html + ' -- ' + n.failureSummary; })}; })}); })"
        ".catch(function (e) { done({error: String(e)}); });")
    assert "error" not in found, found
    assert found["version"].startswith("4."), found["version"]
    return found["violations"]


def blocking(violations):
    return [v for v in violations if v["impact"] in BLOCKING]


def save_shot(driver, folder, name):
    """A full-page PNG of what the driver shows, in ``folder``; returns its path."""
    path = os.path.join(folder, name + ".png")
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 800)")
    width = driver.get_window_size()["width"]
    driver.set_window_size(width, min(int(height) + 120, 6000))
    driver.save_screenshot(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return path


def save_shot_window(driver, folder, name):
    """A PNG of the browser window as it is (an app like JupyterLab scrolls inside its own panels)."""
    path = os.path.join(folder, name + ".png")
    driver.save_screenshot(path)
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Jupyter server on localhost, started in ``folder``; ``url(path)`` carries the token."""

    def __init__(self, app, folder, scratch, extra=()):
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.folder = str(folder)
        env = dict(os.environ, JUPYTER_RUNTIME_DIR=os.path.join(scratch, "runtime"),
                   JUPYTER_DATA_DIR=os.path.join(scratch, "data"), IPYTHONDIR=os.path.join(scratch, "ipython"),
                   MPLCONFIGDIR=os.path.join(scratch, "mpl"), JUPYTER_PLATFORM_DIRS="1",
                   PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
        args = [sys.executable, "-m", "jupyter", app, "--no-browser", "--ip=127.0.0.1",
                "--port=%d" % self.port, "--ServerApp.port_retries=0", "--IdentityProvider.token=" + self.token,
                "--ServerApp.root_dir=" + self.folder] + list(extra)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.append("--allow-root")
        self.log = open(os.path.join(scratch, app + ".log"), "w+", encoding="utf-8")
        self.proc = subprocess.Popen(args, cwd=self.folder, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()

    def url(self, path):
        sep = "&" if "?" in path else "?"
        return "http://127.0.0.1:%d%s%stoken=%s" % (self.port, path, sep, self.token)

    def _wait(self):
        deadline = time.monotonic() + SERVER_START_SECONDS
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("jupyter exited (%d):\n%s" % (self.proc.returncode, self.tail()))
            try:
                with urllib.request.urlopen(self.url("/api/status"), timeout=5) as r:
                    json.load(r)
                    return
            except OSError:
                time.sleep(0.5)
        raise AssertionError("jupyter did not answer in %d s:\n%s" % (SERVER_START_SECONDS, self.tail()))

    def tail(self, chars=4000):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-chars:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
