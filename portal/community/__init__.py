"""Community board: categories, topics, posts, votes, flags, moderation and search."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l


def init_app(app: Flask) -> None:
    from portal.community import cli, display, gdpr, models  # noqa: F401 - tables, events, commands
    from portal.community.demo import load_demo
    from portal.community.policies import MODERATOR_ROLES
    from portal.community.staff_views import bp as staff_bp
    from portal.community.views import bp
    from portal.core.demo import DEMO_LOADERS
    from portal.core.nav import (
        customers,
        everyone,
        has_role,
        register_home_block,
        register_nav,
        register_staff_nav,
    )

    app.register_blueprint(bp)
    app.register_blueprint(staff_bp)
    register_nav("community.index", _l("Community"), everyone, order=40, prefix="/community")
    register_staff_nav(
        "community_staff.queue",
        _l("Moderation"),
        has_role(*MODERATOR_ROLES),
        order=60,
        prefix="/staff/moderation",
    )
    register_home_block("community/_home_block.html", customers, order=40)
    gdpr.register()
    if load_demo not in DEMO_LOADERS:
        DEMO_LOADERS.append(load_demo)
