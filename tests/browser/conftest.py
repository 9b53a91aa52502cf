"""Browser tests: Playwright (sync API) driving Debian's Chromium against a live server.

Every page a test visits goes through `PageChecker.check`, which runs axe-core, looks for console
errors, CSP violations and requests to other origins, measures what the page cost, saves
screenshots at 375 px and 1280 px (under screenshots/, which git ignores) and checks there is no
sideways scrolling at 320 px. The numbers are printed at the end of the run.

Chromium comes from the system (`apt-get install chromium`, which .ci/run does when it is
missing), never from `playwright install`. Without it the tests skip and say why.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SKIP_REASON = (
    f"browser tests skipped: {CHROMIUM} not found (install Debian's chromium package; "
    ".ci/run does it in CI)"
)
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BUDGET_BYTES = 60 * 1024
SCREENSHOTS = Path(settings.BASE_DIR) / "screenshots"

# Records layout shifts (for CLS) and CSP violations from the first moment of every document.
INIT_SCRIPT = """
window.__shifts = [];
try {
  new PerformanceObserver(function (list) {
    for (const entry of list.getEntries()) {
      window.__shifts.push({value: entry.value, recent: entry.hadRecentInput});
    }
  }).observe({type: "layout-shift", buffered: true});
} catch (e) {}
document.addEventListener("securitypolicyviolation", function (event) {
  const where = event.sourceFile + ":" + event.lineNumber + ":" + event.columnNumber;
  const element = event.target && event.target.outerHTML ? event.target.outerHTML.slice(0, 80) : "";
  window.__reportCsp(event.violatedDirective + " at " + where + " " + element);
});
"""


@dataclass
class PageReport:
    name: str
    url: str
    javascript: bool
    how: str  # "load" (a full page load), "swap" (htmx swapped it in), "back" (history restores)
    transferred: int  # what this view of the page cost over the wire, in bytes
    # A first visit with an empty cache: the page as a GET of its URL returns it, plus its CSS and
    # JS; for a page only a POST shows, what this view transferred plus the CSS and JS.
    cold: int
    requests: int
    cls: float  # cumulative layout shift, leaving out shifts right after input (as CLS does)
    shift_after_input: float
    violations: int


REPORTS: list[PageReport] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CHROMIUM.exists():
        terminalreporter.write_line(SKIP_REASON)
        return
    if not REPORTS:
        return
    write = terminalreporter.write_line
    write("")
    write(
        f"browser budgets (limit {BUDGET_BYTES // 1024} KB a page; axe tags {', '.join(AXE_TAGS)})"
    )
    write(
        f"{'page':<34} {'JS':<3} {'how':<5} {'this view KB':>12} {'cold KB':>8} {'requests':>8} "
        f"{'CLS':>6} {'shift on input':>14} {'axe':>4}"
    )
    for r in REPORTS:
        js = "on" if r.javascript else "off"
        write(
            f"{r.name:<34} {js:<3} {r.how:<5} {r.transferred / 1024:>12.1f} {r.cold / 1024:>8.1f} "
            f"{r.requests:>8} {r.cls:>6.3f} {r.shift_after_input:>14.3f} {r.violations:>4}"
        )
    write(f"screenshots: {SCREENSHOTS}")


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """pytest-django's live server, with one change: static files are served by WhiteNoise, as
    `make run` and a deployment serve them (with the pre-compressed copy of htmx), rather than
    by Django's uncompressed StaticFilesHandler, so the budgets measure what people download."""
    from pytest_django.live_server_helper import LiveServer

    addr = request.config.getvalue("liveserver") or os.getenv(
        "DJANGO_LIVE_TEST_SERVER_ADDRESS", "localhost"
    )
    server = LiveServer(addr, start=False)
    # The thread wraps Django's handler in a media-files handler, then in `static_handler`. With
    # MEDIA_URL unset the media handler would answer every path it finds on disk (static files
    # included, uncompressed), so both wrappers go and WhiteNoise, a middleware, does the work.
    server.thread.static_handler = lambda media_handler: media_handler.application
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, which makes Django refuse database
    # access from test code ("you cannot call this from an async context"). Nothing runs
    # concurrently with it, so the check is off while the browser module runs, and only then: a
    # leftover variable would fail `manage.py check --deploy` in later tests' subprocesses.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield launched
            launched.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def seeded_live(transactional_db: None) -> None:
    """The seeded policies, committed, so the live server's thread sees them."""
    from policies.loading import policy_load, read_document, seed_files

    for path in seed_files():
        policy_load(document=read_document(path))


