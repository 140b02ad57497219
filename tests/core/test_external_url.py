"""Absolute links in mail: the request's address inside a request, PUBLIC_BASE_URL outside."""

from __future__ import annotations

from portal.core.urls import external_url


def test_outside_a_request_links_are_built_on_the_public_address(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.com/help")
    with app.app_context():
        assert external_url("surveys.answer", token="abc") == (
            "https://portal.example.com/help/s/abc"
        )
        assert external_url("feedback.detail", reference="FB-2026-000001").startswith(
            "https://portal.example.com/help/feedback/"
        )


def test_inside_a_request_links_follow_the_request(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://portal.example.com")
    with app.test_request_context(base_url="http://127.0.0.1:5099"):
        assert external_url("surveys.answer", token="abc") == "http://127.0.0.1:5099/s/abc"
