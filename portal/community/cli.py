"""`flask portal rerender-posts`: apply the current Markdown and sanitising rules."""

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
