"""`flask portal import-orders`, `recompute-value` and `seed-scale`."""

from __future__ import annotations

import time
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.core.cli import portal_cli
from portal.extensions import db


@portal_cli.command("import-orders")
@click.argument("file", type=click.File("r", encoding="utf-8-sig"))
@with_appcontext
def import_orders(file: Any) -> None:
    """Import a shop export (CSV). A file with any bad row imports nothing."""
    from portal.orders import importer

    parsed = importer.parse(file)
    rejections = list(parsed.rejections)
    counts: dict[str, int] = {}
    if not rejections:
        base_url = current_app.config.get("PORTAL_BASE_URL") or "http://localhost:5000"
        # Invitation links are built with url_for, which needs to know the site's address.
        with current_app.test_request_context(base_url=base_url):
            with click.progressbar(parsed.orders, label="Importing orders") as bar:
                counts, rejections = importer.apply(parsed, progress=lambda orders: bar)
            if rejections:
                db.session.rollback()
            else:
                db.session.commit()
    if rejections:
        click.echo(f"{len(rejections)} rejected row(s); nothing was imported:", err=True)
        for rejection in sorted(rejections, key=lambda r: r.line):
            label = f" order {rejection.order_number}" if rejection.order_number else ""
            click.echo(f"  line {rejection.line}{label}: {rejection.reason}", err=True)
        raise SystemExit(1)
    click.echo(
        "Imported {total} orders: {created} new, {updated} updated, {unchanged} unchanged; "
        "{customers_invited} customers invited.".format(total=len(parsed.orders), **counts)
    )


@portal_cli.command("recompute-value")
@with_appcontext
def recompute_value() -> None:
    """Recompute every customer's value (spend, golden, lapsed, stage) now."""
    from portal.orders.recompute import recompute_customer_values

    started = time.perf_counter()
    count = recompute_customer_values()
    db.session.commit()
    click.echo(f"Recomputed {count} customers in {time.perf_counter() - started:.1f} s.")


@portal_cli.command("seed-scale")
@click.option("--customers", type=int, default=None, help="How many customers to create.")
@click.option("--orders", type=int, default=None, help="How many orders to create.")
@click.option("--small", is_flag=True, help="A quick data set: 10,000 customers, 100,000 orders.")
@click.option("--seed", type=int, default=2026, help="Random seed (the same seed, the same data).")
@click.option("--recompute/--no-recompute", default=True, help="Recompute customer value after.")
@with_appcontext
def seed_scale(
    customers: int | None, orders: int | None, small: bool, seed: int, recompute: bool
) -> None:
    """Generate realistic customers and orders in bulk, for benchmarks."""
    from portal.orders.scale import generate

    if small:
        customers = customers or 10_000
        orders = orders or 100_000
    customers = customers or 100_000
    orders = orders if orders is not None else customers * 10
    report = generate(customers=customers, orders=orders, seed=seed, echo=click.echo)
    rows = report["rows"]
    seconds = report["seconds"]
    click.echo(
        f"Inserted {rows:,} rows ({customers:,} customers, {orders:,} orders, "
        f"{report['items']:,} items, {report['events']:,} events) in {seconds:.1f} s: "
        f"{rows / max(seconds, 1e-9):,.0f} rows/s."
    )
    if recompute:
        from portal.orders.recompute import recompute_customer_values

        started = time.perf_counter()
        count = recompute_customer_values()
        db.session.commit()
        click.echo(
            f"Recomputed value of {count:,} customers in {time.perf_counter() - started:.1f} s."
        )
