"""/staff/api-keys: admins create keys (shown once, stored hashed) and revoke them."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.api.keys import hash_key
from portal.api.models import ApiKey
from portal.extensions import db
from tests.conftest import csrf_from, login


def test_create_shows_the_key_once_and_stores_its_hash(app, admin_client):
    page = admin_client.get("/staff/api-keys")
    token = csrf_from(page.get_data(as_text=True))
    created = admin_client.post(
        "/staff/api-keys",
        data={"name": "Web shop", "scopes": ["orders:write", "orders:read"], "csrf_token": token},
    )
    assert created.status_code == 201
    body = created.get_data(as_text=True)
    secret = re.search(r'id="new-api-key">([^<]+)<', body).group(1)
    assert secret.startswith("pk_") and len(secret) >= 40
    with app.app_context():
        key = db.session.scalar(select(ApiKey).where(ApiKey.name == "Web shop"))
        assert key.key_hash == hash_key(secret)
        assert key.scopes == "orders:read orders:write"
        assert key.prefix == secret[:11]
    # Never shown again.
    assert secret not in admin_client.get("/staff/api-keys").get_data(as_text=True)
    # It works on the API.
    response = admin_client.get(
        "/api/v1/orders/NONE", headers={"Authorization": f"Bearer {secret}"}
    )
    assert response.status_code == 404


def test_bad_input_keeps_what_was_typed(app, admin_client):
    token = csrf_from(admin_client.get("/staff/api-keys").get_data(as_text=True))
    response = admin_client.post("/staff/api-keys", data={"name": "Warehouse", "csrf_token": token})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "Choose at least one scope." in body and 'value="Warehouse"' in body
    with app.app_context():
        assert db.session.scalar(select(ApiKey)) is None


def test_duplicate_name_is_refused(app, admin_client):
    for expected in (201, 422):
        token = csrf_from(admin_client.get("/staff/api-keys").get_data(as_text=True))
        response = admin_client.post(
            "/staff/api-keys",
            data={"name": "Twice", "scopes": ["orders:read"], "csrf_token": token},
        )
        assert response.status_code == expected
    assert "already exists" in response.get_data(as_text=True)


def test_revoke(app, admin_client, api_key):
    headers = api_key("orders:read")
    with app.app_context():
        key_id = db.session.scalar(select(ApiKey.id))
    token = csrf_from(admin_client.get("/staff/api-keys").get_data(as_text=True))
    response = admin_client.post(f"/staff/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(ApiKey, key_id).revoked_at is not None
    assert admin_client.get("/api/v1/orders/X", headers=headers).status_code == 401
    assert "Revoked" in admin_client.get("/staff/api-keys").get_data(as_text=True)
    assert (
        admin_client.post("/staff/api-keys/9999/revoke", data={"csrf_token": token}).status_code
        == 404
    )


def test_only_admins(client, make_user):
    make_user("agent7@example.com", roles=("agent",))
    assert client.get("/staff/api-keys").status_code == 302  # sign in first
    login(client, "agent7@example.com")
    assert client.get("/staff/api-keys").status_code == 403


def test_create_api_key_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["portal", "create-api-key", "Shop", "--scope", "orders:read"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip().splitlines()[-1]
    with app.app_context():
        key = db.session.scalar(select(ApiKey).where(ApiKey.name == "Shop"))
        assert key.scopes == "orders:read" and key.key_hash == hash_key(secret)
    again = runner.invoke(args=["portal", "create-api-key", "Shop"])
    assert again.exit_code != 0 and "already exists" in again.output


def test_key_list_query_count_does_not_grow(admin_client, api_key, count_queries):
    api_key("orders:read")
    with count_queries() as few:
        assert admin_client.get("/staff/api-keys").status_code == 200
    for _ in range(6):
        api_key("orders:read", "orders:write")
    with count_queries() as many:
        assert admin_client.get("/staff/api-keys").status_code == 200
    assert len(many) == len(few)
