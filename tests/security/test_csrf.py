"""CSRF: every POST route refuses a request without a token or with another session's token.

The routes come from the route map; the API (key-authenticated, no cookies), the RFC 8058
one-click unsubscribe endpoints (the signed token is the proof) and a survey's e-mail link (the
token in its URL is the only credential, whoever is signed in: portal.surveys.views.answer) are
the documented exceptions.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import World, collected_rules, row_count, token_in

EXEMPT = {"jobs.unsubscribe", "surveys.unsubscribe", "surveys.answer"}
POST_RULES = [
    rule
    for rule in collected_rules("POST")
    if not rule.rule.startswith("/api/") and rule.endpoint not in EXEMPT
]


def test_the_exempt_routes_are_the_documented_ones(app: Any) -> None:
    from portal.extensions import csrf

    exempt = {
        view
        for view in getattr(csrf, "_exempt_views", set())
        if not view.startswith("flask_smorest")
    }
    # healthz is GET-only (a probe), so its exemption writes nothing.
    assert exempt <= {
        "portal.core.views.healthz",
        "portal.jobs.views.unsubscribe",
        "portal.surveys.views.unsubscribe",
        "portal.surveys.views.answer",
    }, exempt


@pytest.mark.parametrize("how", ["no token", "foreign token"])
@pytest.mark.parametrize("rule", POST_RULES, ids=lambda rule: rule.rule)
def test_post_without_a_valid_token_is_refused(world: World, rule: Any, how: str) -> None:
    client = world.client("admin")
    data: dict[str, str] = {"name": "x", "subject": "x", "message": "x", "body": "x"}
    if how == "foreign token":
        other = world.client("owner")
        data["csrf_token"] = token_in(other.get("/account").get_data(as_text=True))
    before = row_count(world.app)
    response = client.post(world.url(rule), data=data)
    assert response.status_code == 400, response.status_code
    assert row_count(world.app) == before


def test_a_valid_token_is_accepted(world: World) -> None:
    """The control: the same request with the session's own token goes through."""
    client = world.client("owner")
    token = token_in(client.get("/account").get_data(as_text=True))
    response = client.post("/language", data={"language": "lv", "csrf_token": token})
    assert response.status_code == 302
