"""Profile, security and data pages, and referral links."""

from __future__ import annotations

import json
import uuid

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from flask_security import verify_password

from portal.accounts import services
from portal.accounts.forms import DeleteAccountForm, ExportForm, LogoutEverywhereForm, ProfileForm
from portal.core.auth import signed_in
from portal.core.web import TOKEN_LINK_ENDPOINTS

bp = Blueprint("accounts", __name__)


@bp.route("/account", methods=["GET", "POST"])
@signed_in
def profile() -> ResponseReturnValue:
    user = current_user._get_current_object()
    form = ProfileForm(obj=user)
    if form.validate_on_submit():
        services.update_profile(user, form.data)
        flash(_("Your profile has been saved."), "success")
        return redirect(url_for("accounts.profile"))
    status = 422 if form.errors else 200
    return render_template(
        "accounts/profile.html",
        form=form,
        user=user,
        referral_url=url_for("accounts.referral", code=user.referral_code, _external=True)
        if user.referral_code
        else None,
        friends=services.referred_customers(user),
    ), status


@bp.route("/account/security", methods=["GET", "POST"])
@signed_in
def security_page() -> ResponseReturnValue:
    form = LogoutEverywhereForm()
    if form.validate_on_submit():
        # A new uniquifier invalidates every session and remember-me cookie of this user.
        current_user.fs_uniquifier = uuid.uuid4().hex
        logout_user()
        flash(_("You have been signed out on every device."), "info")
        return redirect(url_for("security.login"))
    return render_template("accounts/security.html", form=form)


@bp.route("/account/data", methods=["GET"])
@signed_in
def data_page() -> str:
    return render_template(
        "accounts/data.html", export_form=ExportForm(), delete_form=DeleteAccountForm()
    )


@bp.route("/account/data/export", methods=["POST"])
@signed_in
def export_data() -> Response:
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    payload = services.export_personal_data(current_user._get_current_object())
    body = json.dumps(payload, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="my-portal-data.json"'},
    )


@bp.route("/account/data/delete", methods=["POST"])
@signed_in
def delete_account() -> ResponseReturnValue:
    form = DeleteAccountForm()
    if form.validate_on_submit():
        if verify_password(form.password.data, current_user.password):
            services.delete_account(current_user._get_current_object())
            logout_user()
            flash(_("Your account has been deleted and your personal data erased."), "info")
            return redirect(url_for("core.home"))
        form.password.errors = [_("That password is not correct.")]
    return render_template("accounts/data.html", export_form=ExportForm(), delete_form=form), 422


@bp.route("/r/<code>")
def referral(code: str) -> ResponseReturnValue:
    referrer = services.find_referrer(code)
    if referrer is None:
        abort(404)
    session["referrer_code"] = referrer.referral_code
    return redirect(url_for("security.register", ref=referrer.referral_code))


@bp.app_context_processor
def _referral_context() -> dict[str, object]:
    return {
        "pending_referrer_code": lambda: request.args.get("ref") or session.get("referrer_code")
    }


# Endpoints an administrator without two-factor may still reach: setting it up, signing out.
_TWO_FACTOR_SETUP_ENDPOINTS = frozenset(
    {
        "security.two_factor_setup",
        "security.two_factor_setup_validate",
        "security.logout",
        "security.two_factor_token_validation",
        "security.mf_recovery_codes",
        "static",
        "core.healthz",
        "core.readyz",
        "core.set_language",
    }
)


@bp.before_app_request
def _require_two_factor_for_admins() -> ResponseReturnValue | None:
    # A survey's e-mail link acts on its token, not on the session (TOKEN_LINK_ENDPOINTS):
    # what the second factor guards is not used there, and anonymous answers need not load
    # the user to find that out.
    if request.endpoint in TOKEN_LINK_ENDPOINTS:
        return None
    if not current_user.is_authenticated or request.endpoint in _TWO_FACTOR_SETUP_ENDPOINTS:
        return None
    if "admin" in current_user.role_names and not current_user.tf_primary_method:
        flash(
            _("Administrators must set up two-factor authentication before continuing."), "warning"
        )
        return redirect(url_for("security.two_factor_setup"))
    return None
