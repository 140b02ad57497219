"""Browser journeys against a live portal: fixtures and the helpers every journey shares.

One portal process, one validator process and one browser serve the whole session; each test
gets fresh browser contexts (cookies, language) from ``open_page``. A journey reads like this::

    pytestmark = pytest.mark.e2e

    def test_something(open_page, portal, check):
        page = open_page()                      # or open_page(locale="ar")
        page.goto(portal.url("/"))
        check(page, "home")                     # screenshot, axe-core and the Nu HTML checker
        login(page, portal, "anna@example.com")
        ...

``check`` fails the test on any axe-core violation of serious or critical impact and on any
error of the Nu HTML checker; screenshots and the checked HTML land in tests/e2e/artifacts/.
The tools come from `make test` (apt: chromium, a Java runtime; npm ci: axe-core, vnu-jar).
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import functools
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from babel.support import NullTranslations, Translations
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Playwright,
    Response,
    expect,
    sync_playwright,
)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
#: axe-core impacts that fail a page; lesser ones are written to the report only.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})

DEMO_PASSWORD = "portal-demo-2026"  # as printed by `make run`
NEW_PASSWORD = "violet-harbour-lantern-42"  # for accounts the journeys register
TOTP_SECRET = "e2e-totp-secret"
VIEWPORT = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {seconds}s:\n{log.read_text()[-4000:]}")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _require_tools() -> None:
    missing = [str(path) for path in (Path(CHROMIUM), AXE_JS, VNU_JAR) if not path.exists()]
    if shutil.which("java") is None:
        missing.append("java")
    if missing:
        pytest.fail(
            "Browser-test tools missing: " + ", ".join(missing) + ". `make test` installs them "
            "(apt: chromium, default-jre-headless; npm ci: axe-core, vnu-jar)."
        )


# --- The live portal --------------------------------------------------------------------------


@dataclass
class LivePortal:
    """A portal process on 127.0.0.1 with its own SQLite database and a mail folder."""

    base_url: str
    instance_dir: Path
    process: subprocess.Popen[bytes]

    @property
    def database(self) -> Path:
        return self.instance_dir / "portal.db"

    @property
    def mail_dir(self) -> Path:
        return self.instance_dir / "mail"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    # Mail ---------------------------------------------------------------------------------

    def mails_to(self, address: str) -> list[EmailMessage]:
        found = []
        for path in sorted(self.mail_dir.glob("*.eml")):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if address.lower() in str(message["To"]).lower():
                found.append(message)
        return found  # type: ignore[return-value]

    def wait_for_mail(self, address: str, *, after: int = 0, seconds: float = 10) -> EmailMessage:
        """The first mail to ``address`` beyond the ``after`` already there."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            found = self.mails_to(address)
            if len(found) > after:
                return found[after]
            time.sleep(0.1)
        pytest.fail(f"no mail to {address} in {self.mail_dir} after {seconds}s")

    @staticmethod
    def text_of(message: EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain",))
        assert part is not None, "the mail has no text part"
        return str(part.get_content())

    def link_in(self, message: EmailMessage, contains: str = "") -> str:
        """The first link of the mail's text part that points at this portal."""
        for link in re.findall(r"https?://[^\s\"'<>]+", self.text_of(message)):
            if link.startswith(self.base_url) and contains in link:
                return link
        pytest.fail(f"no portal link containing {contains!r} in:\n{self.text_of(message)}")

    # Database -----------------------------------------------------------------------------

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the live database (to compute a two-factor code or check a row)."""
        with contextlib.closing(sqlite3.connect(self.database)) as conn:
            return conn.execute(sql, params).fetchall()

    def totp_code(self, address: str) -> str:
        """The current authenticator code of an account, as the user's phone would show it."""
        import pyotp
        from flask_security.totp import Totp

        rows = self.query('SELECT tf_totp_secret FROM "user" WHERE email = ?', address.lower())
        assert rows and rows[0][0], f"{address} has no two-factor secret"
        key = Totp({"1": TOTP_SECRET}, "Portal").get_totp_b32_key(rows[0][0])
        return str(pyotp.TOTP(key).now())


def _flask(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # generous: seeding on a loaded two-core machine can take minutes
        check=False,
    )
    if result.returncode:
        pytest.fail(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LivePortal]:
    """The portal as a real process: migrations, demo data, mail written to .eml files."""
    _require_tools()
    instance = tmp_path_factory.mktemp("e2e-instance")
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PORTAL_", "FLASK_", "DATABASE_", "REDIS_", "MAIL_", "SERVER_NAME"))
    }
    env.update(
        FLASK_APP="wsgi.py",
        PORTAL_CONFIG="development",
        PORTAL_INSTANCE_DIR=str(instance),
        DATABASE_URL=f"sqlite:///{instance / 'portal.db'}",
        MAIL_BACKEND="file",
        MAIL_DELIVER_INLINE="1",
        TOTP_SECRET=TOTP_SECRET,
        # The journeys sign in more often than a person would.
        LOGIN_RATE_LIMIT="1000 per minute",
        ACCOUNT_FORM_RATE_LIMIT="1000 per hour",
        PYTHONUNBUFFERED="1",
        # Plain http on 127.0.0.1, whatever the calling shell has set.
        SESSION_COOKIE_SECURE="0",
        FORCE_HTTPS="0",
        PREFERRED_URL_SCHEME="http",
    )
    _flask(env, "db", "upgrade")
    _flask(env, "portal", "seed-demo")
    log = instance / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "portal", "serve", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    live = LivePortal(f"http://127.0.0.1:{port}", instance, process)
    try:
        _wait_for(live.url("/healthz"), process, log, 60)
        yield live
    finally:
        _stop(process)


