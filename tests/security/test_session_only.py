"""Pages are authenticated by the session cookie alone (portal.core.auth.signed_in): a
Flask-Security authentication token, in a header or in the query, signs nobody in."""

from __future__ import annotations

from typing import Any

import pytest

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import login

PAGES = ["/orders", "/feedback", "/notifications", "/account", "/feedback/new"]


@pytest.fixture
def token_of(app: Any, make_user: Any) -> Any:
    def _token(email: str) -> str:
        user_id = make_user(email)
        with app.test_request_context("/"):
            return str(db.session.get(User, user_id).get_auth_token())

    return _token


@pytest.mark.parametrize("path", PAGES)
def test_a_token_signs_nobody_in(client: Any, token_of: Any, app: Any, path: str):
    token = token_of("tokenholder@example.com")
    header = app.config["SECURITY_TOKEN_AUTHENTICATION_HEADER"]
    key = app.config["SECURITY_TOKEN_AUTHENTICATION_KEY"]
    by_header = client.get(path, headers={header: token})
    by_query = client.get(path, query_string={key: token})
    for response in (by_header, by_query):
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    home = client.get("/", headers={header: token}).get_data(as_text=True)
    assert "Sign out" not in home and "Sign in" in home


@pytest.mark.parametrize("path", PAGES)
def test_the_session_signs_in(client: Any, make_user: Any, path: str):
    make_user("sessionholder@example.com")
    assert login(client, "sessionholder@example.com").status_code == 302
    assert client.get(path).status_code == 200
    client.post("/logout", data={})  # without its CSRF token: refused, still signed in
    assert client.get(path).status_code == 200
