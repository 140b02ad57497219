"""The board's index: each category's counts and latest topic follow every way a topic leaves,
enters or changes in the category, for members and for visitors (kept page, ETag) alike."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from portal.community import services
from portal.community.models import Category, Post, Topic
from portal.extensions import db
from tests.community.conftest import count_queries, post_topic, seed_topic, user_by_email
from tests.conftest import csrf_from, login

ROW = re.compile(r"<tr>\s*<td><a [^>]*href=\"/community/c/(?P<slug>[^\"]+)\">.*?</tr>", re.S)
CELLS = re.compile(r'<td class="text-end">(\d+)</td>\s*<td class="text-end">(\d+)</td>')
LATEST = re.compile(r'<a href="/community/t/(\d+)">([^<]*)</a><br><time datetime="([^"]+)"')


@dataclass(frozen=True)
class Row:
    topics: int
    posts: int
    latest: tuple[int, str, str] | None  # topic id, title, time (to the second)

    @property
    def topic(self) -> int | None:
        return self.latest[0] if self.latest else None


def _rows(page: str) -> dict[str, Row]:
    rows = {}
    for match in ROW.finditer(page):
        cells = CELLS.search(match.group(0))
        assert cells, match.group(0)
        latest = LATEST.search(match.group(0))
        rows[match.group("slug")] = Row(
            int(cells.group(1)),
            int(cells.group(2)),
            (int(latest.group(1)), html.unescape(latest.group(2)), latest.group(3))
            if latest
            else None,
        )
    return rows


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _truth(slug: str) -> Row:
    """The row as the topics and posts themselves say it should be, counted here."""
    visible = (
        select(Post, Topic)
        .join(Topic, Topic.id == Post.topic_id)
        .join(Category, Category.id == Topic.category_id)
        .where(Category.slug == slug, Topic.state == "visible", Post.state == "visible")
    )
    rows = db.session.execute(visible).all()
    topics = {topic.id for _post, topic in rows}
    latest = max(rows, key=lambda row: (row[0].created_at, row[1].id), default=None)
    return Row(
        len(topics),
        len(rows),
        (latest[1].id, latest[1].title, _stamp(latest[0].created_at)) if latest else None,
    )


class Index:
    """The index as a visitor (a new one each time: the kept page) and as a member sees it."""

    def __init__(self, app: Any, member: Any) -> None:
        self.app = app
        self.member = member
        self.etag = self._visitor()[0]

    def _visitor(self, etag: str | None = None) -> tuple[str, str, int]:
        headers = {"If-None-Match": etag} if etag else {}
        response = self.app.test_client().get("/community", headers=headers)
        return (
            response.headers.get("ETag", ""),
            response.get_data(as_text=True),
            (response.status_code),
        )

    def check(self, step: str, *slugs: str) -> dict[str, Row]:
        """The index shows the truth for ``slugs`` to everyone; visitors' copies are renewed."""
        with self.app.app_context():
            truth = {slug: _truth(slug) for slug in slugs}
        etag, page, status = self._visitor()
        assert status == 200, step
        seen = _rows(page)
        for slug in slugs:
            assert seen[slug] == truth[slug], (step, slug, seen[slug], truth[slug])
        # A second visitor gets the kept copy: the same rows.
        assert _rows(self._visitor()[1]) == seen, step
        # A visitor holding the copy from before the change gets the new page, not a 304.
        assert etag != self.etag, step
        renewed = self._visitor(self.etag)
        assert renewed[2] == 200 and _rows(renewed[1]) == seen, step
        assert self._visitor(etag)[2] == 304, step
        self.etag = etag
        member_page = self.member.get("/community")
        assert member_page.status_code == 200, step
        member_rows = _rows(member_page.get_data(as_text=True))
        for slug in slugs:
            assert member_rows[slug] == truth[slug], (step, "member", slug)
        return seen


def _post_id(topic_id: int, position: int = 1) -> int:
    post_id = db.session.scalar(
        select(Post.id).where(Post.topic_id == topic_id, Post.position == position)
    )
    assert post_id is not None
    return int(post_id)


def _client(app: Any, email: str) -> Any:
    client = app.test_client()
    assert login(client, email).status_code == 302
    return client


def _moderation(moderator: Any, path: str, **data: Any) -> None:
    token = csrf_from(moderator.get("/staff/moderation").get_data(as_text=True))
    response = moderator.post(f"/staff/moderation/{path}", data={**data, "csrf_token": token})
    assert response.status_code == 302


def _moderate(moderator: Any, post_id: int, action: str) -> None:
    _moderation(moderator, f"post/{post_id}", action=action, reason="Checked")


def _move(moderator: Any, topic_id: int, category_id: int) -> None:
    _moderation(moderator, f"topic/{topic_id}/move", category=category_id, reason="Belongs there")


