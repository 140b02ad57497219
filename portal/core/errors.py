"""Error pages in the portal's look; JSON problems for the API."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from portal.extensions import db

ERROR_TEMPLATES = {403: "errors/403.html", 404: "errors/404.html", 429: "errors/429.html"}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[str, int]:
        db.session.rollback()
        app.logger.info("CSRF check failed on %s: %s", request.path, error.description)
        return render_template("errors/400.html", reason=error.description), 400

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> ResponseReturnValue:
        db.session.rollback()
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
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if isinstance(error, OperationalError):
            # The database is unreachable (restarting, failing over) or too busy: a temporary
            # state, said as such, so clients and balancers retry instead of giving up.
            return render_template("errors/500.html"), 503, {"Retry-After": "5"}
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise error
        return render_template("errors/500.html"), 500
