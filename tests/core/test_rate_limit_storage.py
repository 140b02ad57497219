"""Rate limits when their storage (Redis) goes away: pages are served, never a 500 (found by
bench/faults.py: a request in flight when Redis stopped failed while another thread was
switching the process to the in-memory fallback)."""

from __future__ import annotations

from typing import Any

from portal.extensions import limiter
from tests.conftest import csrf_from


def test_a_request_in_flight_when_the_storage_dies_is_served(app: Any, client: Any, monkeypatch):
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    storage: Any = limiter._storage

    def storage_dies(*_args: Any, **_kwargs: Any) -> int:
        # Another thread has just noticed and switched the process to the fallback.
        limiter._storage_dead = True
        raise ConnectionError("Error while reading from 127.0.0.1:6379: connection reset")

    monkeypatch.setattr(storage, "incr", storage_dies)
    try:
        response = client.post(
            "/login",
            data={"email": "nobody@example.com", "password": "wrong-password", "csrf_token": token},
        )
    finally:
        limiter._storage_dead = False
    assert response.status_code < 500
