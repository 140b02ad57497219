"""Regression tests for the weaknesses the attack suite found."""

from __future__ import annotations

from typing import Any

from tests.security.conftest import World, token_in


def test_a_second_app_does_not_halve_the_login_limit(world: World) -> None:
    """Each app used to wrap the sign-in view again; the limiter keeps limits by view name for
    the process, so every attempt counted once per app built and the limit shrank."""
    from portal import create_app

    create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = world.app.test_client()
    token = token_in(client.get("/login").get_data(as_text=True))
    data: dict[str, Any] = {"email": UNKNOWN, "password": "wrong-password-1", "csrf_token": token}
    codes = [client.post("/login", data=data).status_code for _ in range(7)]
    assert codes[:6] == [200] * 6 and codes[6] == 429, codes


UNKNOWN = "nobody-at-all@example.com"


def test_attachments_served_with_the_sandbox_policy(world: World) -> None:
    """The site-wide policy used to replace the attachment's own one, so a file opened in the
    browser ran with the site's rights instead of in a sandbox."""
    for role, prefix in (("owner", "/feedback"), ("agent_delivery", "/staff/feedback")):
        url = f"{prefix}/{world.feedback_ref}/attachments/{world.attachment_id}"
        response = world.client(role).get(url)
        assert response.status_code == 200
        assert response.headers["Content-Security-Policy"].strip() == "default-src 'none'; sandbox"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
