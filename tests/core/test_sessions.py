"""The session cookie is read on first use: the same contents for every request that uses it,
no work (and no cookie written) for one that does not."""

from __future__ import annotations

import time

import pytest
from flask import Flask, session

from portal.core.sessions import LazyCookieSessionInterface, LazySession


def _cookie(app, data):
    with app.test_request_context():
        serializer = app.session_interface.get_signing_serializer(app)
        return serializer.dumps(data)


def _opened(app, cookie):
    name = app.config["SESSION_COOKIE_NAME"]
    context = app.test_request_context(headers={"Cookie": f"{name}={cookie}"})
    return context, app.session_interface.open_session(app, context.request)


def test_the_contents_are_read_on_first_use(app):
    cookie = _cookie(app, {"locale": "lv", "n": 1})
    for use, expected in (
        (lambda s: s["locale"], "lv"),
        (lambda s: s.get("n"), 1),
        (lambda s: "locale" in s, True),
        (lambda s: len(s), 2),
        (lambda s: sorted(s), ["locale", "n"]),
        (lambda s: dict(s), {"locale": "lv", "n": 1}),
        (lambda s: sorted(s.items()), [("locale", "lv"), ("n", 1)]),
        (lambda s: bool(s), True),
        (lambda s: s.permanent, False),
    ):
        _context, opened = _opened(app, cookie)
        assert isinstance(opened, LazySession) and not opened.read
        assert use(opened) == expected
        assert opened.read and not opened.modified


def test_changes_keep_what_the_cookie_held(app):
    _context, opened = _opened(app, _cookie(app, {"locale": "lv"}))
    opened["csrf_token"] = "x"
    assert opened.modified and dict(opened) == {"locale": "lv", "csrf_token": "x"}
    _context, opened = _opened(app, _cookie(app, {"locale": "lv", "n": 1}))
    assert opened.pop("n") == 1 and dict(opened) == {"locale": "lv"}
    _context, opened = _opened(app, _cookie(app, {"locale": "lv"}))
    opened.update(n=2)
    assert dict(opened) == {"locale": "lv", "n": 2}


def test_a_tampered_cookie_reads_as_empty(app):
    cookie = _cookie(app, {"_user_id": "1"})
    _context, opened = _opened(app, cookie[:-2] + ("AA" if cookie[-2:] != "AA" else "BB"))
    assert dict(opened) == {} and not opened.modified


def test_a_request_that_never_uses_the_session_leaves_the_cookie_alone(monkeypatch):
    tiny = Flask(__name__)
    tiny.secret_key = "test-only-secret-key-0123456789"
    tiny.testing = True  # exceptions reach the test
    tiny.session_interface = LazyCookieSessionInterface()

    @tiny.route("/write")
    def write():
        session["seen"] = True
        return "written"

    @tiny.route("/untouched")
    def untouched():
        return "plain"

    @tiny.route("/read")
    def read():
        return str(session.get("seen"))

    client = tiny.test_client()
    assert "Set-Cookie" in client.get("/write").headers

    def fail(_self):
        raise AssertionError("the session was read")

    monkeypatch.setattr(LazySession, "_load", fail)
    response = client.get("/untouched")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.vary
    with pytest.raises(AssertionError, match="the session was read"):
        client.get("/read")
    monkeypatch.undo()
    read_back = client.get("/read")
    assert read_back.get_data(as_text=True) == "True" and "Cookie" in read_back.vary


def _read_with(app, interface, cookie):
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(headers={"Cookie": f"{name}={cookie}"}) as context:
        return dict(interface.open_session(app, context.request))


def test_a_cookie_verified_lately_is_not_verified_again(app, monkeypatch):
    interface = LazyCookieSessionInterface()
    cookie = _cookie(app, {"_user_id": "u1", "csrf_token": "t", "_fresh": True})
    verified = []
    original = LazyCookieSessionInterface.get_signing_serializer

    def counting(self, application):
        verified.append(1)
        return original(self, application)

    monkeypatch.setattr(LazyCookieSessionInterface, "get_signing_serializer", counting)
    first = _read_with(app, interface, cookie)
    second = _read_with(app, interface, cookie)
    assert first == second == {"_user_id": "u1", "csrf_token": "t", "_fresh": True}
    assert len(verified) == 1
    # Each request has its own copy: a change in one is not seen by the next.
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(headers={"Cookie": f"{name}={cookie}"}) as context:
        opened = interface.open_session(app, context.request)
        opened["_user_id"] = "someone else"
    assert _read_with(app, interface, cookie)["_user_id"] == "u1"


def test_a_kept_cookie_expires_when_its_signature_would(app, monkeypatch):
    interface = LazyCookieSessionInterface()
    cookie = _cookie(app, {"_user_id": "u1"})
    assert _read_with(app, interface, cookie) == {"_user_id": "u1"}
    lifetime = app.permanent_session_lifetime.total_seconds()
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + lifetime + 5)
    assert _read_with(app, interface, cookie) == {}


def test_a_changed_or_forged_cookie_is_verified_on_its_own(app):
    interface = LazyCookieSessionInterface()
    cookie = _cookie(app, {"_user_id": "u1"})
    assert _read_with(app, interface, cookie) == {"_user_id": "u1"}
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert _read_with(app, interface, forged) == {}
    other = _cookie(app, {"_user_id": "u2"})
    assert _read_with(app, interface, other) == {"_user_id": "u2"}


def test_contents_a_request_could_change_in_place_are_not_kept(app):
    interface = LazyCookieSessionInterface()
    cookie = _cookie(app, {"_flashes": [["info", "Saved."]]})
    name = app.config["SESSION_COOKIE_NAME"]
    with app.test_request_context(headers={"Cookie": f"{name}={cookie}"}) as context:
        opened = interface.open_session(app, context.request)
        opened["_flashes"].append(["info", "Again."])
    assert _read_with(app, interface, cookie) == {"_flashes": [["info", "Saved."]]}
