"""The session cookie is read on first use: the same contents for every request that uses it,
no work (and no cookie written) for one that does not."""

from __future__ import annotations

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