# --- Nu HTML checker --------------------------------------------------------------------------


@dataclass
class HtmlChecker:
    """The Nu HTML checker (vnu.jar) as a local HTTP service: ~50 ms a page after start-up."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path
    ready: bool = False

    def errors(self, html: str) -> list[dict[str, Any]]:
        if not self.ready:
            _wait_for(self.url, self.process, self.log, 90)
            self.ready = True
        request = urllib.request.Request(
            self.url + "?out=json",
            data=html.encode("utf-8"),
            headers={"Content-Type": "text/html; charset=utf-8"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            messages = json.loads(response.read())["messages"]
        return [m for m in messages if m.get("type") in ("error", "non-document-error")]


@pytest.fixture(scope="session", autouse=True)
def html_checker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HtmlChecker]:
    """Started first (autouse) so its JVM warms up while the portal is being built."""
    _require_tools()
    port = _free_port()
    log = tmp_path_factory.mktemp("vnu") / "vnu.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                "java",
                "-Xss4m",
                "-Dnu.validator.servlet.bind-address=127.0.0.1",
                "-cp",
                str(VNU_JAR),
                "nu.validator.servlet.Main",
                str(port),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield HtmlChecker(f"http://127.0.0.1:{port}/", process, log)
    finally:
        _stop(process)


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright, portal: LivePortal) -> Iterator[Browser]:
    """Debian's chromium, never a downloaded browser."""
    chromium = playwright_driver.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@dataclass
class Pages:
    """Opens pages in fresh contexts and remembers each page's last HTML document."""

    browser: Browser
    contexts: list[BrowserContext] = field(default_factory=list)
    documents: dict[int, Response] = field(default_factory=dict)
    console_errors: list[str] = field(default_factory=list)
    #: Pages opened with ``java_script_enabled=False``: axe-core cannot run in them.
    scriptless: set[int] = field(default_factory=set)

    def open(self, locale: str = "en-GB", **options: Any) -> Page:
        options.setdefault("viewport", VIEWPORT)
        context = self.browser.new_context(locale=locale, **options)
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        if options.get("java_script_enabled") is False:
            self.scriptless.add(id(page))

        def remember(response: Response) -> None:
            if (
                response.frame == page.main_frame
                and response.request.is_navigation_request()
                and not 300 <= response.status < 400
            ):
                self.documents[id(page)] = response

        def subresource(response: Response) -> None:
            # A missing stylesheet, script or image is a defect; error pages themselves are not.
            if response.status >= 400 and not response.request.is_navigation_request():
                self.console_errors.append(f"{response.status} for {response.url}")

        def console(message: ConsoleMessage) -> None:
            # A CSP refusal or a script error; failed loads are reported by `subresource`.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                self.console_errors.append(f"{message.text} ({message.location.get('url')})")

        page.on("response", remember)
        page.on("response", subresource)
        page.on("console", console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        return page

    def document_html(self, page: Page) -> str:
        response = self.documents.get(id(page))
        if response is not None and response.url == page.url.split("#", 1)[0]:
            try:
                return response.text()
            except Exception:  # noqa: S110 - the body may be gone; fall back to the DOM
                pass
        content = page.content()
        return (
            content
            if content.lstrip()[:9].lower() == "<!doctype"
            else "<!DOCTYPE html>\n" + content
        )

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


_CALL_FAILED = pytest.StashKey[bool]()


def _keep_failure(registry: Pages, folder: Path) -> None:
    """What every page of a failed journey showed at the end: a screenshot and its DOM."""
    folder.mkdir(parents=True, exist_ok=True)
    for c, context in enumerate(registry.contexts):
        for p, page in enumerate(context.pages):
            stem = folder / f"failure-{c}-{p}"
            try:
                page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
                stem.with_suffix(".html").write_text(
                    f"<!-- {page.url} -->\n{page.content()}", encoding="utf-8"
                )
            except Exception:  # noqa: S112 - a closed page has nothing to keep
                continue


@pytest.fixture
def pages(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Pages]:
    registry = Pages(browser)
    yield registry
    if request.node.stash.get(_CALL_FAILED, False):
        _keep_failure(registry, ARTIFACTS / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))
    registry.close()
    assert not registry.console_errors, "errors in the browser console:\n" + "\n".join(
        registry.console_errors
    )


