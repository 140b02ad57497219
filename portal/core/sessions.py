"""The signed session cookie, read when something first uses it.

Flask verifies and decodes the session cookie at the start of every request, before it knows
what the request is. Most requests use the session anyway (the signed-in user, CSRF), but an
answer through a survey's e-mail link does not (portal.core.web.TOKEN_LINK_ENDPOINTS), and
checking the cookie's signature and decoding it was a tenth of that request. Here the cookie
is only taken from the request at the start; it is verified and decoded on the first use of
the session, with Flask's own serializer, so every request that uses it sees exactly what it
saw before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature


class LazySession(SecureCookieSession):
    """A session whose contents are read from the cookie on first use."""

    def __init__(
        self, initial: Any = None, *, load: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        super().__init__(initial)
        self._load_from_cookie = load

    @property
    def read(self) -> bool:
        """Whether the contents have been read (or there was no cookie to read)."""
        return self._load_from_cookie is None

    def _load(self) -> None:
        load, self._load_from_cookie = self._load_from_cookie, None
        if load is not None:
            dict.update(self, load())  # what the cookie held: not a modification


def _reading_first(name: str) -> Any:
    method = getattr(SecureCookieSession, name)

    def read_then(self: LazySession, *args: Any, **kwargs: Any) -> Any:
        if self._load_from_cookie is not None:
            self._load()
        return method(self, *args, **kwargs)

    read_then.__name__ = name
    return read_then


# Every way of reading or changing the contents reads the cookie first (dict(session) and
# JSON go through keys and __getitem__ once __iter__ is overridden).
for _name in (
    "__getitem__",
    "__setitem__",
    "__delitem__",
    "__contains__",
    "__iter__",
    "__len__",
    "__repr__",
    "__eq__",
    "__ne__",
    "__or__",
    "__ror__",
    "__ior__",
    "__reversed__",
    "get",
    "setdefault",
    "pop",
    "popitem",
    "clear",
    "update",
    "keys",
    "values",
    "items",
    "copy",
):
    setattr(LazySession, _name, _reading_first(_name))


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, read on first use."""

    session_class = LazySession

    def open_session(self, app: Flask, request: Request) -> LazySession | None:
        if not app.secret_key:
            return None  # Flask's null session, as without this interface
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return LazySession()

        def load() -> dict[str, Any]:
            serializer = self.get_signing_serializer(app)
            assert serializer is not None  # there is a secret key
            max_age = int(app.permanent_session_lifetime.total_seconds())
            try:
                return dict(serializer.loads(value, max_age=max_age))
            except BadSignature:
                return {}

        return LazySession(load=load)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        # Never read, so neither changed nor looked at: the browser keeps the cookie it sent.
        # (A permanent session is not re-sent with a later expiry by such a request; the
        # next request that uses the session does that.)
        if isinstance(session, LazySession) and not session.read:
            return
        super().save_session(app, session, response)
