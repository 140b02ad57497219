"""Sign-in: generic errors, rate limits, two-factor for admins, password reset."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from freezegun import freeze_time

from tests.conftest import DEFAULT_PASSWORD, csrf_from, login


def test_wrong_password_and_unknown_account_look_the_same(client, make_user):
    make_user("known@example.com")
    wrong = login(client, "known@example.com", "not-the-password-1")
    unknown = login(client, "nobody@example.com", "not-the-password-1")
    assert wrong.status_code == unknown.status_code == 200
    assert "Invalid e-mail address or password." in wrong.get_data(as_text=True)
    assert "Invalid e-mail address or password." in unknown.get_data(as_text=True)


def test_login_is_rate_limited_per_account(client, make_user):
    make_user("target@example.com")
    statuses = [
        login(client, "target@example.com", f"guess-{i}-abcdef").status_code for i in range(7)
    ]
    assert statuses[:6] == [200] * 6
    assert statuses[6] == 429
    body = client.get("/login")
    assert body.status_code == 200  # reading the page is not limited


def test_login_rate_limit_message_reveals_nothing(client):
    for i in range(6):
        login(client, "ghost@example.com", f"guess-{i}-abcdef")
    response = login(client, "ghost@example.com", "guess-x-abcdef")
    assert response.status_code == 429
    text = response.get_data(as_text=True)
    assert "Too many attempts" in text
    assert "ghost@example.com" not in text


def test_session_is_renewed_on_login(client, make_user):
    make_user("fix@example.com")
    client.get("/login")
    before = client.get_cookie("portal_session")
    login(client, "fix@example.com")
    after = client.get_cookie("portal_session")
    assert before is None or before.value != after.value


def test_admin_must_set_up_two_factor(client, make_user):
    make_user("boss@example.com", roles=("admin",))
    response = login(client, "boss@example.com")
    assert response.status_code == 302
    # Until two-factor is set up, the admin cannot use the portal.
    home = client.get("/")
    assert home.status_code == 302 and "/tf-setup" in home.headers["Location"]
    page = client.get("/account")
    assert page.status_code == 302
    assert "/tf-setup" in page.headers["Location"]


def test_forgotten_password_reset_and_expiry(app, client, make_user, mailbox):
    make_user("forgetful@example.com")
    page = client.get("/reset")
    client.post(
        "/reset",
        data={
            "email": "forgetful@example.com",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    link = mailbox.link_in(mailbox.last_to("forgetful@example.com"))
    path = urlsplit(link).path
    form = client.get(path)
    assert form.status_code == 200
    new_password = "a-brand-new-secret-42"
    done = client.post(
        path,
        data={
            "password": new_password,
            "password_confirm": new_password,
            "csrf_token": csrf_from(form.get_data(as_text=True)),
        },
    )
    assert done.status_code == 302
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    assert login(client, "forgetful@example.com", new_password).status_code == 302

    # A link used after it expired is refused with a message.
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").get_data(as_text=True))})
    mailbox.clear()
    page = client.get("/reset")
    client.post(
        "/reset",
        data={
            "email": "forgetful@example.com",
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    path = urlsplit(mailbox.link_in(mailbox.last_to("forgetful@example.com"))).path
    with freeze_time(timedelta(days=2)):
        expired = client.get(path, follow_redirects=True)
    assert "did not reset your password within" in expired.get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_next_redirects_stay_on_site(client, make_user, target):
    make_user("nexter@example.com")
    page = client.get(f"/login?next={target}")
    response = client.post(
        f"/login?next={target}",
        data={
            "email": "nexter@example.com",
            "password": DEFAULT_PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    # Either the sign-in refuses the target or it lands on this site.
    if response.status_code == 302:
        location = urlsplit(response.headers["Location"])
        assert location.netloc in ("", "localhost")
        assert not response.headers["Location"].startswith("//")
