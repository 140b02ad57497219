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
        base_url = current_app.config.get("PUBLIC_BASE_URL") or "http://127.0.0.1:5000"
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


#: (customers, orders, posts, big topic posts, survey responses, feedback items)
PRESETS = {
    "full": (100_000, 1_000_000, 1_000_000, 20_000, 1_000_000, 200_000),
    "small": (10_000, 100_000, 100_000, 20_000, 100_000, 20_000),
}


def _peak_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@portal_cli.command("seed-scale")
@click.option(
    "--small",
    is_flag=True,
    help="A tenth of the full data set: 10,000 customers, 100,000 orders, posts and survey "
    "responses, 20,000 feedback items; the big topic keeps its 20,000 posts.",
)
@click.option("--full", is_flag=True, help="The full data set (the default).")
@click.option("--customers", type=int, default=None, help="Customers (full: 100,000).")
@click.option("--orders", type=int, default=None, help="Orders (full: 1,000,000).")
@click.option("--posts", type=int, default=None, help="Community posts (full: 1,000,000).")
@click.option(
    "--big-topic-posts", type=int, default=None, help="Posts in the 'Big thread' topic (20,000)."
)
@click.option("--responses", type=int, default=None, help="Survey responses (full: 1,000,000).")
@click.option("--feedback", type=int, default=None, help="Feedback items (full: 200,000).")
@click.option("--seed", type=int, default=2026, help="Random seed (the same seed, the same data).")
@click.option("--recompute/--no-recompute", default=True, help="Recompute customer value after.")
@click.option("--rollups/--no-rollups", default=True, help="Rebuild the dashboard rollups after.")
@with_appcontext
def seed_scale(
    small: bool,
    full: bool,
    customers: int | None,
    orders: int | None,
    posts: int | None,
    big_topic_posts: int | None,
    responses: int | None,
    feedback: int | None,
    seed: int,
    recompute: bool,
    rollups: bool,
) -> None:
    """Generate realistic customers, orders, community posts, survey responses and feedback
    in bulk, for benchmarks. Runs once per database (start from an empty one to redo it)."""
    import random

    from portal.community.scale import BIG_TOPIC_TITLE, generate_posts
    from portal.feedback.scale import generate_feedback
    from portal.orders.scale import already_seeded, generate_customers, generate_orders
    from portal.surveys.scale import generate_responses

    if small and full:
        raise click.UsageError("Choose --small or --full, not both.")
    preset = PRESETS["small" if small else "full"]
    # Counts not given follow the preset, in proportion to --customers when that is given.
    ratio = customers / preset[0] if customers is not None else 1.0
    customers = customers if customers is not None else preset[0]
    orders, posts, responses, feedback = (
        value if value is not None else round(default * ratio)
        for value, default in zip(
            (orders, posts, responses, feedback),
            (preset[1], preset[2], preset[4], preset[5]),
            strict=True,
        )
    )
    if big_topic_posts is not None:
        big = big_topic_posts
    else:
        big = preset[3] if ratio >= 1 else min(preset[3], posts // 5)
    if any(count < 0 for count in (customers, orders, posts, big, responses, feedback)):
        raise click.UsageError("Counts cannot be negative.")
    present = already_seeded()
    if present:
        raise click.ClickException(
            f"This database already has scale data ({present:,} generated accounts); "
            "seed-scale runs once per database. Start from an empty database to redo it."
        )
    rng = random.Random(seed)
    phases: list[tuple[str, int, float, float]] = []

    def phase(label: str, length: int, run: Any, rows: Any) -> Any:
        started = time.perf_counter()
        with click.progressbar(length=length, label=f"{label:<10}") as bar:
            result = run(bar.update)
        phases.append((label, rows(result), time.perf_counter() - started, _peak_mb()))
        return result

    population = phase(
        "customers",
        customers,
        lambda progress: generate_customers(customers=customers, rng=rng, progress=progress),
        lambda result: 2 * (result.count + len(result.all_agents)) + len(result.all_agents),
    )
    counts: dict[str, Any] = {}
    counts["orders"] = phase(
        "orders",
        orders,
        lambda progress: generate_orders(
            population=population, orders=orders, rng=rng, progress=progress
        ),
        lambda result: sum(result.values()),
    )
    counts["community"] = phase(
        "community",
        posts,
        lambda progress: generate_posts(
            population=population,
            posts=posts,
            big_topic_posts=big,
            rng=rng,
            progress=progress,
        ),
        lambda result: result["topics"] + result["posts"] + result["subscriptions"],
    )
    counts["surveys"] = phase(
        "surveys",
        responses,
        lambda progress: generate_responses(
            population=population, responses=responses, rng=rng, progress=progress
        ),
        lambda result: sum(result.values()),
    )
    counts["feedback"] = phase(
        "feedback",
        feedback,
        lambda progress: generate_feedback(
            population=population, items=feedback, rng=rng, progress=progress
        ),
        lambda result: result["items"] + result["messages"] + result["events"],
    )
    if recompute:
        from portal.orders.recompute import recompute_customer_values

        def run_recompute(progress: Any) -> int:
            count = recompute_customer_values()
            db.session.commit()
            progress(1)
            return count

        phase("value", 1, run_recompute, lambda count: count)
    if rollups:
        from portal.staff.rollups import rebuild_all

        def run_rollups(progress: Any) -> int:
            written = rebuild_all()
            db.session.commit()
            progress(1)
            return written

        phase("rollups", 1, run_rollups, lambda written: written)

    def run_analyze(progress: Any) -> int:
        # Fresh statistics, so the planner sees the tables' new sizes (a bulk load does not
        # wait for autovacuum; without them PostgreSQL plans searches as if tables were empty).
        # Whole-table statistics: sampled ones made SQLite take a post's state (one value in
        # a million rows) for as selective as its author.
        connection = db.session.connection()
        connection.exec_driver_sql("ANALYZE")
        db.session.commit()
        progress(1)
        return 0

    phase("analyze", 1, run_analyze, lambda _result: 0)

    orders_done, community, surveys, items = (
        counts["orders"],
        counts["community"],
        counts["surveys"],
        counts["feedback"],
    )
    click.echo(
        f"Created {population.count:,} customers, {orders_done['orders']:,} orders, "
        f"{community['posts']:,} posts in {community['topics']:,} topics, "
        f"{surveys['responses']:,} survey responses, {items['items']:,} feedback items "
        f"({items['breaches']:,} SLA breaches)."
    )
    if community["big_topic_id"]:
        click.echo(
            f"Big topic: id {community['big_topic_id']} ('{BIG_TOPIC_TITLE}', "
            f"{min(big, posts):,} posts)."
        )
    click.echo(f"{'phase':<10} {'rows':>12} {'seconds':>9} {'rows/s':>10} {'peak MB':>8}")
    total_rows = total_seconds = 0.0
    for label, rows, seconds, peak in phases:
        total_rows += rows
        total_seconds += seconds
        click.echo(
            f"{label:<10} {rows:>12,} {seconds:>9.1f} {rows / max(seconds, 1e-9):>10,.0f} "
            f"{peak:>8.0f}"
        )
    click.echo(
        f"{'total':<10} {int(total_rows):>12,} {total_seconds:>9.1f} "
        f"{total_rows / max(total_seconds, 1e-9):>10,.0f} {_peak_mb():>8.0f}"
    )
