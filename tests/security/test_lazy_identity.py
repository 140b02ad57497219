"""Flask-Principal's identity is worked out when first read (portal.core.web.RequestGlobals):
pages that never check a permission do not load it, and a check still sees the user's roles."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import g
from flask_principal import Permission, RoleNeed, identity_loaded

from tests.conftest import login


@pytest.fixture
def loaded(app: Any) -> Iterator[list[Any]]:
    """The identities Flask-Principal works out (``identity_loaded``) during the test."""
    received: list[Any] = []

    def receiver(_sender: Any, identity: Any) -> None:
        received.append(identity)

    identity_loaded.connect(receiver, app)
    yield received
    identity_loaded.disconnect(receiver, app)


def test_pages_do_not_work_the_identity_out(client: Any, make_user: Any, loaded: list[Any]):
    make_user("plain@example.com")
    assert login(client, "plain@example.com").status_code == 302
    assert len(loaded) == 1  # signing in sets it
    loaded.clear()
    for path in ("/orders", "/feedback", "/", "/account"):
        assert client.get(path).status_code == 200
    assert loaded == []


def test_a_permission_check_sees_the_users_roles(
    app: Any, client: Any, make_user: Any, loaded: list[Any]
):
    make_user("moderator@example.com", roles=("customer", "moderator"))
    assert login(client, "moderator@example.com").status_code == 302
    loaded.clear()
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    headers = {"Cookie": f"{cookie.key}={cookie.value}"}
    with app.test_request_context("/orders", headers=headers):
        assert app.preprocess_request() is None
        assert loaded == []
        assert Permission(RoleNeed("moderator")).can()
        assert Permission(RoleNeed("customer")).can()
        assert not Permission(RoleNeed("admin")).can()
        assert g.identity.id is not None
        assert len(loaded) == 1  # worked out once


def test_a_visitor_has_the_anonymous_identity(app: Any, loaded: list[Any]):
    with app.test_request_context("/community"):
        assert app.preprocess_request() is None
        assert not Permission(RoleNeed("customer")).can()
        assert g.identity.id is None
    assert loaded == []  # nobody to load
