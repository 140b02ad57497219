"""Background jobs, the mail outbox, bulk mail and in-portal notifications."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.accounts.security import USER_FIGURES
    from portal.jobs import cli, models, privacy  # noqa: F401 - tables, commands, GDPR hooks
    from portal.jobs.notifications import UNREAD_FIGURE, unread_of_user_figure
    from portal.jobs.schedule import register_placeholder_hooks
    from portal.jobs.staff import mailings_bp, outbox_bp, register_staff_pages
    from portal.jobs.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(outbox_bp)
    app.register_blueprint(mailings_bp)
    register_staff_pages()
    register_placeholder_hooks()
    USER_FIGURES.setdefault(UNREAD_FIGURE, unread_of_user_figure)