def _setup(app: Any, make_user: Any, board: dict[str, int]) -> dict[str, Any]:
    make_user("author@example.com", name="Aino Author")
    make_user("helper@example.com", name="Hugo Helper")
    make_user("mod@example.com", roles=("moderator",))
    with app.app_context():
        elsewhere = Category(slug="elsewhere", name="Elsewhere", description="", position=2)
        db.session.add(elsewhere)
        db.session.commit()
        ids = {
            "elsewhere": elsewhere.id,
            "oldest": seed_topic(
                "author@example.com", board["general"], title="Oldest question", hours_ago=9
            ),
            "older": seed_topic(
                "author@example.com",
                board["general"],
                title="Older question",
                replies=[("helper@example.com", "An early answer")],
                hours_ago=5,
            ),
            "newest": seed_topic(
                "author@example.com", board["general"], title="Newest question", hours_ago=1
            ),
        }
    return ids


def test_hiding_the_latest_topic_takes_it_off_the_index(app, make_user, board):
    ids = _setup(app, make_user, board)
    moderator = _client(app, "mod@example.com")
    index = Index(app, _client(app, "author@example.com"))
    with app.app_context():
        before = _truth("general")
    assert before.topic == ids["newest"]
    assert _rows(index._visitor()[1])["general"] == before
    with app.app_context():
        question = _post_id(ids["newest"])
    _moderate(moderator, question, "hide")
    rows = index.check("hide", "general")
    assert rows["general"].latest is not None
    assert rows["general"].latest[:2] == (ids["older"], "Older question")
    assert "Newest question" not in index._visitor()[1]
    _moderate(moderator, question, "restore")
    rows = index.check("restore", "general")
    assert rows["general"].topic == ids["newest"]


