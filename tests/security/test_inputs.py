"""SQL injection in search, filter and sort parameters; open redirects; security headers and
cookie flags on every GET route."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.security.conftest import World, collected_rules, token_in

SQLI = [
    "' OR '1'='1",
    "1; DROP TABLE user; --",
    '" UNION SELECT password FROM user --',
    "%' AND 1=CAST((SELECT version()) AS int) --",
    "name desc, (select 1)",
    "\\x00'\\",
]
ERROR_TEXT = ("Traceback", "sqlalchemy", "OperationalError", "ProgrammingError", "syntax error")

#: (role, path, parameters) of every search, filter and sort form.
SEARCHES = [
    ("owner", "/community/search", ("q", "category", "sort", "page")),
    ("owner", "/orders", ("status", "sort", "page", "q")),
    ("owner", "/feedback", ("status", "page")),
    ("agent_delivery", "/staff/feedback", ("q", "status", "kind", "priority", "sort", "page")),
    ("agent_delivery", "/staff/customers", ("q", "segment", "sort", "page")),
    ("admin", "/staff/audit", ("q", "action", "page", "format")),
    ("manager", "/staff/", ("period", "department")),
    ("moderator", "/staff/moderation", ("state", "page")),
    ("admin", "/staff/outbox/", ("status", "q", "page")),
]


@pytest.mark.parametrize("payload", SQLI)
@pytest.mark.parametrize("search", SEARCHES, ids=lambda search: search[1])
def test_sql_injection_in_search_filter_and_sort(world: World, search: Any, payload: str) -> None:
    role, path, names = search
    client = world.client(role)
    for name in names:
        response = client.get(path, query_string={name: payload})
        assert response.status_code in (200, 400, 404), (name, response.status_code)
        body = response.get_data(as_text=True)
        assert not any(text in body for text in ERROR_TEXT), name


REDIRECTS = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "https:evil.example",
    "javascript:alert(1)",
    "/%2F%2Fevil.example",
    " //evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "https://localhost@evil.example/",
    "%2F%2Fevil.example",
]


def _offsite(location: str) -> bool:
    """Whether a browser would leave the site (it reads a backslash as a slash)."""
    target = urlsplit(location.strip().replace("\\", "/"))
    return bool(target.scheme or target.netloc) and target.netloc not in ("localhost", "")


@pytest.mark.parametrize("target", REDIRECTS)
def test_login_next_stays_on_the_site(world: World, target: str) -> None:
    client = world.app.test_client()
    page = client.get("/login", query_string={"next": target})
    response = client.post(
        "/login",
        query_string={"next": target},
        data={
            "email": world.emails["owner"],
            "password": "correct-horse-battery-7",
            "next": target,
            "csrf_token": token_in(page.get_data(as_text=True)),
        },
    )
    # Refused (the form again, or a 400) or signed in and sent to a page of the site.
    assert response.status_code in (200, 302, 400)
    assert not _offsite(response.headers.get("Location", ""))


@pytest.mark.parametrize("target", REDIRECTS)
def test_language_switch_next_stays_on_the_site(world: World, target: str) -> None:
    client = world.client("owner")
    token = token_in(client.get("/account").get_data(as_text=True))
    response = client.post(
        "/language", data={"language": "lv", "next": target, "csrf_token": token}
    )
    assert response.status_code == 302
    assert not _offsite(response.headers["Location"])


def assert_security_headers(response: Any) -> None:
    """CSP without inline scripts, no sniffing, no framing, a referrer policy, safe cookies."""
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src" in csp or "script-src" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    if "sandbox" not in csp:  # attachments: default-src 'none' and a sandbox, stricter still
        assert "object-src 'none'" in csp and "base-uri 'self'" in csp, csp
    assert "frame-ancestors 'none'" in csp or headers.get("X-Frame-Options") in ("DENY",)
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )
    for cookie in headers.getlist("Set-Cookie"):
        assert "HttpOnly" in cookie, cookie
        assert "SameSite=Lax" in cookie or "SameSite=Strict" in cookie, cookie


PLAIN_GET_RULES = [
    rule
    for rule in collected_rules("GET")
    if not rule.arguments and not rule.rule.startswith("/api/v1/openapi")
]


@pytest.mark.parametrize("role", ["visitor", "admin"])
@pytest.mark.parametrize("rule", PLAIN_GET_RULES, ids=lambda rule: rule.rule)
def test_security_headers_on_every_get_route(world: World, rule: Any, role: str) -> None:
    response = world.client(role).get(rule.rule)
    assert response.status_code < 500
    assert_security_headers(response)


def test_cookies_are_secure_outside_tests() -> None:
    from config import Config, ProductionConfig

    assert Config.SESSION_COOKIE_SECURE and ProductionConfig.SESSION_COOKIE_SECURE
    assert Config.REMEMBER_COOKIE_SECURE and Config.SESSION_COOKIE_HTTPONLY
