"""Per-request plumbing: write intent, the one commit per request, template context."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, g, request
from flask.ctx import _AppCtxGlobals

from portal.core import audit, pagecache
from portal.core.db import has_only_read, write_intent
from portal.core.i18n import current_locale_code, html_lang, text_direction
from portal.core.nav import (
    constant_url,
    home_blocks,
    nav_items,
    nav_state,
    staff_nav_items,
    staff_nav_state,
)
from portal.extensions import db

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

#: POSTs that read, then hash (a password, a reset token's data), then write only rows that do
#: not depend on what they read (sign-in tracking, a queued mail): they start with a reading
#: transaction (no write lock while the storm of sign-ins after a restart looks users up),
#: and the hashing step ends it and declares the write
#: (portal.accounts.security.HashingOutsideTransactions).
READ_FIRST_ENDPOINTS = frozenset({"security.login", "security.forgot_password"})

#: Pages authorised by a token in their URL alone (a survey's e-mail link), which no check of
#: roles or permissions guards and which never sign anyone in or out. The hooks that exist for
#: the signed-in user are not run for them (``adapt_signed_in_hooks``):
#: Flask-Principal's identity, which loads the user to know its roles when first read (their
#: ``g.identity`` is the anonymous one, so anything that did consult it there would be
#: refused, never allowed), and Flask-Login's remember-cookie update, which reads the session
#: on every response (nothing there sets or clears the remember cookie). ``current_user`` and
#: the session still load when something on such a page asks for them.
TOKEN_LINK_ENDPOINTS = frozenset({"surveys.answer"})


_IDENTITY_LOADER = "_portal_identity_loader"


class RequestGlobals(_AppCtxGlobals):
    """Flask's ``g``, where Flask-Principal's ``g.identity`` is worked out when first read.

    Flask-Principal works the identity out before every view: it loads the user and sends
    ``identity_loaded``, for which Flask-Security adds a need for each of the user's roles
    and permissions. Only a permission check reads it (``Permission.can``, Flask-Security's
    ``roles_required``), and the portal's own guards read the user's roles instead, so the
    request hook leaves the loader here (``adapt_signed_in_hooks``) and the first read of
    ``g.identity`` runs it. Signing in or out sets ``g.identity`` directly, as before.
    """

    def __getattr__(self, name: str) -> Any:
        if name == "identity":
            load = self.__dict__.pop(_IDENTITY_LOADER, None)
            if load is not None:
                load()
                return self.__dict__["identity"]
        raise AttributeError(name)


def adapt_signed_in_hooks(app: Flask) -> None:
    """Wrap Flask-Principal's before-request hook and Flask-Login's after-request hook (once
    Flask-Security has set them up): the identity is worked out when first read
    (RequestGlobals), and both pass over TOKEN_LINK_ENDPOINTS."""
    from flask_login import LoginManager
    from flask_principal import AnonymousIdentity, Principal

    def owner(hook: Any, kind: type) -> bool:
        return isinstance(getattr(hook, "__self__", None), kind)

    before = app.before_request_funcs.setdefault(None, [])
    after = app.after_request_funcs.setdefault(None, [])
    identity = next((i for i, hook in enumerate(before) if owner(hook, Principal)), None)
    remember = next((i for i, hook in enumerate(after) if owner(hook, LoginManager)), None)
    if identity is None or remember is None:
        raise RuntimeError("Flask-Principal's or Flask-Login's request hook not found")
    app.app_ctx_globals_class = RequestGlobals

    def _identity(load: Any = before[identity]) -> None:
        if request.endpoint in TOKEN_LINK_ENDPOINTS:
            g.identity = AnonymousIdentity()
            return
        setattr(g, _IDENTITY_LOADER, load)

    def _remember_cookie(response: Response, update: Any = after[remember]) -> Response:
        if request.endpoint in TOKEN_LINK_ENDPOINTS:
            return response
        return update(response)  # type: ignore[no-any-return]

    before[identity] = _identity
    after[remember] = _remember_cookie


def register_request_hooks(app: Flask) -> None:
    def _declare_write_intent() -> None:
        write_intent.set(
            request.method not in SAFE_METHODS and request.endpoint not in READ_FIRST_ENDPOINTS
        )

    # First of all hooks: extensions' own hooks (loading the user) may already query.
    app.before_request_funcs.setdefault(None, []).insert(0, _declare_write_intent)

    @app.after_request
    def _commit_or_roll_back(response: Response) -> Response:
        # The one place a request's unit of work is committed: only when it succeeded. A
        # request whose work is already committed (a survey answer's own short write) has no
        # transaction left: beginning one only to commit it costs a fifth of a fast request.
        # One that only read has nothing to commit: the teardown closes its session.
        if not db.session().in_transaction():
            pass
        elif response.status_code >= 400:
            db.session.rollback()
        elif not has_only_read(db.session()):
            db.session.commit()
        audit.write_recorded_views(response.status_code)
        return response

    app.teardown_request(_deliver_committed_mail)

    @app.teardown_request
    def _reset_write_intent(_exc: BaseException | None) -> None:
        # Work outside requests (CLI, jobs) in the same thread writes by default.
        write_intent.set(True)

    app.add_template_global(constant_url, "constant_url")

    @app.context_processor
    def _template_context() -> dict[str, Any]:
        return {
            "languages": current_app.config["LANGUAGES"],
            "text_direction": text_direction,
            "html_lang": html_lang,
            "csrf_token": pagecache.template_csrf_token,
            "nav_items": nav_items,
            "nav_state": nav_state,
            "home_blocks": home_blocks,
            "staff_nav_items": staff_nav_items,
            "staff_nav_state": staff_nav_state,
            "current_locale_code": current_locale_code,
        }


def _deliver_committed_mail(_exc: BaseException | None) -> None:
    from portal.jobs.outbox import deliver_committed

    deliver_committed()
