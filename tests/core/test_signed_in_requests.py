"""What signed-in pages keep between requests, and what they must not.

The user and its roles are read once per request in one statement; URLs, catalogs and
formatted money and dates are kept, each under everything it depends on. A role change, a
deactivation, a new ``fs_uniquifier``, another language or time zone show on the next request.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy import select

from portal.accounts.models import User
from portal.extensions import db
from tests.conftest import login


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _nav_links(html: str) -> list[str]:
    nav = html.split('id="main-nav"', 1)[1].split("</ul>", 1)[0]
    return re.findall(r'href="([^"]+)"', nav)


def test_a_granted_role_shows_the_staff_link_on_the_next_request_and_a_removed_one_hides_it(
    app, client, make_user
):
    make_user("grow@example.com")
    login(client, "grow@example.com")
    assert "/staff/" not in _nav_links(client.get("/orders").get_data(as_text=True))
    with app.app_context():
        datastore = app.extensions["security"].datastore
        datastore.add_role_to_user(_user("grow@example.com"), "agent")
        db.session.commit()
    page = client.get("/orders").get_data(as_text=True)
    assert "/staff/" in _nav_links(page)
    assert client.get("/staff/feedback").status_code == 200
    with app.app_context():
        datastore = app.extensions["security"].datastore
        datastore.remove_role_from_user(_user("grow@example.com"), "agent")
        db.session.commit()
    assert "/staff/" not in _nav_links(client.get("/orders").get_data(as_text=True))
    assert client.get("/staff/feedback").status_code == 403


def test_a_deactivated_account_or_a_new_uniquifier_signs_out_at_once(app, client, make_user):
    make_user("gone@example.com")
    login(client, "gone@example.com")
    assert client.get("/orders").status_code == 200
    with app.app_context():
        _user("gone@example.com").active = False
        db.session.commit()
    assert client.get("/orders").status_code == 302
    with app.app_context():
        _user("gone@example.com").active = True
        db.session.commit()
    # The session itself was left alone: the account works again as soon as it is active.
    assert client.get("/orders").status_code == 200
    with app.app_context():
        _user("gone@example.com").fs_uniquifier = "replaced-uniquifier"
        db.session.commit()
    response = client.get("/orders")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_each_language_gets_its_own_navigation_and_direction(app, client, make_user):
    make_user("words@example.com")
    login(client, "words@example.com")
    english = client.get("/orders").get_data(as_text=True)
    with app.app_context():
        _user("words@example.com").locale = "lv"
        db.session.commit()
    latvian = client.get("/orders").get_data(as_text=True)
    with app.app_context():
        _user("words@example.com").locale = "ar"
        db.session.commit()
    arabic = client.get("/orders").get_data(as_text=True)
    with app.test_request_context():
        from flask_babel import gettext

        labels = {}
        for code in ("en", "lv", "ar"):
            with force_locale(code):
                labels[code] = gettext("Orders")
    assert labels["lv"] != labels["en"] != labels["ar"]
    for page, code in ((english, "en"), (latvian, "lv"), (arabic, "ar")):
        assert f">{labels[code]}</a>" in page
        others = {labels[other] for other in labels if other != code}
        assert not any(f">{label}</a>" in page for label in others)
    assert 'dir="ltr"' in english and 'dir="ltr"' in latvian and 'dir="rtl"' in arabic
    assert 'value="ar" lang="ar" selected' in arabic
    assert 'value="ar" lang="ar" selected' not in latvian
    # The same links in every language.
    assert _nav_links(english) == _nav_links(latvian) == _nav_links(arabic)


def test_navigation_urls_follow_the_mount_point(client, make_user):
    make_user("mounted@example.com")
    login(client, "mounted@example.com")
    plain = client.get("/orders").get_data(as_text=True)
    assert "/orders" in _nav_links(plain)
    mounted = client.get("/orders", base_url="http://localhost/portal").get_data(as_text=True)
    assert "/portal/orders" in _nav_links(mounted)
    assert re.search(r'href="/portal/static/css/portal\.[0-9a-f]+\.css"', mounted)
    assert "/orders" in _nav_links(client.get("/orders").get_data(as_text=True))


def test_money_and_dates_are_formatted_per_language_and_time_zone(app):
    from flask_babel import refresh

    from portal.core.formatting import dateformat, datetimeformat, money

    late = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("en"):
            english = money(123456, "EUR"), dateformat(late, "short")
        with force_locale("lv"):
            latvian = money(123456, "EUR"), dateformat(late, "short")
        with force_locale("en"):
            assert (money(123456, "EUR"), dateformat(late, "short")) == english
        assert english[0] != latvian[0]
        assert english[1] != latvian[1]
        assert money(123456, "JPY") != money(123456, "EUR")
        utc = datetimeformat(late, "short")
        from flask import g

        g._flask_babel.babel_tzinfo = __import__("pytz").timezone("Europe/Riga")
        riga = datetimeformat(late, "short")
        assert riga != utc
        assert "3/2/26" in dateformat(late, "short")
        refresh()
        assert datetimeformat(late, "short") == utc


def test_the_user_and_its_roles_are_one_statement(count_queries, client, make_user):
    make_user("once@example.com", roles=("customer", "agent"))
    login(client, "once@example.com")
    client.get("/healthz")
    with count_queries() as statements:
        assert client.get("/healthz").status_code == 200
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1, statements
    assert "roles_users" in reads[0]
    # Both roles came with it: the staff link shows without another statement.
    with count_queries() as statements:
        page = client.get("/orders").get_data(as_text=True)
    assert "/staff/" in _nav_links(page)
    assert not any("FROM role" in s and "user.id" not in s for s in statements)


def _count(count_queries: Any, client: Any, path: str) -> list[str]:
    client.get(path)
    with count_queries() as statements:
        assert client.get(path).status_code == 200
    return [s for s in statements if not s.lstrip().upper().startswith(("BEGIN", "COMMIT"))]


def test_query_counts_of_the_signed_in_pages(count_queries, client, make_user):
    make_user("counted@example.com")
    login(client, "counted@example.com")
    # User with roles and unread count, orders, their items (only when there are orders).
    assert len(_count(count_queries, client, "/orders")) <= 3
    # User with roles and unread count, items with their orders.
    assert len(_count(count_queries, client, "/feedback")) <= 2
    # User with roles and unread count, and one per home block (orders, feedback, surveys,
    # community).
    assert len(_count(count_queries, client, "/")) <= 5
    assert len(_count(count_queries, client, "/account")) <= 3
