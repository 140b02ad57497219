"""Register, confirm from the mail, sign in, edit the profile, sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import DEFAULT_PASSWORD, csrf_from, login


def register(client, email="new@example.com", password=DEFAULT_PASSWORD, **extra):
    page = client.get("/register" + extra.pop("query", ""))
    data = {
        "email": email,
        "password": password,
        "password_confirm": extra.pop("password_confirm", password),
        "name": "New Person",
        "acquisition_source": "search",
        "csrf_token": csrf_from(page.get_data(as_text=True)),
    }
    data.update(extra)
    return client.post("/register", data=data)


def test_register_confirm_login_edit_logout(app, client, mailbox):
    response = register(client, "Newcomer@Example.com", newsletter_consent="y")
    assert response.status_code == 302

    message = mailbox.last_to("newcomer@example.com")
    link = mailbox.link_in(message)
    assert "/confirm/" in link

    # Not confirmed yet: sign-in is refused.
    refused = login(client, "newcomer@example.com")
    assert refused.status_code == 200
    assert "confirm" in refused.get_data(as_text=True).lower()

    confirmed = client.get(urlsplit(link).path)
    assert confirmed.status_code == 302

    signed_in = login(client, "newcomer@example.com")
    assert signed_in.status_code == 302
    home = client.get("/")
    assert "Welcome back" in home.get_data(as_text=True)

    page = client.get("/account")
    token = csrf_from(page.get_data(as_text=True))
    saved = client.post(
        "/account",
        data={
            "csrf_token": token,
            "name": "Newcomer Person",
            "preferred_name": "Nico",
            "phone": "+371 2000 0000",
            "timezone": "Europe/Riga",
            "locale": "",
            "birthday_day": "14",
            "birthday_month": "3",
            "why_chose_us": "Good prices",
            "newsletter_consent": "y",
        },
    )
    assert saved.status_code == 302, saved.get_data(as_text=True)[-3000:]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "newcomer@example.com"))
        assert user.preferred_name == "Nico"
        assert (user.birthday_day, user.birthday_month) == (14, 3)
        assert user.acquisition_source == "search"
        assert user.newsletter_consent and user.newsletter_consent_at is not None
        assert user.referral_code and "customer" in user.role_names

    page = client.get("/account")
    assert "Nico" in page.get_data(as_text=True)
    logout = client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})
    assert logout.status_code == 302
    assert client.get("/account").status_code in (302, 401)


def test_registration_mail_arrives_only_after_commit(app, client, mailbox):
    response = register(client, "a@example.com", password="short")
    assert response.status_code != 302
    assert mailbox.to("a@example.com") == []


def test_weak_and_common_passwords_are_refused_and_input_kept(client, mailbox):
    for password, message in (
        ("short1", "at least"),
        ("password123", "too common"),
        ("qwertyuiop", "too common"),
    ):
        response = register(client, "weak@example.com", password=password)
        body = response.get_data(as_text=True)
        assert response.status_code in (200, 400, 422)
        assert message in body.lower()
        assert 'value="weak@example.com"' in body
        assert password not in body
    assert mailbox.to("weak@example.com") == []


def test_password_confirmation_must_match(client):
    response = register(client, "typo@example.com", password_confirm="another-horse-battery-8")
    assert "match" in response.get_data(as_text=True).lower()


def test_duplicate_email_reveals_nothing_and_tells_the_owner(app, client, make_user, mailbox):
    make_user("taken@example.com")
    response = register(client, "taken@example.com")
    # Same outcome as a fresh address: no account enumeration through registration.
    assert response.status_code == 302
    with app.app_context():
        count = len(db.session.scalars(select(User).where(User.email == "taken@example.com")).all())
    assert count == 1
    assert mailbox.to("taken@example.com"), "the owner of the address is told"


def test_missing_csrf_token_is_refused(client):
    response = client.post(
        "/register",
        data={
            "email": "x@example.com",
            "password": DEFAULT_PASSWORD,
            "password_confirm": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 400


def test_oversized_fields_get_a_message(client):
    response = register(client, "long@example.com", name="x" * 500)
    body = response.get_data(as_text=True)
    assert response.status_code != 302
    assert "120" in body


def test_wrong_confirmation_token(client):
    response = client.get("/confirm/not-a-real-token", follow_redirects=True)
    assert response.status_code == 200
    assert "invalid" in response.get_data(as_text=True).lower()


def test_referral_link_records_who_brought_whom(app, client, make_user, mailbox):
    anna_id = make_user("anna.ref@example.com")
    with app.app_context():
        code = db.session.get(User, anna_id).referral_code
    landing = client.get(f"/r/{code}")
    assert landing.status_code == 302
    form = client.get(landing.headers["Location"]).get_data(as_text=True)
    assert code in form
    register(client, "friend@example.com", referrer_code=code, acquisition_source="")
    with app.app_context():
        friend = db.session.scalar(select(User).where(User.email == "friend@example.com"))
        assert friend.referred_by_id == anna_id
        assert friend.acquisition_source == "friend"
    assert client.get("/r/NOSUCHCODE").status_code == 404
