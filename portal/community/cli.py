"""Community commands: `flask portal rerender-posts` applies the current Markdown and
sanitising rules, `flask portal recount-community` the categories' counters again."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from portal.core.cli import portal_cli
from portal.extensions import db


def rerender_posts(*, everything: bool = False, batch_size: int = 500) -> int:
    """Re-render posts stored with an older renderer version (or all). Returns the count."""
    from portal.community import markup
    from portal.community.models import Post

    done = 0
    last_id = 0
    while True:
        statement = select(Post).where(Post.id > last_id).order_by(Post.id).limit(batch_size)
        if not everything:
            statement = statement.where(Post.renderer_version != markup.RENDERER_VERSION)
        posts = list(db.session.scalars(statement))
        if not posts:
            return done
        for post in posts:
            post.body_html = markup.render(post.body_markdown)
            post.renderer_version = markup.RENDERER_VERSION
        last_id = posts[-1].id
        done += len(posts)
        db.session.flush()


@portal_cli.command("rerender-posts")
@click.option("--all", "everything", is_flag=True, help="Also posts already current.")
@with_appcontext
def rerender_posts_command(everything: bool) -> None:
    """Render stored community posts again with the current rules."""
    count = rerender_posts(everything=everything)
    db.session.commit()
    click.echo(f"{count} posts rendered again.")


def recount_categories() -> int:
    """Count each category's listed topics and their posts and read its latest topic again
    from the topics, as the services keep them; returns how many categories changed.

    For a board whose counters an older version kept, or someone changed by hand.
    """
    from sqlalchemy import func

    from portal.community import services
    from portal.community.models import Category, Topic

    columns = ("topic_count", "post_count", "last_post_at", "last_topic_id", "last_topic_title")
    changed = 0
    for category_id in db.session.scalars(select(Category.id).order_by(Category.id)).all():
        category = db.session.get(Category, category_id)
        if category is None:
            continue
        services.lock_for_update(None, category)
        before = [getattr(category, name) for name in columns]
        topics, posts = db.session.execute(
            select(func.count(Topic.id), func.coalesce(func.sum(1 + Topic.reply_count), 0)).where(
                Topic.category_id == category.id, Topic.state == "visible"
            )
        ).one()
        category.topic_count, category.post_count = topics, posts
        services.refresh_latest(category)
        if [getattr(category, name) for name in columns] != before:
            services.touch_category(category)
            changed += 1
        db.session.flush()
    return changed


@portal_cli.command("recount-community")
@with_appcontext
def recount_community_command() -> None:
    """Count the community's categories again and name each one's latest topic."""
    changed = recount_categories()
    db.session.commit()
    click.echo(f"{changed} categories corrected.")
