"""The shop API (/api/v1, OpenAPI) and the API keys that guard it."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from portal.api import cli, models  # noqa: F401 - tables and `flask portal` commands
    from portal.api.staff import bp as staff_bp
    from portal.api.views import init_api
    from portal.core.nav import has_role, register_staff_nav

    init_api(app)
    app.register_blueprint(staff_bp)
    register_staff_nav("api_keys.key_list", _l("API keys"), has_role("admin"), order=80)