@pytest.fixture
def open_page(pages: Pages) -> Callable[..., Page]:
    """``open_page(locale="ar")``: a page in a new browser context (own cookies, language)."""
    return pages.open


# --- Checks on every page ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    return AXE_JS.read_text(encoding="utf-8")


_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary, html: n.html}))
  }));
}"""


def axe_violations(page: Page, source: str) -> list[dict[str, Any]]:
    """Every axe-core violation on the page as it is now."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)  # evaluated by the browser itself: the page's CSP does not apply
    return list(page.evaluate(_AXE_RUN))


@pytest.fixture(scope="session")
def _artifacts_dir() -> Path:
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def check(
    request: pytest.FixtureRequest,
    pages: Pages,
    html_checker: HtmlChecker,
    axe_source: str,
    _artifacts_dir: Path,
) -> Callable[[Page, str], None]:
    """``check(page, "name")``: screenshot, axe-core and the Nu HTML checker on the page."""
    folder = _artifacts_dir / re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    counter = iter(range(1, 1000))

    def _check(page: Page, name: str) -> None:
        __tracebackhide__ = True
        page.wait_for_load_state("load")
        stem = folder / f"{next(counter):02d}-{name}"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
        html = pages.document_html(page)
        stem.with_suffix(".html").write_text(html, encoding="utf-8")

        problems: list[str] = []
        # Without scripts only the markup is checked (axe-core is a script).
        scriptless = id(page) in pages.scriptless
        violations = [] if scriptless else axe_violations(page, axe_source)
        if violations:
            stem.with_suffix(".axe.json").write_text(
                json.dumps(violations, indent=2, ensure_ascii=False), encoding="utf-8"
            )
        for violation in violations:
            if violation["impact"] in BLOCKING_IMPACTS:
                targets = "; ".join(
                    f"{n['target']}: {n['summary']}" for n in violation["nodes"][:5]
                )
                problems.append(
                    f"axe {violation['impact']} {violation['id']} ({violation['help']}): {targets}"
                )
        for error in html_checker.errors(html):
            problems.append(
                f"vnu line {error.get('lastLine')}: {error.get('message')} "
                f"[{(error.get('extract') or '').strip()}]"
            )
        assert not problems, f"{name} ({page.url}):\n" + "\n".join(problems)

    return _check


# --- Language ---------------------------------------------------------------------------------


