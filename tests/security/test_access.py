"""Access: every route that names an object, requested by each role; staff and admin areas.

The routes come from the route map, so a new route is covered as soon as it exists: a GET
route with arguments must be listed in OBJECT_ACCESS (who may open it) or in CAPABILITY
(the reference itself is the proof: signed tokens, public pages), else a test fails.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.security.conftest import ROLES, World, collected_rules
from tests.security.test_inputs import assert_security_headers

STAFF = {"agent_delivery", "agent_billing", "moderator", "manager", "admin"}
INSIGHT = {"agent_delivery", "agent_billing", "manager", "admin"}
MODERATORS = {"moderator", "manager", "admin"}

#: endpoint -> the roles that may open it for the world's objects (all others are refused).
OBJECT_ACCESS: dict[str, set[str]] = {
    "orders.order_detail": {"owner"},
    "feedback.detail": {"owner"},
    "feedback.attachment": {"owner"},
    "feedback_staff.item": {"agent_delivery", "manager", "admin"},
    "feedback_staff.attachment": {"agent_delivery", "manager", "admin"},
    "surveys.answer_own": {"owner"},
    "surveys.thanks_own": set(),  # not answered yet: a 404 even for its owner
    "community.category": STAFF,
    "community.topic": STAFF,
    "community.reply": STAFF,
    "community.flag": STAFF - {"moderator"},
    "community.edit": MODERATORS,  # the author (the moderator) or any moderator
    "community.revisions": STAFF,
    "staff.customer_detail": INSIGHT,
    "staff.export": INSIGHT,
    "surveys_staff.edit": {"manager", "admin"},
    "surveys_staff.preview": {"manager", "admin"},
    "surveys_staff.results_page": {"manager", "admin"},
    "surveys_staff.results_csv": {"manager", "admin"},
    "surveys_staff.send": {"manager", "admin"},
    "surveys_staff.new_question": {"manager", "admin"},
    "surveys_staff.edit_question": {"manager", "admin"},
    "surveys_staff.translate": {"manager", "admin"},
    "feedback_admin.rule_edit": {"manager", "admin"},
    "jobs_outbox.message_detail": {"admin"},
    "staff.mail_template_edit": {"manager", "admin"},
}

#: GET routes with arguments where the argument is itself the credential or the page is public.
CAPABILITY = {
    "surveys.answer",  # /s/<token>: the token in the mail (tested in test_tokens)
    "surveys.thanks",
    "surveys.unsubscribe",
    "jobs.unsubscribe",
    "security.confirm_email",
    "security.reset_password",
    "security.change_email_confirm",
    "accounts.referral",  # /r/<code>: a public invitation link
    "community.profile",  # public member profiles
    # /community/<address>/: a redirect by the address's form alone, to the page that checks
    # who may read it (tested in tests/community/test_shown_elsewhere.py)
    "community.trailing_slash",
    "api_v1.get_order",  # API keys, not sessions (tested in test_api_access)
}

OBJECT_RULES = [rule for rule in collected_rules("GET") if rule.arguments]
STAFF_GET_RULES = [rule for rule in collected_rules("GET") if rule.rule.startswith("/staff")]
ADMIN_ONLY_PREFIXES = ("/staff/outbox", "/staff/api-keys", "/staff/audit")
ADMIN_RULES = [rule for rule in STAFF_GET_RULES if rule.rule.startswith(ADMIN_ONLY_PREFIXES)]


def test_every_object_route_is_classified() -> None:
    unknown = {
        rule.endpoint
        for rule in OBJECT_RULES
        if rule.endpoint not in OBJECT_ACCESS and rule.endpoint not in CAPABILITY
    }
    assert not unknown, f"routes with object ids and no access rule in the suite: {unknown}"


def _refused(response: Any, role: str) -> bool:
    if role == "visitor" and response.status_code == 302:
        return "/login" in response.headers["Location"]
    return response.status_code in (403, 404)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "rule",
    [rule for rule in OBJECT_RULES if rule.endpoint in OBJECT_ACCESS],
    ids=lambda rule: rule.rule,
)
def test_object_routes_by_role(world: World, rule: Any, role: str) -> None:
    response = world.client(role).get(world.url(rule))
    assert_security_headers(response)
    if role in OBJECT_ACCESS[rule.endpoint]:
        # Allowed: the page, or a redirect to its canonical address (never to sign in).
        assert response.status_code in (200, 301, 302, 308), (role, response.status_code)
        assert "/login" not in response.headers.get("Location", "")
    else:
        assert _refused(response, role), (role, response.status_code, response.headers)
        body = response.get_data(as_text=True)
        assert "Internal note body" not in body and "It never came." not in body


@pytest.mark.parametrize("role", ["visitor", "owner"])
@pytest.mark.parametrize("rule", STAFF_GET_RULES, ids=lambda rule: rule.rule)
def test_staff_pages_refuse_visitors_and_customers(world: World, rule: Any, role: str) -> None:
    response = world.client(role).get(world.url(rule))
    if role == "visitor":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("rule", ADMIN_RULES, ids=lambda rule: rule.rule)
def test_admin_pages_refuse_managers(world: World, rule: Any) -> None:
    assert world.client("manager").get(world.url(rule)).status_code == 403


def test_admin_pages_exist() -> None:
    assert {rule.rule for rule in ADMIN_RULES} >= {
        "/staff/outbox/",
        "/staff/api-keys",
        "/staff/audit",
    }


@pytest.mark.parametrize("role", ["visitor", "owner", "manager"])
def test_api_refuses_sessions_without_a_key(world: World, role: str) -> None:
    response = world.client(role).get(f"/api/v1/orders/{world.order_number}")
    assert response.status_code == 401


@pytest.mark.parametrize(
    "header",
    ["Bearer nope", "Bearer ", "Basic YTpi", "bearer {secret}x", "Bearer {secret}"],
)
def test_api_keys_checked(world: World, header: str) -> None:
    value = header.format(secret=world.api_secret)
    response = world.app.test_client().get(
        f"/api/v1/orders/{world.order_number}", headers={"Authorization": value}
    )
    expected = 200 if value == f"Bearer {world.api_secret}" else 401
    assert response.status_code == expected


#: POST routes with an object in the address: the roles among the intruders that may act
#: (staff may take part in a staff-only topic).
POST_ALLOWED: dict[str, set[str]] = {
    "community.reply": {"agent_billing"},
    "community.vote": {"agent_billing"},
    "community.flag": {"agent_billing"},
    "community.subscription": {"agent_billing"},
    "community.accept": {"agent_billing"},
    "community.official": {"agent_billing"},  # any staff member may mark the official answer
    "staff.log_touchpoint": {"agent_billing"},  # every agent works with every customer's 360
}
POST_CAPABILITY = {"surveys.answer", "surveys.contact", "jobs.unsubscribe", "surveys.unsubscribe"}
POST_CAPABILITY |= {"security.confirm_email", "security.reset_password"}
POST_CAPABILITY |= {"security.two_factor_setup_validate"}
POST_OBJECT_RULES = [
    rule
    for rule in collected_rules("POST")
    if rule.arguments and not rule.rule.startswith("/api/") and rule.endpoint not in POST_CAPABILITY
]


@pytest.mark.parametrize("role", ["visitor", "customer_b", "agent_billing"])
@pytest.mark.parametrize("rule", POST_OBJECT_RULES, ids=lambda rule: rule.rule)
def test_object_actions_by_intruders(world: World, rule: Any, role: str) -> None:
    """With a valid CSRF token, an intruder's action on another's object is refused."""
    from tests.security.conftest import row_count, token_in

    client = world.client(role)
    page = client.get("/account" if role != "visitor" else "/login")
    token = token_in(page.get_data(as_text=True))
    before = row_count(world.app)
    data = {"csrf_token": token, "body": "Intruder text", "reason": "x", "status": "resolved"}
    response = client.post(world.url(rule), data=data)
    if role in POST_ALLOWED.get(rule.endpoint, set()):
        assert response.status_code < 500
        return
    assert _refused(response, role), (role, response.status_code, response.headers)
    assert row_count(world.app) == before


@pytest.mark.parametrize(
    ("scope", "path", "allowed"),
    [
        ("orders:read", "/api/v1/customers?email=owner@example.com", False),
        ("customers:read", "/api/v1/orders/SEC-00001", False),
        ("customers:read", "/api/v1/customers?email=owner@example.com", True),
    ],
)
def test_api_scopes_enforced(world: World, scope: str, path: str, allowed: bool) -> None:
    from portal.api.keys import create_key
    from portal.extensions import db

    with world.app.app_context():
        _key, secret = create_key(f"scoped {scope}", [scope], created_by_id=None)
        db.session.commit()
    response = world.app.test_client().get(path, headers={"Authorization": f"Bearer {secret}"})
    assert (response.status_code == 200) if allowed else (response.status_code == 403)


def test_revoked_api_key_refused(world: World) -> None:
    from tests.security.conftest import token_in

    client = world.client("admin")
    token = token_in(client.get("/staff/api-keys").get_data(as_text=True))
    revoked = client.post(f"/staff/api-keys/{world.api_key_id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302
    response = world.app.test_client().get(
        f"/api/v1/orders/{world.order_number}",
        headers={"Authorization": f"Bearer {world.api_secret}"},
    )
    assert response.status_code == 401
