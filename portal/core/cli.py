"""`flask portal ...` commands."""

from __future__ import annotations

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
