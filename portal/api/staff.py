"""/staff/api-keys: administrators create, list and revoke API keys."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from portal.api import keys
from portal.api.forms import SCOPE_LABELS, ApiKeyForm, RevokeForm
from portal.core.auth import guard_blueprint

bp = Blueprint("api_keys", __name__, url_prefix="/staff/api-keys")
guard_blueprint(bp, {"admin"})


def _page(
    form: ApiKeyForm, *, new_key: str | None = None, status: int = 200
) -> ResponseReturnValue:
    return render_template(
        "api/keys.html",
        form=form,
        revoke_form=RevokeForm(),
        keys=keys.list_keys(),
        new_key=new_key,
        scope_labels=SCOPE_LABELS,
    ), status


@bp.route("", methods=["GET", "POST"])
def key_list() -> ResponseReturnValue:
    form = ApiKeyForm()
    if form.validate_on_submit():
        try:
            _key, secret = keys.create_key(
                form.name.data or "", form.scopes.data or [], created_by_id=current_user.id
            )
        except keys.DuplicateKeyName:
            form.name.errors = [*form.name.errors, _("A key with this name already exists.")]
            return _page(form, status=422)
        # Shown once, in this response only; it is not stored anywhere.
        return _page(ApiKeyForm(formdata=None), new_key=secret, status=201)
    return _page(form, status=422 if form.errors else 200)


@bp.route("/<int:key_id>/revoke", methods=["POST"])
def revoke(key_id: int) -> ResponseReturnValue:
    form = RevokeForm()
    key = keys.get_key(key_id)
    if key is None:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if keys.revoke_key(key):
        flash(_("The key “%(name)s” is revoked.", name=key.name), "success")
    return redirect(url_for("api_keys.key_list"))
