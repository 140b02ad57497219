"""Access guards shared by features."""

from __future__ import annotations

from collections.abc import Iterable

from flask import Blueprint, abort, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_security import auth_required

#: A view for signed-in users only: visitors are sent to sign in. Pages are authenticated by
#: the session cookie alone; Flask-Security's own ``auth_required()`` also looks for an
#: authentication token in the headers, the query and a JSON body first, on every request,
#: and the portal issues none (its API has its own keys, portal.api.keys).
signed_in = auth_required("session")


def guard_blueprint(bp: Blueprint, roles: Iterable[str]) -> None:
    """Every view of ``bp`` needs a signed-in user holding one of ``roles``.

    Visitors are sent to sign in; signed-in users without the role get 403.
    """
    allowed = frozenset(roles)

    @bp.before_request
    def _guard() -> ResponseReturnValue | None:
        if not current_user.is_authenticated:
            return redirect(url_for("security.login", next=request.full_path.rstrip("?")))
        if not (current_user.role_names & allowed):
            abort(403)
        return None


def require_roles(*roles: str) -> None:
    """Inside a view: abort with 403 unless the current user holds one of ``roles``."""
    if not current_user.is_authenticated or not (current_user.role_names & set(roles)):
        abort(403)
