"""Security headers (Flask-Talisman), worked out once per view instead of on every response.

Talisman builds each response's headers afresh: it merges the view's options with its own,
turns the content security and permissions policies into strings and sets half a dozen
headers, a few per cent of a fast page's time. For a view they only change with whether the
request came over HTTPS (Strict-Transport-Security) or carries a CSP nonce; without a nonce
the headers of a view and scheme are kept after the first response and set as they are.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from flask import request
from flask_talisman import Talisman
from werkzeug.datastructures import Headers


class KeptHeadersTalisman(Talisman):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._kept: dict[tuple[Any, ...], tuple[tuple[str, str], ...]] = {}
        self._kept_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def init_app(self, *args: Any, **kwargs: Any) -> None:
        with self._kept_lock:
            self._kept = {}
        super().init_app(*args, **kwargs)

    def _set_response_headers(self, response: Any) -> Any:
        if getattr(request, "csp_nonce", None):
            return super()._set_response_headers(response)
        secure = request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"
        key = (request.endpoint, secure)
        headers = self._kept.get(key)
        if headers is None:
            scratch = SimpleNamespace(headers=Headers())
            super()._set_response_headers(scratch)
            headers = tuple(scratch.headers.items())
            with self._kept_lock:
                self._kept[key] = headers
        for name, value in headers:
            response.headers[name] = value
        return response
