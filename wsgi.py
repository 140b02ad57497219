"""WSGI entry point: `gunicorn wsgi:app`, and FLASK_APP for the `flask` command."""

import gc
import os

from portal import create_app

# Migrations (Flask-Migrate, Alembic) only for the `flask` command, not in server workers.
app = create_app(overrides={"MIGRATIONS": os.environ.get("FLASK_RUN_FROM_CLI") == "true"})

# What is loaded by now (modules, the app, its mappers and catalogs) lives as long as the
# process. Frozen, it is left out of the collector's full passes: without this each one walks
# the whole heap, some 100 ms that land on whichever request triggers it.
gc.collect()
gc.freeze()
