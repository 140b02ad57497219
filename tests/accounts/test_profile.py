"""Profile validation, data export and account deletion."""

from __future__ import annotations

import json

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import DEFAULT_PASSWORD, csrf_from, login


def _post_profile(client, **data):
    token = csrf_from(client.get("/account").get_data(as_text=True))
    payload = {"csrf_token": token, "name": "Some Body", "timezone": "UTC", "locale": ""}
    payload.update(data)
    return client.post("/account", data=payload)


def test_profile_requires_login(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_impossible_birthday_is_explained_and_input_kept(logged_in):
    client = logged_in("bday@example.com")
    response = _post_profile(client, birthday_day="31", birthday_month="2", phone="+371 123")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "only 29 days" in body
    assert 'aria-invalid="true"' in body
    assert 'value="+371 123"' in body


def test_half_a_birthday_is_refused(logged_in):
    client = logged_in("half@example.com")
    response = _post_profile(client, birthday_day="5")
    assert response.status_code == 422
    assert "day and the month" in response.get_data(as_text=True)


def test_unknown_timezone_and_long_name_are_refused(app, logged_in):
    client = logged_in("tz@example.com")
    response = _post_profile(client, timezone="Mars/Olympus", name="n" * 300)
    assert response.status_code == 422
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "tz@example.com"))
        assert user.timezone == "UTC" and user.name == "Test User"


def test_profile_ignores_fields_it_does_not_offer(app, logged_in):
    client = logged_in("mass@example.com")
    _post_profile(
        client, email="hijack@example.com", active="0", referral_code="HACKED", roles="admin"
    )
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "mass@example.com"))
        assert user is not None and user.active
        assert user.referral_code != "HACKED"
        assert user.role_names == {"customer"}


def test_data_export_is_json_with_my_profile(logged_in):
    client = logged_in("export@example.com", name="Exporter", city="Riga")
    token = csrf_from(client.get("/account/data").get_data(as_text=True))
    response = client.post("/account/data/export", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "export@example.com"
    assert data["profile"]["city"] == "Riga"


def test_delete_account_needs_the_password_then_erases(app, client, logged_in):
    logged_in("leaving@example.com", name="Leaving Person", phone="+1 555")
    token = csrf_from(client.get("/account/data").get_data(as_text=True))
    wrong = client.post(
        "/account/data/delete",
        data={"csrf_token": token, "password": "nope-nope-1", "confirm": "y"},
    )
    assert wrong.status_code == 422
    assert "not correct" in wrong.get_data(as_text=True)

    token = csrf_from(client.get("/account/data").get_data(as_text=True))
    done = client.post(
        "/account/data/delete",
        data={"csrf_token": token, "password": DEFAULT_PASSWORD, "confirm": "y"},
    )
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User).where(User.email == "leaving@example.com")) is None
        tombstone = db.session.scalar(select(User).where(User.deleted_at.is_not(None)))
        assert tombstone is not None
        assert tombstone.name == "" and tombstone.phone is None and not tombstone.active
    assert login(client, "leaving@example.com").status_code == 200


def test_sign_out_everywhere_invalidates_other_sessions(app, make_user):
    make_user("multi@example.com")
    first, second = app.test_client(), app.test_client()
    login(first, "multi@example.com")
    login(second, "multi@example.com")
    token = csrf_from(first.get("/account/security").get_data(as_text=True))
    first.post("/account/security", data={"csrf_token": token})
    assert second.get("/account").status_code == 302


def test_the_empty_birthday_choice_means_no_birthday(logged_in):
    """A browser posts the value of the "—" option; it must mean "no birthday", not an error."""
    client = logged_in("nobday@example.com")
    page = client.get("/account").get_data(as_text=True)
    assert '<option selected value="">—</option>' in page
    response = _post_profile(client, birthday_day="", birthday_month="")
    assert response.status_code == 302
