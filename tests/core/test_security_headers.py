"""Security headers kept per view (portal.core.headers): each response carries what
Flask-Talisman itself would set for it."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Flask
from flask_talisman import Talisman
from werkzeug.datastructures import Headers

from portal.core.headers import KeptHeadersTalisman
from portal.extensions import talisman


def _talismans_own(app: Flask, path: str, **environ: Any) -> dict[str, str]:
    with app.test_request_context(path, **environ):
        scratch = SimpleNamespace(headers=Headers())
        Talisman._set_response_headers(talisman, scratch)
        return dict(scratch.headers.items())


def test_the_portals_pages_carry_talismans_headers(app: Flask, client: Any):
    for path in ("/", "/login", "/community", "/", "/login"):
        response = client.get(path)
        expected = _talismans_own(app, path)
        assert "Content-Security-Policy" in expected
        assert {name: response.headers.get(name) for name in expected} == expected


def _small_app(**options: Any) -> tuple[Flask, KeptHeadersTalisman]:
    app = Flask(__name__)
    guard = KeptHeadersTalisman()
    guard.init_app(app, force_https=False, **options)

    @app.route("/plain")
    def plain() -> str:
        return "plain"

    @app.route("/framed")
    @guard(frame_options="DENY")
    def framed() -> str:
        return "framed"

    return app, guard


def test_strict_transport_security_only_over_https():
    app, _guard = _small_app(strict_transport_security=True)
    client = app.test_client()
    for _ in range(2):
        assert "Strict-Transport-Security" not in client.get("/plain").headers
        secure = client.get("/plain", headers={"X-Forwarded-Proto": "https"})
        assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
        assert (
            "Strict-Transport-Security"
            in client.get("/plain", base_url="https://localhost").headers
        )


def test_each_view_keeps_its_own_options():
    app, _guard = _small_app()
    client = app.test_client()
    for _ in range(3):
        assert client.get("/framed").headers["X-Frame-Options"] == "DENY"
        assert client.get("/plain").headers["X-Frame-Options"] == "SAMEORIGIN"  # the default


def test_a_nonce_is_new_on_every_response():
    app, _guard = _small_app(
        content_security_policy={"script-src": "'self'"},
        content_security_policy_nonce_in=["script-src"],
    )
    client = app.test_client()
    policies = {client.get("/plain").headers["Content-Security-Policy"] for _ in range(3)}
    assert len(policies) == 3
    assert all("'nonce-" in policy for policy in policies)
