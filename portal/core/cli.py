"""`flask portal ...` commands."""

from __future__ import annotations

from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


@click.group("portal")
def portal_cli() -> None:
    """Portal administration."""


@portal_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", default="Administrator")
@click.password_option()
@with_appcontext
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator (two-factor setup is asked at first sign-in)."""
    from portal.accounts.security import PortalPasswordUtil
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.extensions import security

    util = PortalPasswordUtil(current_app)
    errors, password = util.validate(password, True, email=email)
    if errors:
        raise click.ClickException(" ".join(str(e) for e in errors))
    if security.datastore.find_user(email=email.lower()):
        raise click.ClickException("A user with that e-mail address already exists.")
    ensure_reference_data()
    create_user(email, password, roles=("admin", "manager"), name=name)
    db.session.commit()
    click.echo(f"Administrator {email} created.")


@portal_cli.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo data once (running it again changes nothing)."""
    from portal.core.demo import load_demo_data

    created = load_demo_data()
    db.session.commit()
    click.echo("Demo data loaded." if created else "Demo data already present.")


@portal_cli.command("demo-totp")
@click.argument("email")
@with_appcontext
def demo_totp(email: str) -> None:
    """Print the current two-factor code of a demo account (development only)."""
    if not (current_app.debug or current_app.config.get("ENV_NAME") == "development"):
        raise click.ClickException("Only available in development.")
    from portal.extensions import security

    user = security.datastore.find_user(email=email.lower())
    if user is None or not user.tf_totp_secret:
        raise click.ClickException("No such account with two-factor set up.")
    click.echo(security._totp_factory.generate_totp_password(user.tf_totp_secret))


@portal_cli.command("banner")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def banner(host: str, port: int) -> None:
    """Print the address and the demo sign-ins."""
    from portal.core.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo("")
    click.echo(f"  The portal is at http://{host}:{port}/")
    click.echo(f"  Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for email, name, roles, _departments, _profile in DEMO_ACCOUNTS:
        click.echo(f"    {email:<24} {', '.join(roles):<18} {name}")
    click.echo("  The admin signs in with a two-factor code: `make totp` prints it.")
    click.echo(
        f"  Mail is written to {current_app.config['MAIL_FILE_DIR']}/ (links are also logged)."
    )
    click.echo("  Stop with Ctrl-C.")
    click.echo("")


@portal_cli.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def serve(host: str, port: int) -> None:
    """Serve the portal for development (and run the background worker beside it)."""
    from werkzeug.serving import run_simple

    from portal.jobs.runner import background_worker

    with background_worker(public_base_url=f"http://{host}:{port}"):
        run_simple(
            host,
            port,
            current_app._get_current_object(),  # type: ignore[attr-defined]
            threaded=True,
            use_reloader=False,
            use_debugger=False,
        )


@portal_cli.command("run-task")
@click.argument("name", required=False)
@with_appcontext
def run_task(name: str | None) -> None:
    """Run a periodic task now (without NAME: list them)."""
    from portal.jobs.schedule import PERIODIC_TASKS, run_periodic

    if not name:
        for task in sorted(PERIODIC_TASKS.values(), key=lambda t: t.name):
            click.echo(f"{task.name:<40} {task.cron}")
        return
    if name not in PERIODIC_TASKS:
        raise click.ClickException(f"No task named {name}.")
    click.echo(f"{name}: {run_periodic(name)!r}")


@portal_cli.command("rebuild-rollups")
@click.option("--since", default=None, help="First day (YYYY-MM-DD); default three years back.")
@with_appcontext
def rebuild_rollups(since: str | None) -> None:
    """Rebuild the dashboard's daily rollup tables from the source data."""
    from datetime import date

    from portal.staff.rollups import rebuild_all

    first = date.fromisoformat(since) if since else None
    written = rebuild_all(first)
    db.session.commit()
    click.echo(f"{written} rollup rows written.")


def _backup_locations() -> Any:
    """Where the database file and the attachments are; refuses anything but SQLite."""
    from pathlib import Path

    from portal.core.backup import Locations

    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            f"The database is {url.get_backend_name()}, not SQLite: back it up with "
            "pg_dump (e.g. `pg_dump -Fc -f portal.dump DBNAME`) and restore it with pg_restore "
            "(`pg_restore --clean -d DBNAME portal.dump`). Copy the instance's attachments "
            "directory beside it."
        )
    if not url.database or url.database == ":memory:":
        raise click.ClickException("An in-memory database cannot be backed up.")
    from portal.jobs.queue import queue_file

    return Locations(
        database=Path(url.database),
        attachments=Path(current_app.config["INSTANCE_DIR"]) / "attachments",
        queue=queue_file(current_app._get_current_object()),  # type: ignore[attr-defined]
    )


@portal_cli.command("backup")
@click.option(
    "--to",
    "root",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory to put the backup in (default: INSTANCE_DIR/backups).",
)
@with_appcontext
def backup(root: str | None) -> None:
    """Copy the SQLite database and job queue (safely, while the portal runs) and the attachments."""
    from pathlib import Path

    from portal.core.backup import BackupError, make_backup

    where = _backup_locations()
    destination = Path(root) if root else Path(current_app.config["INSTANCE_DIR"]) / "backups"
    try:
        target = make_backup(where, destination)
    except BackupError as error:
        raise click.ClickException(str(error))
    click.echo(f"Backup written to {target}")


@portal_cli.command("restore")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.option("--force", is_flag=True, help="Replace a database that holds data without asking.")
@with_appcontext
def restore(source: str, force: bool) -> None:
    """Bring back a backup made by `flask portal backup` (stop the portal first)."""
    from pathlib import Path

    from portal.core.backup import BackupError, holds_data, read_manifest, restore_backup

    where = _backup_locations()
    try:
        manifest = read_manifest(Path(source))
    except BackupError as error:
        raise click.ClickException(str(error))
    # The app's own connections must not hold the file while it is replaced.
    db.session.remove()
    db.engine.dispose()
    if holds_data(where.database) and not force:
        click.confirm(
            f"{where.database} holds data; replace it and the attachments with the backup "
            f"of {manifest['created_at']}?",
            abort=True,
        )
    try:
        restore_backup(Path(source), where)
    except BackupError as error:
        raise click.ClickException(str(error))
    click.echo(
        f"Restored the backup of {manifest['created_at']}: "
        f"{len(manifest['attachments'])} attachments, "
        f"{'the job queue, ' if manifest.get('queue') and where.queue else ''}"
        f"schema {manifest['database']['schema_revision']}."
    )
