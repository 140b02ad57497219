"""Background jobs, the mail outbox and in-portal notifications."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from portal.jobs import models  # noqa: F401 - register the tables
    from portal.jobs.views import bp

    app.register_blueprint(bp)
