"""What community pages show of rows changed elsewhere: member names, categories, rendering.

A topic page shows its authors' names and its category's name, a category's list its topics'
authors: rows a profile, an account deletion or a category edit change without touching the
topic's or the category's revision. Visitors must see such a change at once, both from the
kept pages and when they ask with the ETag of their copy.
"""

from __future__ import annotations

from sqlalchemy import select, update

from portal.accounts.models import User
from portal.accounts.services import delete_account
from portal.community import services
from portal.community.cli import rerender_posts
from portal.community.models import Category, DisplayRevision, Post, Topic
from portal.extensions import db
from tests.community.conftest import seed_topic, user_by_email
from tests.conftest import csrf_from, login
from tests.staff.conftest import count_queries


def _visit(app, url: str) -> tuple[str, str]:
    """A new visitor's page (the kept one when there is one): its ETag and HTML."""
    response = app.test_client().get(url)
    assert response.status_code == 200, url
    return response.headers["ETag"].strip('"'), response.get_data(as_text=True)


def _pages(topic_id: int) -> dict[str, str]:
    return {
        "topic": f"/community/t/{topic_id}-{services.slugify('Shown elsewhere')}",
        "category": "/community/c/general",
        "index": "/community",
    }


def _snapshot(app, urls: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {name: _visit(app, url) for name, url in urls.items()}


def _etags(app, urls: dict[str, str]) -> dict[str, str]:
    """The pages' ETags (their HTML differs by each visitor's CSRF token)."""
    return {name: etag for name, (etag, _html) in _snapshot(app, urls).items()}


def _assert_current(app, urls, before, names, text: str) -> None:
    """Pages ``names`` have a new ETag and show ``text``, kept or asked for conditionally."""
    for name in names:
        etag, html = _visit(app, urls[name])
        assert etag != before[name][0], name
        assert text in html, name
        # A visitor holding the old copy is not told it is current.
        again = app.test_client().get(urls[name], headers={"If-None-Match": f'"{before[name][0]}"'})
        assert again.status_code == 200 and text in again.get_data(as_text=True), name
        # And the new copy is answered with 304.
        same = app.test_client().get(urls[name], headers={"If-None-Match": f'"{etag}"'})
        assert same.status_code == 304, name


def _display_revision() -> int:
    return db.session.scalar(select(DisplayRevision.revision).where(DisplayRevision.id == 1))


def test_a_member_renaming_themselves_shows_at_once(app, make_user, board):
    make_user("renamer@example.com", name="Olga Oldname")
    with app.app_context():
        topic_id = seed_topic("renamer@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    assert "Olga Oldname" in before["topic"][1] and "Olga Oldname" in before["category"][1]
    member = app.test_client()
    # Signing in writes the member's row too (login times, counts): nothing any page shows.
    assert login(member, "renamer@example.com").status_code == 302
    assert _etags(app, urls) == {name: etag for name, (etag, _html) in before.items()}
    token = csrf_from(member.get("/account").get_data(as_text=True))
    saved = member.post(
        "/account",
        data={"csrf_token": token, "name": "Nora Newname", "timezone": "UTC", "locale": ""},
    )
    assert saved.status_code == 302
    _assert_current(app, urls, before, ("topic", "category"), "Nora Newname")
    for name in ("topic", "category"):
        assert "Olga Oldname" not in _visit(app, urls[name])[1]


def test_a_preferred_name_an_address_and_a_deleted_account_show_at_once(app, make_user, board):
    make_user("shown.member@example.com", name="")
    with app.app_context():
        topic_id = seed_topic("shown.member@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    assert "shown.member" in before["topic"][1]
    steps = [
        ("preferred_name", "Pia Preferred", "Pia Preferred"),
        ("preferred_name", None, "shown.member"),
        ("email", "other.address@example.com", "other.address"),
    ]
    for column, value, shown in steps:
        with app.app_context():
            setattr(_author(topic_id), column, value)
            db.session.commit()
        _assert_current(app, urls, before, ("topic", "category"), shown)
        before = _snapshot(app, urls)
    with app.app_context():
        delete_account(_author(topic_id))
        db.session.commit()
    _assert_current(app, urls, before, ("topic", "category"), "Deleted member")
    assert "other.address" not in _visit(app, urls["topic"])[1]


def _author(topic_id: int) -> User:
    return db.session.get(Topic, topic_id).author


def test_a_bulk_update_of_members_shows_at_once(app, make_user, board):
    make_user("bulk@example.com", name="Bea Before")
    with app.app_context():
        topic_id = seed_topic("bulk@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    with app.app_context():
        db.session.execute(
            update(User).where(User.email == "bulk@example.com").values(name="Alma After")
        )
        db.session.commit()
    _assert_current(app, urls, before, ("topic", "category"), "Alma After")


def test_a_category_renamed_or_described_anew_shows_at_once(app, make_user, board):
    make_user("cat@example.com")
    with app.app_context():
        topic_id = seed_topic("cat@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    with app.app_context():
        db.session.get(Category, board["general"]).name = "Questions and answers"
        db.session.commit()
    _assert_current(app, urls, before, ("topic", "category", "index"), "Questions and answers")
    before = _snapshot(app, urls)
    with app.app_context():
        db.session.get(Category, board["general"]).description = "Ask us anything at all"
        db.session.commit()
    _assert_current(app, urls, before, ("category", "index"), "Ask us anything at all")
    before = _snapshot(app, urls)
    with app.app_context():
        db.session.get(Category, board["general"]).slug = "questions"
        db.session.commit()
    urls["category"] = "/community/c/questions"
    _assert_current(app, urls, before, ("topic", "index"), 'href="/community/c/questions"')


def test_a_renamed_latest_topic_shows_on_the_index(app, make_user, board):
    make_user("retitle@example.com")
    with app.app_context():
        topic_id = seed_topic("retitle@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    with app.app_context():
        question = db.session.scalar(
            select(Post).where(Post.topic_id == topic_id, Post.position == 1)
        )
        services.edit_post(
            user_by_email("retitle@example.com"),
            question,
            question.body_markdown,
            "A clearer title",
        )
        db.session.commit()
    _assert_current(app, urls, before, ("index", "category"), "A clearer title")


def test_posts_rendered_again_show_at_once(app, make_user, board):
    make_user("render@example.com")
    with app.app_context():
        topic_id = seed_topic(
            "render@example.com", board["general"], title="Shown elsewhere", body="Now **bold**"
        )
        post = db.session.scalar(select(Post).where(Post.topic_id == topic_id))
        post.body_html, post.renderer_version = "<p>Rendered by old rules</p>", 0
        db.session.commit()
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    assert "Rendered by old rules" in before["topic"][1]
    with app.app_context():
        assert rerender_posts() == 1
        db.session.commit()
    _assert_current(app, urls, before, ("topic",), "<strong>bold</strong>")


def test_only_what_pages_show_counts_and_only_once_committed(app, make_user, board):
    """Changes no community page shows, and changes rolled back, keep every page's copy."""
    make_user("quiet@example.com", name="Quinn Quiet")
    with app.app_context():
        topic_id = seed_topic("quiet@example.com", board["general"], title="Shown elsewhere")
        start = _display_revision()
    urls = _pages(topic_id)
    before = _snapshot(app, urls)
    with app.app_context():
        user = user_by_email("quiet@example.com")
        user.phone, user.city, user.name = "+371 000", "Riga", "Quinn Quiet"
        db.session.commit()
        user_by_email("quiet@example.com").name = "Never Saved"
        db.session.flush()
        db.session.rollback()
        # The flag of the rolled-back change does not outlive its transaction.
        user_by_email("quiet@example.com").phone = "+371 111"
        db.session.commit()
        assert _display_revision() == start
    assert _etags(app, urls) == {name: etag for name, (etag, _html) in before.items()}
    with app.app_context():
        user_by_email("quiet@example.com").preferred_name = "Quinn"
        db.session.commit()
        # Once per commit, however many flushes and rows changed.
        user_by_email("quiet@example.com").name = "Quinn Q."
        db.session.flush()
        db.session.get(Category, board["general"]).name = "Generalities"
        db.session.commit()
        assert _display_revision() == start + 2


def test_kept_pages_still_read_one_statement(app, make_user, board):
    make_user("one@example.com", name="Una One")
    with app.app_context():
        topic_id = seed_topic("one@example.com", board["general"], title="Shown elsewhere")
    urls = _pages(topic_id)
    _snapshot(app, urls)
    for name in ("topic", "category"):
        with count_queries(app) as warm:
            _visit(app, urls[name])
        selects = [s for s in warm.statements if s.startswith("SELECT")]
        assert len(selects) == 1 and "community_display_revision" in selects[0], selects


def test_community_addresses_with_a_trailing_slash_reach_the_page(app, make_user, board):
    member = make_user("slash@example.com")
    with app.app_context():
        topic_id = seed_topic("slash@example.com", board["general"], title="Shown elsewhere")
    client = app.test_client()
    slug = services.slugify("Shown elsewhere")
    for address, target in (
        ("/community/", "/community"),
        ("/community/c/general/", "/community/c/general"),
        ("/community/c/general/?page=2", "/community/c/general?page=2"),
        (f"/community/t/{topic_id}-{slug}/", f"/community/t/{topic_id}-{slug}"),
        (f"/community/t/{topic_id}/", f"/community/t/{topic_id}"),
        (f"/community/u/{member}/", f"/community/u/{member}"),
        ("/community/search/?q=parcel", "/community/search?q=parcel"),
    ):
        response = client.get(address)
        assert response.status_code in (301, 308), address
        assert response.headers["Location"] == target, address
        assert client.get(address, follow_redirects=True).status_code == 200, address
    for missing in (
        "/community/nothing-here/",
        "/community/c/",
        "/community/t/x/",
        # Unknown addresses without the slash are not found at once, not sent to one with it.
        "/community/nothing-here",
        "/community/c/general/more",
    ):
        assert client.get(missing).status_code == 404, missing
    # The redirect follows the address's form alone: a staff-only topic and one that does not
    # exist are told apart by no one but the page itself (not found for visitors).
    with app.app_context():
        hidden = seed_topic("slash@example.com", board["staff"], title="Staff talk")
    for topic in (hidden, 999_999):
        response = client.get(f"/community/t/{topic}/")
        assert (response.status_code, response.headers["Location"]) == (
            308,
            f"/community/t/{topic}",
        )
        assert client.get(f"/community/t/{topic}/", follow_redirects=True).status_code == 404
    # Only reading is redirected (a form sent on would be lost): other methods are refused.
    for address in ("/community/", "/community/new/", f"/community/t/{topic_id}/reply/"):
        assert client.post(address).status_code == 405, address
    assert client.head("/community/c/general/").status_code == 308