@dataclass
class PageChecker:
    """Watches one browser context and checks every page shown in it."""

    context: Any
    origin: str
    axe: Any
    javascript: bool = True
    console_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    documents: list[Any] = field(default_factory=list)
    finished: list[Any] = field(default_factory=list)
    # What each static file cost the first time (later loads find it in the cache).
    static_sizes: dict[str, int] = field(default_factory=dict)

    def watch(self, page: Any, *, measure: bool = True) -> Any:
        """Listen to a page; `measure=False` for a second tab, whose bytes are not the page's."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        page.on("request", self._on_request)
        if measure:
            page.on("response", self._on_response)
            page.on("requestfinished", lambda request: self.finished.append(request))
        return page

    def skip(self) -> None:
        """Forget what was transferred so far (pages passed through without a check)."""
        self._transferred()

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _on_request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign_requests.append(request.url)

    def _on_response(self, response: Any) -> None:
        if response.request.resource_type in ("document", "xhr", "fetch"):
            self.documents.append(response)

    def check(
        self,
        page: Any,
        name: str,
        *,
        how: str = "load",
        cold: bool = True,
        allowed_errors: tuple[str, ...] = (),
    ) -> PageReport:
        """All the checks for the page now shown. `how` says whether it was loaded or swapped;
        `cold=False` for a page that only a POST shows (a GET of its URL shows another page);
        `allowed_errors`: console errors this page is expected to log (say, its 4xx status)."""
        page.wait_for_load_state("load")
        if self.javascript:
            # htmx has settled once no request is in flight.
            page.wait_for_function("!document.querySelector('.htmx-request')")
        transferred, requests = self._transferred()
        cls, after_input = self._shifts(page)
        violations = self._axe(page, name)
        self._screenshots(page, name)
        self._assert_clean(name, allowed_errors)
        report = PageReport(
            name=name,
            url=urlsplit(page.url).path,
            javascript=self.javascript,
            how=how,
            transferred=transferred,
            cold=self._cold_bytes(page.url)
            if cold
            else transferred + self._static_bytes(page.content()),
            requests=requests,
            cls=cls,
            shift_after_input=after_input,
            violations=violations,
        )
        REPORTS.append(report)
        assert report.cold <= BUDGET_BYTES, f"{name}: {report.cold} bytes, over budget"
        assert report.transferred <= BUDGET_BYTES, f"{name}: {transferred} bytes, over budget"
        assert cls == 0, f"{name}: layout shifted by {cls} without input"
        return report

    def _transferred(self) -> tuple[int, int]:
        """Bytes over the wire since the last check (bodies as sent, compressed where they were,
        plus headers): a document and its resources for a load, the htmx request for a swap."""
        total = 0
        for request in self.finished:
            sizes = request.sizes()
            size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
            total += size
            path = urlsplit(request.url).path
            if path.startswith("/static/"):
                self.static_sizes.setdefault(path, size)
        count = len(self.finished)
        self.finished.clear()
        return total, count

    def _static_bytes(self, html: str) -> int:
        """The page's CSS and JS as first fetched in this context (without JavaScript the browser
        fetches no script, so none is counted)."""
        paths = set(re.findall(r'(?:href|src)="(/static/[^"]+)"', html))
        return sum(self.static_sizes.get(path, 0) for path in paths)

    def _cold_bytes(self, url: str) -> int:
        """A first visit to this URL with an empty cache: the whole page as the server sends it
        for a plain GET, plus its CSS and JS."""
        response = self.context.request.get(url, max_redirects=0)
        headers = sum(len(k) + len(v) + 4 for k, v in response.headers.items())
        html = response.text()
        return len(response.body()) + headers + self._static_bytes(html)

    def _shifts(self, page: Any) -> tuple[float, float]:
        if not self.javascript:
            return 0.0, 0.0
        shifts = page.evaluate(
            "() => { const s = window.__shifts || []; window.__shifts = []; return s; }"
        )
        cls = round(sum(s["value"] for s in shifts if not s["recent"]), 4)
        after_input = round(sum(s["value"] for s in shifts if s["recent"]), 4)
        return cls, after_input

    def _axe(self, page: Any, name: str) -> int:
        if not self.javascript:
            return 0  # axe runs in the page; the JavaScript-on walk covers the same markup
        results = self.axe.run(
            page,
            options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
        )
        violations = results.response["violations"]
        assert not violations, f"axe on {name}:\n" + "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + ", ".join(str(n["target"]) for n in v["nodes"])
            for v in violations
        )
        return len(violations)

    def _screenshots(self, page: Any, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        original = page.viewport_size
        page.set_viewport_size({"width": 320, "height": 800})
        if self.javascript:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px at 320px wide"
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 800})
            suffix = "" if self.javascript else "-nojs"
            page.screenshot(path=str(SCREENSHOTS / f"{slug}{suffix}-{width}.png"), full_page=True)
        page.set_viewport_size(original)
        if self.javascript:
            page.evaluate("() => { window.__shifts = []; }")  # resizing is not a swap

    def _assert_clean(self, name: str, allowed_errors: tuple[str, ...]) -> None:
        assert not self.csp_violations, f"CSP violations by {name}: {self.csp_violations}"
        errors = [e for e in self.console_errors if not any(a in e for a in allowed_errors)]
        self.console_errors.clear()
        assert not errors, f"console errors on {name}: {errors}"
        assert not self.foreign_requests, f"requests to other origins: {self.foreign_requests}"
        for response in self.documents:
            headers = response.all_headers()
            assert "content-security-policy" in headers, f"no CSP header on {response.url}"
        self.documents.clear()


@pytest.fixture
def new_checker(browser: Any, live_server: Any) -> Iterator[Any]:
    """Makes checked browser contexts: `new_checker(javascript=False)` for one without script."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    contexts = []

    def make(*, javascript: bool = True) -> tuple[Any, PageChecker]:
        context = browser.new_context(
            base_url=live_server.url,
            java_script_enabled=javascript,
            viewport={"width": 1280, "height": 800},
        )
        contexts.append(context)
        checker = PageChecker(
            context=context, origin=live_server.url, axe=axe, javascript=javascript
        )
        context.expose_binding(
            "__reportCsp", lambda source, violation: checker.csp_violations.append(violation)
        )
        context.add_init_script(INIT_SCRIPT)
        page = checker.watch(context.new_page())
        return page, checker

    yield make
    for context in contexts:
        context.close()