class Translator:
    """The texts a person sees in a language: the portal's catalogs and Flask-Security's."""

    def __init__(self, locale: str) -> None:
        self.locale = locale
        self._portal = self._load(ROOT / "portal" / "translations", "messages")
        # The portal ships Flask-Security catalogs of its own (Latvian, and locales the
        # library names differently); the library's own are the fallback, as in the app.
        self._security = self._load(ROOT / "portal" / "translations", "flask_security")
        builtin = self._load(_security_dir(), "flask_security")
        if isinstance(self._security, Translations):
            self._security.add_fallback(builtin)
        else:
            self._security = builtin

    def _load(self, directory: Path, domain: str) -> NullTranslations:
        if self.locale == "en":
            return NullTranslations()
        return Translations.load(str(directory), [self.locale], domain)

    def __call__(self, message: str, **values: Any) -> str:
        """A portal text, e.g. ``t("Sign in")``."""
        text = self._portal.ugettext(message)
        return text % values if values else text

    def fs(self, message: str, **values: Any) -> str:
        """A Flask-Security text, e.g. ``t.fs("Email Address")``."""
        text = self._security.ugettext(message)
        return text % values if values else text

    def untranslated_sources(self) -> list[re.Pattern[str]]:
        """Source texts (as patterns) that this language would still show in English."""
        if self.locale == "en":
            return []
        patterns = []
        for pot, catalog in (
            (ROOT / "portal" / "translations" / "messages.pot", self._portal),
            (_security_dir() / "flask_security.pot", self._security),
        ):
            for msgid in _source_texts(pot):
                if not _has_translation(catalog, msgid):
                    patterns.append(_text_pattern(msgid))
        return patterns

    def english_sources(self) -> list[re.Pattern[str]]:
        """Every source text (as a pattern) that reads differently in this language: shown in
        English, it is either untranslated or translated too early (``gettext`` at import)."""
        if self.locale == "en":
            return []
        patterns = []
        for pot, catalog in (
            (ROOT / "portal" / "translations" / "messages.pot", self._portal),
            (_security_dir() / "flask_security.pot", self._security),
        ):
            entries = getattr(catalog, "_catalog", {})
            for msgid in _source_texts(pot):
                translated = entries.get(msgid, entries.get((msgid, 0)))
                if translated is None or translated != msgid:
                    patterns.append(_text_pattern(msgid))
        return patterns


def _security_dir() -> Path:
    from flask_security import babel as fs_babel

    return Path(fs_babel.__file__).resolve().parent / "translations"


@functools.cache
def _source_texts(pot: Path) -> tuple[str, ...]:
    from babel.messages.pofile import read_po

    with pot.open("rb") as handle:
        catalog = read_po(handle)
    texts = []
    for message in catalog:
        ids = message.id if isinstance(message.id, (list, tuple)) else [message.id]
        # Single words and symbols ("OK", "—") may read the same in every language.
        texts.extend(str(i) for i in ids if i and re.search(r"[A-Za-z]{2,}\W+[A-Za-z]", str(i)))
    return tuple(texts)


def _has_translation(catalog: NullTranslations, msgid: str) -> bool:
    entries = getattr(catalog, "_catalog", {})
    # Untranslated plurals are compiled as copies of the English source.
    return entries.get(msgid, entries.get((msgid, 0), msgid)) != msgid


def _text_pattern(msgid: str) -> re.Pattern[str]:
    parts = re.split(r"%\(\w+\)[sd]|%[sd]", msgid)
    return re.compile(".+?".join(re.escape(part) for part in parts))


_VISIBLE_TEXTS = """() => {
  const texts = new Set();
  const shown = el => el && (el.checkVisibility ? el.checkVisibility() : el.offsetParent !== null);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text && shown(node.parentElement) && !node.parentElement.closest('script, style')) texts.add(text);
  }
  for (const el of document.querySelectorAll('[placeholder], [aria-label], [title], [alt], option')) {
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      if (el.getAttribute(name)) texts.add(el.getAttribute(name).trim());
    }
    if (el.tagName === 'OPTION') texts.add(el.textContent.trim());
  }
  for (const part of document.title.split(' · ')) texts.add(part.trim());
  return [...texts];
}"""


def english_texts(page: Page, t: Translator) -> list[str]:
    """Texts on the page that are still the English source in ``t``'s language."""
    patterns = t.english_sources()
    return sorted(
        text
        for text in page.evaluate(_VISIBLE_TEXTS)
        if any(pattern.fullmatch(text) for pattern in patterns)
    )


@pytest.fixture(scope="session")
def translator() -> Callable[[str], Translator]:
    cache: dict[str, Translator] = {}

    def _get(locale: str) -> Translator:
        if locale not in cache:
            cache[locale] = Translator(locale)
        return cache[locale]

    return _get


# --- Steps a person takes ---------------------------------------------------------------------


def click_through(locator: Locator) -> None:
    """Click a link or button that loads a page, and wait until the new page has loaded."""
    page = locator.page
    with page.expect_event("framenavigated", predicate=lambda frame: frame == page.main_frame):
        locator.click()
    page.wait_for_load_state("load")


