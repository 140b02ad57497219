"""/community: categories, topics, posts, search and public profiles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import HTTPException
from werkzeug.http import quote_etag

from portal.community import markup, policies, queries, services
from portal.community import search as search_service
from portal.community.forms import (
    ActionForm,
    EditForm,
    FlagForm,
    ReplyForm,
    SubscriptionForm,
    TopicForm,
)
from portal.community.models import Category, Post, Topic
from portal.core import pagecache
from portal.core.auth import signed_in
from portal.core.db import separate_write
from portal.extensions import db, limiter

Loaded = TypeVar("Loaded")

bp = Blueprint("community", __name__, url_prefix="/community")

# A backstop behind the rules in services.check_can_post, which give the friendly message.
POSTING_LIMIT = "20 per minute;120 per hour"


def _posting_key() -> str:
    return f"community-post:{current_user.get_id() or request.remote_addr}"


posting_limit = limiter.limit(POSTING_LIMIT, methods=["POST"], key_func=_posting_key)


# --- Conditional requests -------------------------------------------------------------------


def _reader_stamp(
    signed_in: Callable[[], Loaded], public: Callable[[], Any]
) -> tuple[Any, Loaded | None, int | None]:
    """What a page's ETag is made of: (stamp, loaded object, display revision).

    A signed-in reader's page is built from the object, loaded (403/404) once; a visitor's
    from a few columns (404 when not public) and the display revision, the object being read
    only if the page is rendered.
    """
    if current_user.is_authenticated:
        loaded = signed_in()
        return loaded, loaded, None
    if (stamp := public()) is None:
        abort(404)
    return stamp, None, stamp.display_revision


def _etag_for(*parts: Any) -> str:
    raw = "|".join(str(part) for part in (*parts, get_locale()))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _not_modified(etag: str) -> Response | None:
    """Anonymous readers get 304 when their copy is current; signed-in pages are personal."""
    if current_user.is_authenticated or etag not in request.if_none_match:
        return None
    response = Response(status=304)
    response.set_etag(etag)
    return response


def _public(body: str, etag: str) -> Response:
    if current_user.is_authenticated:
        return Response(body)
    # The headers as plain values: set_etag() and the vary set parse and serialise them again.
    return Response(
        body,
        headers={
            "ETag": quote_etag(etag),
            "Cache-Control": "no-cache",
            "Vary": "Cookie, Accept-Language",
        },
    )


# --- Loaders ---------------------------------------------------------------------------------


def _category_or_404(slug: str) -> Category:
    category = queries.category_by_slug(slug)
    if category is None or not policies.can_view_category(current_user, category):
        abort(404)
    return category


def _topic_or_404(topic_id: int) -> Topic:
    topic = queries.topic_with_category(topic_id)
    if topic is None or not policies.can_view_topic(current_user, topic):
        abort(404)
    return topic


def _post_or_404(post_id: int) -> Post:
    post = queries.post_with_topic(post_id)
    if (
        post is None
        or not policies.can_view_topic(current_user, post.topic)
        or not policies.can_view_post(current_user, post)
    ):
        abort(404)
    return post


# --- Reading ---------------------------------------------------------------------------------


@bp.get("")
def index() -> ResponseReturnValue:
    categories = services.visible_categories(current_user)
    # Everything the page shows of each category, read with it (in the page's order).
    etag = _etag_for(
        "index",
        *(
            (
                c.id,
                c.slug,
                c.name,
                c.description,
                c.staff_only,
                c.topic_count,
                c.post_count,
                c.last_post_at,
                c.last_topic_id,
                c.last_topic_title,
            )
            for c in categories
        ),
    )
    if (cached := _not_modified(etag)) is not None:
        return cached
    body = pagecache.page(
        etag, lambda: render_template("community/index.html", categories=categories)
    )
    return _public(body, etag)


@bp.get("/c/<slug>")
def category(slug: str) -> ResponseReturnValue:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    # Visitors' lists are checked (304, kept page) against the category's columns and the
    # display revision alone: its revision changes with every change to one of its topics,
    # the display revision with its topics' authors' names. The topics, and the category as
    # an object, are read only to render. Signed-in readers' pages are neither kept nor
    # answered with 304: their ETag needs no display revision.
    stamp, category, shown = _reader_stamp(
        lambda: _category_or_404(slug), lambda: queries.public_category_stamp(slug)
    )
    etag = _etag_for(
        "category", stamp.id, stamp.revision, stamp.name, stamp.description, shown, page
    )
    if (cached := _not_modified(etag)) is not None:
        return cached

    def render() -> str:
        shown = category or _category_or_404(slug)
        topics, has_next = queries.category_topics(shown, page)
        return render_template(
            "community/category.html",
            category=shown,
            topics=topics,
            page=page,
            has_next=has_next,
        )

    return _public(pagecache.page(etag, render), etag)


@bp.get("/t/<int:topic_id>")
@bp.get("/t/<int:topic_id>-<slug>")
def topic(topic_id: int, slug: str | None = None) -> ResponseReturnValue:
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    # Visitors' pages are checked (redirect, 304, kept page) against the topic's columns and
    # the display revision (its authors' names, its category's) alone; the topic is read as
    # an object only to render.
    stamp, loaded, shown = _reader_stamp(
        lambda: _topic_or_404(topic_id), lambda: queries.public_topic_stamp(topic_id)
    )
    if slug != stamp.slug:
        return redirect(
            url_for(
                "community.topic",
                topic_id=stamp.id,
                slug=stamp.slug,
                page=page if page > 1 else None,
            ),
            301,
        )
    etag = _etag_for("topic", stamp.id, stamp.revision, shown, page)
    if (cached := _not_modified(etag)) is not None:
        return cached
    if page > queries.page_count(stamp):
        abort(404)

    def render() -> str:
        topic = loaded or _topic_or_404(topic_id)
        view = queries.topic_page(topic, page, current_user)
        context: dict[str, Any] = {"topic": topic, "view": view, "action_form": ActionForm()}
        if current_user.is_authenticated:
            context["subscription"] = services.subscription(current_user.id, topic.id)
            context["subscription_form"] = SubscriptionForm(
                level=context["subscription"].level if context["subscription"] else "none"
            )
            context["suspension"] = services.active_suspension(current_user.id)
            context["reply_form"] = ReplyForm()
            if context["subscription"] is not None and context["subscription"].mailed_since_visit:
                with separate_write(db.session):
                    services.mark_visited(current_user.id, topic)
        if policies.is_moderator(current_user):
            from portal.community.forms import ModerationForm, MoveForm

            move_form = MoveForm(category=topic.category_id)
            move_form.category.choices = [
                (c.id, c.name) for c in services.visible_categories(current_user)
            ]
            context["moderation_form"] = ModerationForm()
            context["move_form"] = move_form
            context["complaints_available"] = services.complaints_available()
        return render_template("community/topic.html", **context)

    return _public(pagecache.page(etag, render), etag)


@bp.get("/")
@bp.get("/<path:address>/", strict_slashes=False)
def trailing_slash(address: str = "") -> ResponseReturnValue:
    """A community address typed or linked with a trailing slash: the page without it.

    Only the board's own pages are redirected, with their query string, by the form of
    their address alone (the page checks who may read it); any other address is not found
    at once, as before (without ``strict_slashes=False`` routing would first send one
    without the slash to this rule, with one).
    """
    path = f"{bp.url_prefix}/{address}" if address else str(bp.url_prefix)
    try:
        endpoint, _args = current_app.url_map.bind("").match(path, method="GET")
    except HTTPException:
        abort(404)
    if not endpoint.startswith(f"{bp.name}.") or endpoint == request.endpoint:
        abort(404)
    query = request.query_string.decode("latin-1")
    return redirect(request.script_root + path + (f"?{query}" if query else ""), 308)


@bp.get("/u/<int:user_id>")
def profile(user_id: int) -> ResponseReturnValue:
    member = queries.member(user_id)
    if member is None:
        abort(404)
    stats = queries.member_stats(member, current_user)
    return render_template("community/profile.html", member=member, **stats)


@bp.get("/search")
def search() -> ResponseReturnValue:
    query = (request.args.get("q") or "").strip()[:200]
    categories = services.visible_categories(current_user)
    allowed = [c.id for c in categories]
    chosen = request.args.get("category", type=int)
    ids = [chosen] if chosen in allowed else allowed
    hits, fallback = search_service.search(query, category_ids=ids) if query else ([], False)
    return render_template(
        "community/search.html",
        query=query,
        hits=hits,
        fallback=fallback,
        categories=categories,
        chosen=chosen if chosen in allowed else None,
    )


# --- Writing ---------------------------------------------------------------------------------


def _refused(form: Any, error: services.PostingRefused) -> None:
    form.form_errors.append(str(error.message))


@bp.route("/new", methods=["GET", "POST"])
@signed_in
@posting_limit
def new_topic() -> ResponseReturnValue:
    categories = services.visible_categories(current_user)
    form = TopicForm()
    form.category.choices = [(str(c.id), c.name) for c in categories]
    if request.method == "GET" and request.args.get("category"):
        chosen = next((c for c in categories if c.slug == request.args["category"]), None)
        form.category.data = chosen.id if chosen else None
    status = 200
    if form.validate_on_submit():
        category = next((c for c in categories if c.id == form.category.data), None)
        if category is None:
            form.category.errors = [_("Choose a category.")]
            status = 422
        else:
            try:
                topic = services.create_topic(
                    current_user._get_current_object(), category, form.title.data, form.body.data
                )
            except services.PostingRefused as error:
                _refused(form, error)
                status = 429
            else:
                if topic.state == "pending":
                    flash(_("Thank you! Your first post waits for a moderator's approval."), "info")
                return redirect(url_for("community.topic", topic_id=topic.id, slug=topic.slug))
    elif form.errors:
        status = 422
    return render_template(
        "community/new_topic.html",
        form=form,
        suspension=services.active_suspension(current_user.id),
    ), status


@bp.route("/t/<int:topic_id>/reply", methods=["GET", "POST"])
@signed_in
@posting_limit
def reply(topic_id: int) -> ResponseReturnValue:
    topic = _topic_or_404(topic_id)
    if not policies.can_reply(current_user, topic):
        abort(403)
    form = ReplyForm()
    status = 200
    quote_id = request.args.get("quote", 0, type=int)
    if request.method == "GET" and quote_id:
        quoted = _post_or_404(quote_id)
        if quoted.topic_id != topic.id or quoted.state != "visible":
            abort(404)
        form.body.data = markup.quote(quoted.author.display_name, quoted.body_markdown)
    if form.validate_on_submit():
        try:
            post = services.reply(current_user._get_current_object(), topic, form.body.data)
        except services.PostingRefused as error:
            _refused(form, error)
            status = 429
        else:
            if post.state == "pending":
                flash(_("Thank you! Your first post waits for a moderator's approval."), "info")
            return redirect(services.post_url(post))
    elif form.errors:
        status = 422
    return render_template(
        "community/reply.html",
        form=form,
        topic=topic,
        suspension=services.active_suspension(current_user.id),
    ), status


@bp.route("/p/<int:post_id>/edit", methods=["GET", "POST"])
@signed_in
@posting_limit
def edit(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_edit(current_user, post):
        abort(403)
    form = EditForm(obj=None if request.method == "POST" else post)
    if request.method == "GET":
        form.body.data = post.body_markdown
        form.title.data = post.topic.title if post.position == 1 else None
    status = 200
    if form.validate_on_submit():
        try:
            services.edit_post(
                current_user._get_current_object(),
                post,
                form.body.data,
                form.title.data if post.position == 1 else None,
            )
        except services.PostingRefused as error:
            _refused(form, error)
            status = 429
        else:
            flash(_("Your changes have been saved."), "success")
            return redirect(services.post_url(post))
    elif form.errors:
        status = 422
    return render_template("community/edit.html", form=form, post=post), status


@bp.get("/p/<int:post_id>/revisions")
@signed_in
def revisions(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_see_revisions(current_user, post):
        abort(404)
    return render_template(
        "community/revisions.html", post=post, revisions=services.revisions(post)
    )


@bp.post("/p/<int:post_id>/delete")
@signed_in
def delete(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_delete(current_user, post) or not ActionForm().validate_on_submit():
        abort(403)
    services.delete_own_post(current_user._get_current_object(), post)
    flash(_("Your post has been deleted."), "info")
    return redirect(services.topic_url(post.topic))


@bp.post("/p/<int:post_id>/vote")
@signed_in
def vote(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_vote(current_user, post) or not ActionForm().validate_on_submit():
        abort(403)
    user = current_user._get_current_object()
    if request.form.get("undo"):
        services.unvote(user, post)
    else:
        services.vote(user, post)
    return redirect(services.post_url(post))


@bp.post("/p/<int:post_id>/accept")
@signed_in
def accept(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_accept(current_user, post.topic) or not ActionForm().validate_on_submit():
        abort(403)
    if post.position == 1 or post.state != "visible":
        abort(400)
    undo = bool(request.form.get("undo"))
    services.accept_answer(post.topic, None if undo else post)
    return redirect(services.post_url(post))


@bp.post("/p/<int:post_id>/official")
@signed_in
def official(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.is_staff(current_user) or not ActionForm().validate_on_submit():
        abort(403)
    services.mark_official(post, not request.form.get("undo"))
    return redirect(services.post_url(post))


@bp.route("/p/<int:post_id>/flag", methods=["GET", "POST"])
@signed_in
def flag(post_id: int) -> ResponseReturnValue:
    post = _post_or_404(post_id)
    if not policies.can_flag(current_user, post):
        abort(403)
    form = FlagForm()
    if form.validate_on_submit():
        services.flag_post(
            current_user._get_current_object(), post, form.reason.data, form.note.data or None
        )
        flash(_("Thank you. Moderators will look at this post."), "info")
        return redirect(services.topic_url(post.topic))
    return render_template("community/flag.html", form=form, post=post), (
        422 if form.errors else 200
    )


@bp.post("/t/<int:topic_id>/subscription")
@signed_in
def subscription(topic_id: int) -> ResponseReturnValue:
    topic = _topic_or_404(topic_id)
    form = SubscriptionForm()
    if not form.validate_on_submit():
        abort(400)
    if form.level.data == "none":
        services.unsubscribe(current_user.id, topic)
    else:
        services.subscribe(current_user.id, topic, form.level.data)
    flash(_("Your notification setting for this topic has been saved."), "success")
    return redirect(services.topic_url(topic))


@bp.context_processor
def _policies() -> dict[str, Any]:
    return {"policies": policies, "post_url": services.post_url}


@bp.app_context_processor
def _home_block_data() -> dict[str, Any]:
    def my_community_topics() -> list[Topic]:
        if not current_user.is_authenticated:
            return []
        return queries.my_recent_topics(current_user.id)

    return {"my_community_topics": my_community_topics}
