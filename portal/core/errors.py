"""Error pages in the portal's look; JSON problems for the API."""

from __future__ import annotations

from flask import Flask, current_app, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

ERROR_TEMPLATES = {403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        _roll_back()
        app.logger.info("CSRF check failed on %s: %s", request.path, error.description)
        return render_template("errors/400.html", reason=error.description), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        _roll_back()
        if isinstance(getattr(error, "original_exception", None), OperationalError):
            # Raised after the view (the request's commit): Flask hands it over as a 500.
            return _database_unavailable()
        code = error.code or 500
        if request.path.startswith("/api/"):
            return (
                {
                    "type": "about:blank",
                    "title": error.name,
                    "status": code,
                    "detail": error.description,
                },
                code,
                {"Content-Type": "application/problem+json"},
            )
        if code in ERROR_TEMPLATES:
            return render_template(ERROR_TEMPLATES[code], error=error), code
        if code >= 500:
            return render_template("errors/500.html"), code
        return render_template("errors/400.html", reason=error.description), code

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> ResponseReturnValue:
        _roll_back()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if isinstance(error, OperationalError):
            return _database_unavailable()
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise error
        return render_template("errors/500.html"), 500


def _roll_back() -> None:
    """Roll back the failed request's work; a dead connection must not break the error page."""
    try:
        db.session.rollback()
    except Exception:
        current_app.logger.warning("Rollback failed", exc_info=True)
        db.session.remove()


def _database_unavailable() -> ResponseReturnValue:
    """The database is unreachable (restarting, failing over) or too busy: a temporary state,
    said as such (503 and when to try again) so clients and balancers retry."""
    if request.path.startswith("/api/"):
        problem = {
            "type": "about:blank",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "The service is briefly unavailable; try again in a few seconds.",
        }
        headers = {"Content-Type": "application/problem+json", "Retry-After": "5"}
        return problem, 503, headers
    try:
        body = render_template("errors/500.html")
    except Exception:  # the page's layout reads the signed-in user: the database again
        _roll_back()
        body = _plain_unavailable_page()
    return body, 503, {"Retry-After": "5"}


def _plain_unavailable_page() -> str:
    from flask_babel import gettext
    from markupsafe import escape

    heading, message = (
        "Something went wrong on our side",
        ("Nothing you did caused this. Please try again in a moment."),
    )
    try:
        heading, message = gettext(heading), gettext(message)
    except Exception:  # the language is chosen from the user's profile, in the database
        current_app.logger.debug("Unavailable page in English", exc_info=True)
    return (
        f"<!doctype html><meta charset=utf-8><title>{escape(heading)}</title>"
        f"<h1>{escape(heading)}</h1><p>{escape(message)}</p>"
    )