def login(
    page: Page,
    portal: LivePortal,
    address: str,
    password: str = DEMO_PASSWORD,
    t: Translator | None = None,
) -> None:
    """Sign in through the form, by its labels."""
    t = t or Translator("en")
    page.goto(portal.url("/login"))
    page.get_by_label(t.fs("Email Address")).fill(address)
    page.get_by_label(t.fs("Password"), exact=True).fill(password)
    click_through(page.locator("main").get_by_role("button", name=t("Sign in")))


def login_with_code(
    page: Page, portal: LivePortal, address: str, password: str = DEMO_PASSWORD
) -> None:
    """Sign in an account with two-factor (the demo admin) using its current code."""
    t = Translator("en")
    login(page, portal, address, password)
    page.get_by_label(t.fs("Authentication Code")).fill(portal.totp_code(address))
    click_through(page.get_by_role("button", name=t("Verify code")))


def logout(page: Page, t: Translator | None = None) -> None:
    t = t or Translator("en")
    click_through(page.get_by_role("button", name=t("Sign out")))


def new_address(prefix: str) -> str:
    """A fresh address, so journeys never collide on the shared live database."""
    return f"{prefix}-{os.urandom(4).hex()}@example.com"


def register_and_confirm(
    page: Page,
    portal: LivePortal,
    check: Callable[[Page, str], None],
    t: Translator,
    *,
    name: str,
    address: str,
    password: str = NEW_PASSWORD,
) -> None:
    """From the home page to a confirmed account, checking every page on the way."""
    page.goto(portal.url("/"))
    check(page, "home-visitor")
    click_through(page.get_by_role("main").get_by_role("link", name=t("Create an account")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Create an account"))
    check(page, "register")

    # A mistake first: the message sits beside the field and what was typed stays.
    page.get_by_label(t("Your name")).fill(name)
    page.get_by_label(t.fs("Email Address")).fill(address)
    page.get_by_label(t.fs("Password"), exact=True).fill("short")
    page.get_by_label(t.fs("Retype Password")).fill("short")
    page.get_by_label(t("How did you hear about us?")).select_option(label=t("A friend told me"))
    click_through(page.get_by_role("button", name=t("Create account")))
    password_field = page.get_by_label(t.fs("Password"), exact=True)
    expect(password_field).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label(t("Your name"))).to_have_value(name)
    check(page, "register-error")

    password_field.fill(password)
    page.get_by_label(t.fs("Retype Password")).fill(password)
    page.get_by_label(t("Send me the newsletter (you can unsubscribe at any time)")).check()
    click_through(page.get_by_role("button", name=t("Create account")))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign in"))
    check(page, "registered")

    mail = portal.wait_for_mail(address)
    page.goto(portal.link_in(mail, "/confirm"))
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Sign in"))
    check(page, "confirmed")


def expect_language(page: Page, lang: str, direction: str = "ltr") -> None:
    """The page declares the language and the writing direction it is shown in."""
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", direction)


_GEOMETRY = """() => {
  const box = el => el.getBoundingClientRect();
  const label = document.querySelector('main label.form-label');
  const field = label && document.getElementById(label.htmlFor);
  return {
    direction: getComputedStyle(document.body).direction,
    stylesheets: [...document.querySelectorAll('link[rel=stylesheet]')].map(l => l.href),
    viewport: document.documentElement.clientWidth,
    brand: box(document.querySelector('.navbar-brand')),
    label: label && box(label),
    field: field && box(field),
  };
}"""


def assert_mirrored(page: Page) -> None:
    """A right-to-left page is laid out from the right: RTL Bootstrap, brand and labels right."""
    page.wait_for_load_state("load")
    geometry = page.evaluate(_GEOMETRY)
    assert geometry["direction"] == "rtl"
    assert any("bootstrap.rtl" in href for href in geometry["stylesheets"]), geometry
    assert not any("/bootstrap.min." in href for href in geometry["stylesheets"]), geometry
    assert geometry["brand"]["left"] > geometry["viewport"] / 2, "the brand is not on the right"
    if geometry["label"] and geometry["field"]:
        # A label starts where its field starts: at the right edge.
        assert abs(geometry["label"]["right"] - geometry["field"]["right"]) < 2, geometry
        assert geometry["label"]["left"] > geometry["field"]["left"] + 2, geometry