def test_every_way_a_topic_leaves_enters_or_changes_keeps_the_index_right(app, make_user, board):
    ids = _setup(app, make_user, board)
    moderator = _client(app, "mod@example.com")
    author = _client(app, "author@example.com")
    helper = _client(app, "helper@example.com")
    index = Index(app, author)
    public = ("general", "elsewhere")

    # A reply makes its topic the latest; hiding that reply gives the place back.
    page = helper.get(f"/community/t/{ids['older']}/reply").get_data(as_text=True)
    response = helper.post(
        f"/community/t/{ids['older']}/reply",
        data={"body": "A later answer", "csrf_token": csrf_from(page)},
    )
    assert response.status_code == 302
    assert index.check("reply", *public)["general"].topic == ids["older"]
    with app.app_context():
        reply_id = _post_id(ids["older"], 3)
    _moderate(moderator, reply_id, "hide")
    assert index.check("reply hidden", *public)["general"].topic == ids["newest"]
    with app.app_context():
        older = db.session.get(Topic, ids["older"])
        # The topic's own last activity goes back to its latest visible post too.
        assert older.last_post_at == db.session.get(Post, _post_id(ids["older"], 2)).created_at
        assert older.last_poster_id == user_by_email("helper@example.com").id

    # Moved away: the source names its next latest, the target the moved topic.
    _move(moderator, ids["newest"], ids["elsewhere"])
    rows = index.check("move", *public)
    assert rows["general"].topic == ids["older"]
    assert rows["elsewhere"].topic == ids["newest"]
    # And back again.
    _move(moderator, ids["newest"], board["general"])
    rows = index.check("move back", *public)
    assert rows["general"].topic == ids["newest"] and rows["elsewhere"].latest is None

    # Into a category visitors cannot read: the public row never links it.
    _move(moderator, ids["newest"], board["staff"])
    assert index.check("move to staff", *public)["general"].topic == ids["older"]

    # The latest topic's title edited by its author.
    with app.app_context():
        older_question = _post_id(ids["older"])
    edit = f"/community/p/{older_question}/edit"
    response = author.post(
        edit,
        data={
            "title": "Older question, <now> renamed",
            "body": "I ordered last week and see no tracking number.",
            "csrf_token": csrf_from(author.get(edit).get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    latest = index.check("title", *public)["general"].latest
    assert latest is not None and latest[1] == "Older question, <now> renamed"

    # Deleted by its author: the next one takes its place.
    token = csrf_from(
        author.get(f"/community/t/{ids['older']}", follow_redirects=True).get_data(as_text=True)
    )
    response = author.post(f"/community/p/{older_question}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert index.check("delete", *public)["general"].topic == ids["oldest"]

    # A topic waiting for approval is not on the index; approved, it is.
    make_user("newcomer@example.com")
    newcomer = _client(app, "newcomer@example.com")
    response = post_topic(newcomer, board["general"], "A newcomer asks", "Where is my order?")
    assert response.status_code == 302
    with app.app_context():
        waiting = db.session.scalar(select(Topic).where(Topic.title == "A newcomer asks"))
        assert waiting is not None and waiting.state == "pending"
        waiting_id, waiting_question = waiting.id, _post_id(waiting.id)
        assert _truth("general") == _rows(index._visitor()[1])["general"]
    _moderate(moderator, waiting_question, "approve")
    assert index.check("approve", *public)["general"].topic == waiting_id

    # Hidden by members' flags: off the index until restored.
    for name in ("f1", "f2", "f3"):
        make_user(f"{name}@example.com")
        with app.app_context():
            services.flag_post(
                user_by_email(f"{name}@example.com"), db.session.get(Post, waiting_question), "spam"
            )
            db.session.commit()
    assert index.check("flags", *public)["general"].topic == ids["oldest"]
    with app.app_context():
        assert db.session.get(Topic, waiting_id).state == "hidden"


def test_a_restored_topic_is_dated_by_its_last_reply(app, make_user, board):
    """A topic back from hiding shows when it was last answered, not when it was asked."""
    ids = _setup(app, make_user, board)
    moderator = _client(app, "mod@example.com")
    index = Index(app, _client(app, "author@example.com"))
    with app.app_context():
        question = _post_id(ids["older"])
        newest_question = _post_id(ids["newest"])
    _moderate(moderator, newest_question, "hide")
    index.check("hide newest", "general")
    _moderate(moderator, question, "hide")
    index.check("hide older", "general")
    _moderate(moderator, question, "restore")
    latest = index.check("restore older", "general")["general"].latest
    with app.app_context():
        answered = db.session.get(Post, _post_id(ids["older"], 2)).created_at
    assert latest == (ids["older"], "Older question", _stamp(answered))


def test_the_index_has_a_query_budget_for_visitors_and_members(app, make_user, board):
    ids = _setup(app, make_user, board)
    moderator = _client(app, "mod@example.com")
    member = _client(app, "helper@example.com")
    with app.app_context():
        for number in range(6):
            db.session.add(Category(slug=f"extra-{number}", name=f"Extra {number}", position=3))
        db.session.commit()
        question = _post_id(ids["newest"])
    counts = {}
    pages = {}
    for name, reader in (("visitor", app.test_client()), ("member", member)):
        with count_queries(app) as statements:
            response = reader.get("/community")
        assert response.status_code == 200
        counts[name], pages[name] = len(statements), response.get_data(as_text=True)
    _moderate(moderator, question, "hide")
    for name, reader in (("visitor after a hide", app.test_client()), ("member after", member)):
        with count_queries(app) as statements:
            response = reader.get("/community")
        assert response.status_code == 200
        counts[name], pages[name] = len(statements), response.get_data(as_text=True)
    # One statement reads the categories with everything the index shows of them, however
    # many there are; a member's user and roles besides.
    assert counts["visitor"] == counts["visitor after a hide"] == 1, counts
    assert counts["member"] == counts["member after"] <= 3, counts
    for page in pages.values():
        assert len(_rows(page)) == 8 and "Extra 5" in page and "Staff room" not in page


def test_the_latest_reply_when_many_topics_share_the_category(app, make_user, board):
    """The next latest topic is found among pinned and unpinned topics alike."""
    ids = _setup(app, make_user, board)
    moderator = _client(app, "mod@example.com")
    index = Index(app, _client(app, "author@example.com"))
    with app.app_context():
        oldest = db.session.get(Topic, ids["oldest"])
        oldest.is_pinned = True
        oldest.last_post_at = oldest.last_post_at + timedelta(hours=7)
        first = db.session.get(Post, _post_id(ids["oldest"]))
        first.created_at = oldest.last_post_at
        db.session.commit()
        question = _post_id(ids["newest"])
    _moderate(moderator, question, "hide")
    assert index.check("pinned next", "general")["general"].topic == ids["oldest"]


def test_a_board_counted_by_an_older_version_is_counted_again(app, make_user, board):
    """`flask portal recount-community` corrects what the index shows, once."""
    ids = _setup(app, make_user, board)
    member = _client(app, "author@example.com")
    with app.app_context():
        # As an older version left it: the latest topic hidden, but still named and counted.
        question = db.session.get(Post, _post_id(ids["newest"]))
        question.state = "hidden"
        question.topic.state = "hidden"
        elsewhere = db.session.get(Category, ids["elsewhere"])
        elsewhere.topic_count, elsewhere.post_count = 4, 7
        db.session.commit()
    index = Index(app, member)
    stale = _rows(index._visitor()[1])
    assert stale["general"].topic == ids["newest"] and stale["elsewhere"].topics == 4
    result = app.test_cli_runner().invoke(args=["portal", "recount-community"])
    assert result.exit_code == 0 and "2 categories corrected" in result.output, result.output
    rows = index.check("recount", "general", "elsewhere")
    assert rows["general"].topic == ids["older"] and rows["elsewhere"] == Row(0, 0, None)
    again = app.test_cli_runner().invoke(args=["portal", "recount-community"])
    assert "0 categories corrected" in again.output
