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

import threading
import time
from collections import OrderedDict
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


#: Values a verified cookie's contents may hold to be kept: none that a request could change
#: in place (a list of flashed messages is appended to).
_SCALARS = (str, int, float, bool, type(None))


class LazyCookieSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, read on first use.

    A browser sends the same cookie until the session changes, and every request used to
    check its signature and decode it again (a twentieth of a signed-in page). The contents of
    cookies verified lately are kept per process, with the time they were signed, so the same
    cookie is read from there, for as long as its signature would still be accepted: an
    exact copy of the signed string, with the same secret key, can only decode to the same
    contents. Only contents of plain values are kept, and every request gets its own copy.
    """

    session_class = LazySession
    verified_size = 2048

    def __init__(self) -> None:
        self._verified: OrderedDict[tuple[Any, str], tuple[float, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> LazySession | None:
        if not app.secret_key:
            return None  # Flask's null session, as without this interface
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return LazySession()

        def load() -> dict[str, Any]:
            max_age = int(app.permanent_session_lifetime.total_seconds())
            key = (app.secret_key, value)
            with self._lock:
                known = self._verified.get(key)
                if known is not None:
                    self._verified.move_to_end(key)
            if known is not None:
                signed_at, contents = known
                return dict(contents) if time.time() - signed_at <= max_age else {}
            serializer = self.get_signing_serializer(app)
            assert serializer is not None  # there is a secret key
            try:
                contents, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
            except BadSignature:
                return {}
            contents = dict(contents)
            if all(isinstance(v, _SCALARS) for v in contents.values()):
                with self._lock:
                    self._verified[key] = (signed.timestamp(), contents)
                    if len(self._verified) > self.verified_size:
                        self._verified.popitem(last=False)
            return dict(contents)

        return LazySession(load=load)

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        # Never read, so neither changed nor looked at: the browser keeps the cookie it sent.
        # (A permanent session is not re-sent with a later expiry by such a request; the
        # next request that uses the session does that.)
        if isinstance(session, LazySession) and not session.read:
            return
        super().save_session(app, session, response)
