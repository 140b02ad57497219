"""Home, language switching and health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import text

from portal.core.urls import safe_next
from portal.extensions import csrf, db

bp = Blueprint("core", __name__)


@bp.route("/")
def home() -> str:
    return render_template("home.html")


@bp.route("/language", methods=["POST"])
def set_language() -> ResponseReturnValue:
    from portal.core.i18n import normalise_locale

    chosen = normalise_locale(request.form.get("locale"))
    if chosen:
        session["locale"] = chosen
        if current_user.is_authenticated:
            current_user.locale = chosen
    return redirect(safe_next(request.form.get("next")) or url_for("core.home"))


@bp.route("/healthz")
@csrf.exempt
def healthz() -> tuple[dict[str, str], int]:
    return {"status": "ok"}, 200


@bp.route("/readyz")
def readyz() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:
        current_app.logger.warning("Readiness check failed", exc_info=True)
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200


def _register_nav() -> None:
    from flask_babel import lazy_gettext as _l

    from portal.core.nav import everyone, register_nav

    register_nav("core.home", _l("Home"), everyone, order=0, prefix="/")


_register_nav()
