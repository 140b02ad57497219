"""`flask portal worker` and friends."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.core.cli import portal_cli


@portal_cli.command("worker")
@click.option("--workers", default=2, show_default=True, help="Worker threads.")
@click.option("--no-periodic", is_flag=True, help="Do not run the schedule in this process.")
@with_appcontext
def worker(workers: int, no_periodic: bool) -> None:
    """Run the background worker: outbox mail, bulk mail and the schedule (Ctrl-C stops)."""
    from portal.jobs.queue import get_queue, make_consumer

    queue = get_queue(current_app._get_current_object())  # type: ignore[attr-defined]
    if queue.huey.immediate:
        raise click.ClickException("JOBS_IMMEDIATE is set: there is no queue to consume.")
    consumer = make_consumer(queue, workers=workers, periodic=not no_periodic)
    consumer.run()


@portal_cli.command("send-due-mail")
@with_appcontext
def send_due_mail() -> None:
    """Send due outbox mail in this process, without the worker (e.g. from cron)."""
    from portal.jobs.outbox import deliver_due, release_stuck

    released = release_stuck()
    sent = deliver_due(limit=10_000)
    click.echo(f"sent {sent}, released {released}")
