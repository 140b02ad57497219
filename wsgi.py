"""WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for the `flask` command."""

import os

from portal import create_app

# Migrations (Flask-Migrate, Alembic) only for the `flask` command, not in server workers.
app = create_app(overrides={"MIGRATIONS": os.environ.get("FLASK_RUN_FROM_CLI") == "true"})
