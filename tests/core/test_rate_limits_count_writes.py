"""Requests that cannot write skip the rate limiter (portal.core.setup._only_reads), which is
only right while every limit of the portal counts writes: these tests hold that rule."""

from __future__ import annotations

from typing import Any

from flask_limiter.util import get_qualified_name

from portal.extensions import limiter
from tests.conftest import login

READING = {"GET", "HEAD", "OPTIONS"}


def test_no_limit_counts_reading_requests(app: Any):
    manager = limiter.limit_manager
    checked = 0
    with app.test_request_context("/"):
        for endpoint, view in app.view_functions.items():
            for limit in manager.decorated_limits(get_qualified_name(view)):
                checked += 1
                methods = {method.upper() for method in limit.methods or ()}
                routes = {
                    method
                    for rule in app.url_map.iter_rules(endpoint)
                    for method in rule.methods or ()
                }
                # A limit without methods counts every method its route answers.
                assert not (methods or routes) & READING, (endpoint, limit.limit)
        assert not manager.default_limits and not manager.application_limits
    assert checked >= 4  # sign-in (two scopes), the account forms, posting, feedback


def test_reading_pages_skip_the_limiter_and_writing_is_counted(
    app: Any, client: Any, make_user: Any, monkeypatch: Any
):
    make_user("reader@example.com")
    manager = limiter.limit_manager
    resolved: list[str] = []
    resolve = manager.resolve_limits

    def spy(flask_app: Any, endpoint: str, *args: Any) -> Any:
        resolved.append(endpoint)
        return resolve(flask_app, endpoint, *args)

    monkeypatch.setattr(manager, "resolve_limits", spy)
    for _ in range(20):
        assert client.get("/login").status_code == 200
        assert client.head("/login").status_code == 200
    assert resolved == []
    statuses = [
        login(client, "reader@example.com", f"guess-{i}-abcdef").status_code for i in range(7)
    ]
    assert statuses == [200] * 6 + [429]
    assert "security.login" in resolved
    assert client.get("/login").status_code == 200
