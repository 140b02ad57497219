"""`flask portal create-api-key`: a key for the shop without the staff pages."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from portal.api.models import API_SCOPES
from portal.core.cli import portal_cli
from portal.extensions import db


@portal_cli.command("create-api-key")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice(API_SCOPES),
    default=API_SCOPES,
    show_default=True,
    help="Repeat for several scopes.",
)
@with_appcontext
def create_api_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key and print it (the only time it is shown)."""
    from portal.api.keys import DuplicateKeyName, create_key

    try:
        key, secret = create_key(name, scopes, created_by_id=None)
    except DuplicateKeyName:
        raise click.ClickException(f"A key named {name!r} already exists.")
    db.session.commit()
    click.echo(f"API key {key.name!r} ({key.scopes}):")
    click.echo(secret)
