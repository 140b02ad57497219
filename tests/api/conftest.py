"""Fixtures for the API: keys with chosen scopes, and a signed-in administrator."""

from __future__ import annotations

from typing import Any

import pytest

from portal.extensions import db
from tests.conftest import csrf_from, login


@pytest.fixture
def api_key(app: Any) -> Any:
    """``api_key("orders:write", ...)`` -> the Authorization header of a new key."""
    from portal.api.keys import create_key

    counter = iter(range(1, 1000))

    def _make(*scopes: str) -> dict[str, str]:
        with app.app_context():
            _key, secret = create_key(f"test key {next(counter)}", scopes, created_by_id=None)
            db.session.commit()
        return {"Authorization": f"Bearer {secret}"}

    return _make


@pytest.fixture
def admin_client(app: Any, client: Any, make_user: Any) -> Any:
    """A client signed in as an administrator, two-factor code included."""
    from portal.extensions import security

    user_id = make_user("root@example.com", roles=("admin",))
    with app.app_context():
        from portal.accounts.models import User

        user = db.session.get(User, user_id)
        user.tf_primary_method = "authenticator"
        user.tf_totp_secret = security._totp_factory.generate_totp_secret()
        secret = user.tf_totp_secret
        db.session.commit()
    response = login(client, "root@example.com")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    page = client.get(response.headers["Location"])
    with app.app_context():
        code = security._totp_factory.generate_totp_password(secret)
    done = client.post(
        response.headers["Location"],
        data={"code": code, "csrf_token": csrf_from(page.get_data(as_text=True))},
    )
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    assert client.get("/staff/api-keys").status_code == 200
    return client
