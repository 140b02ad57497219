"""The steps of create_app: extensions, blueprints, CLI."""

from __future__ import annotations

import hashlib
import importlib
import sys
from pathlib import Path
from typing import Any

from flask import Flask, request, session
from flask_security import user_registered
from jinja2 import FileSystemBytecodeCache
from sqlalchemy import event

from portal.core import formatting, pagecache
from portal.core.db import configure_postgresql, configure_sqlite, ping_after_idle
from portal.core.forms import install_form_translations
from portal.core.fragments import FragmentCache
from portal.core.i18n import (
    babel_locale,
    babel_timezone,
    install_request_cached_domain,
    install_template_gettext,
    select_locale,
)
from portal.core.sessions import LazyCookieSessionInterface
from portal.core.web import SAFE_METHODS, adapt_signed_in_hooks
from portal.extensions import babel, csrf, db, limiter, mail, security, talisman

CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": ["'self'", "data:"],
    "style-src": "'self'",
    "script-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _plan_with_values() -> None:
    """Statements whose best plan depends on their values carry the execution option
    ``plan_with_values`` (search: a rare word against a common one, where one generic plan
    reads the whole post table); on PostgreSQL they are never prepared, so the server plans
    each execution with its values. psycopg prepares any other statement once it has run five
    times on a connection, and the server may then keep one generic plan for it instead of
    planning every page's few statements again (a tenth of a signed-in list's time)."""
    if db.engine.dialect.name != "postgresql":
        return

    @event.listens_for(db.engine, "do_execute")
    def _unprepared(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if not context.execution_options.get("plan_with_values"):
            return None
        cursor.execute(statement, parameters, prepare=False)
        return True


def register_extensions(app: Flask) -> None:
    app.session_interface = LazyCookieSessionInterface()
    db.init_app(app)
    with app.app_context():
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            configure_sqlite(
                db.engine,
                app.config["SQLITE_BUSY_TIMEOUT_MS"],
                app.config.get("SQLITE_LOCK_LOG_MS", 0),
                app.config.get("SQLITE_SWITCH_INTERVAL_MS", 0),
            )
        else:
            if db.engine.dialect.name == "postgresql":
                configure_postgresql(db.engine)
            ping_after_idle(db.engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
        _plan_with_values()
    if app.config.get("MIGRATIONS", True):
        # Flask-Migrate brings Alembic (some 12 MB a process); a server's workers never
        # migrate, so wsgi.py leaves it out of them.
        from flask_migrate import Migrate

        Migrate(app, db, render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=babel_locale, timezone_selector=babel_timezone)
    install_request_cached_domain(app)
    formatting.install_filters(app)
    install_template_gettext(app)
    install_form_translations()
    app.jinja_env.add_extension(FragmentCache)
    install_template_cache(app)

    limiter.init_app(app)
    limiter.request_filter(_only_reads)
    _limit_writes_only(app)
    pagecache.init_app(app)

    talisman.init_app(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["FORCE_HTTPS"],
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        content_security_policy=CONTENT_SECURITY_POLICY,
        referrer_policy="strict-origin-when-cross-origin",
        frame_options="DENY",
        permissions_policy={"geolocation": "()", "camera": "()", "microphone": "()"},
    )

    _init_security(app)


def install_template_cache(app: Flask) -> None:
    """Keep compiled templates on disk: a new worker's first pages skip Jinja's compiler.

    Jinja checks each cached file against the template's source and its own version, and
    writes a file through a temporary name, so workers may share the directory. What else
    shapes the compiled code (the extensions' own code) is part of the files' names, so a
    deploy that changes an extension but no template compiles them again.
    """
    directory = app.config.get("TEMPLATE_CACHE_DIR")
    if not directory:
        return
    Path(directory).mkdir(mode=0o700, parents=True, exist_ok=True)
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(
        directory, pattern=f"__jinja2_%s_{_compiler_fingerprint(app.jinja_env)}.cache"
    )


def _compiler_fingerprint(environment: Any) -> str:
    digest = hashlib.sha256()
    for name in sorted(environment.extensions):
        digest.update(name.encode())
        module = sys.modules.get(type(environment.extensions[name]).__module__)
        source = getattr(module, "__file__", None)
        if source:
            digest.update(Path(source).read_bytes())
    return digest.hexdigest()[:16]


def _init_security(app: Flask) -> None:
    from portal.accounts.models import Role, User, WebAuthn
    from portal.accounts.security import (
        HashingOutsideTransactions,
        OutboxMailUtil,
        PortalPasswordUtil,
        PortalRegisterForm,
        PortalUserDatastore,
    )

    datastore = PortalUserDatastore(db, User, Role, WebAuthn)
    # init_app() only takes forms; the utility classes are read from the instance.
    security._mail_util_cls = OutboxMailUtil
    security._password_util_cls = PortalPasswordUtil
    security.init_app(app, datastore, register_form=PortalRegisterForm)
    adapt_signed_in_hooks(app)
    # Pages are authenticated by the session alone (portal.core.auth.signed_in) and the API by
    # its own keys: no request is searched for a Flask-Security token, which for a visitor
    # meant failing to parse a missing one on every page.
    security.login_manager.request_loader(lambda _request: None)
    security.pwd_context = HashingOutsideTransactions(security.pwd_context)  # type: ignore[assignment]
    # Token data (a reset link carries a hash of the password hash) is hashed with
    # sha256_crypt: some 200 ms of CPU, which held SQLite's write lock in every reset request.
    security.hashing_context = HashingOutsideTransactions(security.hashing_context)  # type: ignore[assignment]

    @user_registered.connect_via(app)
    def _on_registered(
        _sender: Any, user: Any, form_data: dict[str, Any] | None = None, **_extra: Any
    ) -> None:
        from portal.accounts.services import complete_registration

        code = (form_data or {}).get("referrer_code") or session.pop("referrer_code", None)
        complete_registration(user, referrer_code=code, locale=select_locale())

    # Login attempts are limited per address and per account; the message reveals nothing.
    limit = app.config["LOGIN_RATE_LIMIT"]
    app.view_functions["security.login"] = _limited(
        "security.login", limit, app.view_functions["security.login"], _login_limits
    )
    for endpoint in ("security.forgot_password", "security.register", "security.send_confirmation"):
        view: Any = app.view_functions.get(endpoint)
        if view is not None:
            app.view_functions[endpoint] = _limited(
                endpoint, app.config["ACCOUNT_FORM_RATE_LIMIT"], view, _account_form_limit
            )


#: Views already wrapped, by (endpoint, limit). The limiter keeps decorated limits by the
#: view's name for the whole process, so wrapping the same view again for a second app (tests,
#: a CLI next to a server) would count every request twice and halve the limit.
_LIMITED_VIEWS: dict[tuple[str, str], Any] = {}


def _limit_writes_only(app: Flask) -> None:
    """The limiter's own before-request check, passed over for requests that cannot write
    (``_only_reads``): it looks the view up and resolves its name before asking the filter."""
    hooks = app.before_request_funcs.setdefault(None, [])
    index = next(
        (i for i, hook in enumerate(hooks) if getattr(hook, "__self__", None) is limiter), None
    )
    if index is None:
        if app.config.get("RATELIMIT_ENABLED", True):
            raise RuntimeError("Flask-Limiter's request hook not found")
        return  # disabled: the limiter set up no hook

    def _check_limits(check: Any = hooks[index]) -> Any:
        return None if _only_reads() else check()

    hooks[index] = _check_limits


def _only_reads() -> bool:
    """Every rate limit of the portal counts writes (sign-ins, posts, forms sent), none
    counts reading a page: requests that cannot write skip the limiter, which otherwise
    resolves the limits of each page viewed (some 30 microseconds a request)."""
    return request.method in SAFE_METHODS


def _limited(endpoint: str, limit: str, view: Any, wrap: Any) -> Any:
    key = (endpoint, limit)
    if key not in _LIMITED_VIEWS:
        _LIMITED_VIEWS[key] = wrap(view, limit, endpoint)
    return _LIMITED_VIEWS[key]


def _login_limits(view: Any, limit: str, _endpoint: str) -> Any:
    view = limiter.limit(limit, methods=["POST"], scope="login-ip")(view)
    return limiter.limit(
        limit,
        methods=["POST"],
        scope="login-account",
        key_func=lambda: "account:" + (request.form.get("email") or "").strip().lower(),
    )(view)


def _account_form_limit(view: Any, limit: str, endpoint: str) -> Any:
    return limiter.limit(limit, methods=["POST"], scope=endpoint)(view)


#: Feature packages, in the order their blueprints register. Each exposes ``init_app(app)``
#: that imports its models and registers its blueprints, navigation and CLI commands.
FEATURES = ("accounts", "jobs", "orders", "feedback", "surveys", "community", "staff", "api")


def register_blueprints(app: Flask) -> None:
    from portal.core.views import bp as core_bp

    app.register_blueprint(core_bp)
    for name in FEATURES:
        try:
            module = importlib.import_module(f"portal.{name}")
        except ModuleNotFoundError as error:
            if error.name == f"portal.{name}":
                continue
            raise
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def register_cli(app: Flask) -> None:
    from portal.core.cli import portal_cli

    app.cli.add_command(portal_cli)
