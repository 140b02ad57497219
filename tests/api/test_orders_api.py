"""The shop API: upserts, events, customers, keys and scopes, problems, the OpenAPI document."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from portal.accounts.models import User
from portal.extensions import db
from portal.orders.models import Order, OrderEvent
from tests.conftest import csrf_from, login

BODY = {
    "customer": {"email": "Shopper@Example.com", "name": "Sam Shopper"},
    "status": "paid",
    "currency": "EUR",
    "placed_at": "2026-11-20T10:00:00Z",
    "status_at": "2026-11-20T10:05:00Z",
    "shipping_minor": 490,
    "items": [
        {"sku": "MUG-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1450},
        {"sku": "TEA-1", "name": "Tea", "quantity": 1, "unit_price_minor": 990},
    ],
}


def counts(app, number):
    with app.app_context():
        orders = db.session.scalar(select(func.count()).where(Order.number == number))
        events = db.session.scalar(
            select(func.count(OrderEvent.id)).join(Order).where(Order.number == number)
        )
        return orders, events


def test_put_is_idempotent(app, client, api_key, make_user):
    make_user("shopper@example.com")
    headers = api_key("orders:write", "orders:read")
    first = client.put("/api/v1/orders/WEB-1", json=BODY, headers=headers)
    assert first.status_code == 201, first.json
    assert first.json["status"] == "paid"
    assert first.json["subtotal_minor"] == 3890 and first.json["total_minor"] == 4380
    assert first.json["customer"]["email"] == "shopper@example.com"
    second = client.put("/api/v1/orders/WEB-1", json=BODY, headers=headers)
    assert second.status_code == 200
    assert counts(app, "WEB-1") == (1, 1)
    assert second.json["events"] == first.json["events"]

    # A changed body updates the order; a new status is one more event.
    changed = {**BODY, "status": "shipped", "carrier": "DPD", "tracking_number": "T1"}
    third = client.put("/api/v1/orders/WEB-1", json=changed, headers=headers)
    assert third.status_code == 200 and third.json["carrier"] == "DPD"
    assert client.put("/api/v1/orders/WEB-1", json=changed, headers=headers).status_code == 200
    assert counts(app, "WEB-1") == (1, 2)


def test_new_order_appears_for_its_customer(app, client, api_key, make_user):
    make_user("shopper@example.com")
    client.put("/api/v1/orders/WEB-2", json=BODY, headers=api_key("orders:write"))
    login(client, "shopper@example.com")
    assert "WEB-2" in client.get("/orders").get_data(as_text=True)
    assert client.get("/orders/WEB-2").status_code == 200


def test_unknown_customer_is_invited_to_claim_the_account(app, client, api_key, mailbox):
    body = {**BODY, "customer": {"email": "new.buyer@example.com", "name": "New Buyer"}}
    response = client.put("/api/v1/orders/WEB-3", json=body, headers=api_key("orders:write"))
    assert response.status_code == 201
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.buyer@example.com"))
        assert user is not None and user.confirmed_at is None and user.name == "New Buyer"
        assert "customer" in user.role_names
    message = mailbox.last_to("new.buyer@example.com")
    link = mailbox.link_in(message)
    assert "/reset/" in link
    # The same order again invites nobody twice.
    client.put("/api/v1/orders/WEB-3", json=body, headers=api_key("orders:write"))
    assert len(mailbox.to("new.buyer@example.com")) == 1
    # Claiming the account: choose a password, then sign in and see the order.
    path = urlsplit(link).path
    form = client.get(path)
    assert form.status_code == 200
    password = "claimed-account-secret-81"
    done = client.post(
        path,
        data={
            "password": password,
            "password_confirm": password,
            "csrf_token": csrf_from(form.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert login(client, "new.buyer@example.com", password).status_code == 302
    assert "WEB-3" in client.get("/orders").get_data(as_text=True)


def test_events_forward_only_and_idempotent(app, client, api_key, make_user):
    make_user("shopper@example.com")
    headers = api_key("orders:write")
    client.put("/api/v1/orders/WEB-4", json=BODY, headers=headers)
    event = {"status": "shipped", "occurred_at": "2026-11-21T08:00:00Z", "note": "On its way"}
    first = client.post("/api/v1/orders/WEB-4/events", json=event, headers=headers)
    assert first.status_code == 200 and first.json["status"] == "shipped"
    assert first.json["shipped_at"].startswith("2026-11-21T08:00:00")
    again = client.post("/api/v1/orders/WEB-4/events", json=event, headers=headers)
    assert again.status_code == 200
    assert counts(app, "WEB-4") == (1, 2)

    back = client.post("/api/v1/orders/WEB-4/events", json={"status": "paid"}, headers=headers)
    assert back.status_code == 409
    assert back.mimetype == "application/problem+json"
    assert back.json["errors"] == {"status": ["An order cannot go back from “Shipped” to “Paid”."]}
    assert counts(app, "WEB-4") == (1, 2)
    missing = client.post("/api/v1/orders/NOPE/events", json=event, headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_invalid_body_is_a_problem_naming_the_fields(client, api_key):
    bad = {
        "customer": {"email": "not-an-address"},
        "status": "lost",
        "currency": "euro",
        "items": [{"sku": "A", "name": "B", "quantity": 0, "unit_price_minor": -1}],
    }
    response = client.put("/api/v1/orders/WEB-5", json=bad, headers=api_key("orders:write"))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 422 and problem["title"] == "Unprocessable Entity"
    assert set(problem["errors"]) == {
        "customer.email",
        "status",
        "currency",
        "items.0.quantity",
        "items.0.unit_price_minor",
    }
    assert "customer.email" in problem["detail"]


def test_keys_and_scopes(app, client, api_key, make_user):
    make_user("shopper@example.com")
    path = "/api/v1/orders/WEB-6"
    none = client.put(path, json=BODY)
    assert none.status_code == 401 and none.mimetype == "application/problem+json"
    assert none.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.put(path, json=BODY, headers={"Authorization": "Bearer pk_not-a-real-key"})
    assert wrong.status_code == 401
    reader = api_key("orders:read")
    refused = client.put(path, json=BODY, headers=reader)
    assert refused.status_code == 403 and "orders:write" in refused.json["detail"]
    assert counts(app, "WEB-6") == (0, 0)
    writer = api_key("orders:write")
    assert client.put(path, json=BODY, headers=writer).status_code == 201
    assert client.get(path, headers=writer).status_code == 403
    assert client.get(path, headers=reader).json["number"] == "WEB-6"
    assert (
        client.get("/api/v1/customers?email=shopper@example.com", headers=reader).status_code == 403
    )

    from portal.api.keys import hash_key, revoke_key
    from portal.api.models import ApiKey

    secret = writer["Authorization"].split()[1]
    with app.app_context():
        key = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(secret)))
        assert key.last_used_at is not None  # the use was recorded
        assert secret not in (key.key_hash, key.prefix) and secret.startswith(key.prefix)
        revoke_key(key)
        db.session.commit()
    assert client.put(path, json=BODY, headers=writer).status_code == 401


def test_find_customer(app, client, api_key, make_user):
    make_user("found@example.com", name="Found Person")
    headers = api_key("customers:read")
    response = client.get("/api/v1/customers?email=FOUND@example.com", headers=headers)
    assert response.status_code == 200
    assert response.json["name"] == "Found Person" and response.json["confirmed"] is True
    assert "new" in response.json["segments"]
    missing = client.get("/api/v1/customers?email=ghost@example.com", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    bad = client.get("/api/v1/customers", headers=headers)
    assert bad.status_code == 422 and "email" in bad.json["errors"]


def test_api_needs_no_csrf_token_and_sets_no_session(app, client, api_key, make_user):
    make_user("shopper@example.com")
    response = client.put("/api/v1/orders/WEB-7", json=BODY, headers=api_key("orders:write"))
    assert response.status_code == 201
    assert "portal_session" not in response.headers.get("Set-Cookie", "")


def test_openapi_document_validates(client):
    from openapi_spec_validator import validate

    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    validate(document)
    assert {
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/events",
        "/api/v1/customers",
    } <= set(document["paths"])
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_docs_page_uses_local_assets(client):
    response = client.get("/api/v1/docs")
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    bundle = re.search(r"/static/vendor/swagger-ui/swagger-ui-bundle\.[0-9a-f]{12}\.js", body)
    assert bundle
    assert "<script>" not in body and "style=" not in body and "https://" not in body
    asset = client.get(bundle.group(0))
    assert asset.status_code == 200
    asset.close()


def test_unknown_api_path_is_a_problem(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_customer_is_notified_when_the_order_ships(app, client, api_key, make_user):
    make_user("shopper@example.com")
    headers = api_key("orders:write")
    client.put("/api/v1/orders/WEB-8", json=BODY, headers=headers)
    event = {"status": "shipped", "occurred_at": "2026-11-21T08:00:00Z"}
    client.post("/api/v1/orders/WEB-8/events", json=event, headers=headers)
    client.post("/api/v1/orders/WEB-8/events", json=event, headers=headers)
    login(client, "shopper@example.com")
    body = client.get("/notifications").get_data(as_text=True)
    assert body.count("Your order WEB-8 is on its way.") == 1
    assert 'href="/orders/WEB-8"' in body


def test_a_bug_is_a_problem_document_too(app, client, api_key, monkeypatch):
    from portal.orders import services

    def broken(_data):
        raise RuntimeError("bug")

    monkeypatch.setattr(services, "upsert_order", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    response = client.put("/api/v1/orders/BUG-1", json=BODY, headers=api_key("orders:write"))
    assert response.status_code == 500
    assert response.mimetype == "application/problem+json"
    assert "bug" not in response.get_data(as_text=True)
