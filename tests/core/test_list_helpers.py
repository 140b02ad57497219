"""The helpers of list pages' rows give exactly what the per-row template calls gave: links
(``url_maker`` and ``url_for``), labels (``resolved_labels`` and lazy strings), money and dates
(``ViewerFormats`` and the filters)."""

from __future__ import annotations

import pytest
from flask import url_for

from portal.core.formatting import ViewerFormats, dateformat, datetimeformat, money
from portal.core.i18n import resolved_labels
from portal.core.nav import url_maker

VALUES = ["SO-1", "A B?#&ü", "100%", "a/b", "é€😀", "", " ", "<x>\"'"]


@pytest.mark.parametrize("script_root", ["", "/portal", "/mounted app"])
@pytest.mark.parametrize(
    ("endpoint", "name"),
    [("orders.order_detail", "number"), ("feedback.detail", "reference")],
)
def test_same_url_as_url_for_at_any_mount_point(app, script_root, endpoint, name):
    for value in VALUES:
        with app.test_request_context("/", environ_base={"SCRIPT_NAME": script_root}):
            assert url_maker(endpoint, name)(value) == url_for(endpoint, **{name: value})


def test_typed_argument_goes_through_its_converter(app):
    with app.test_request_context("/"):
        make = url_maker("staff.customer_detail", "user_id")
        assert make(42) == url_for("staff.customer_detail", user_id=42) == "/staff/customers/42"
        with pytest.raises(ValueError):
            make("not a number")


def test_endpoint_with_several_rules_is_left_to_url_for(app):
    with app.test_request_context("/"):
        make = url_maker("community.topic", "topic_id")
        assert make(7) == url_for("community.topic", topic_id=7)


def test_labels_translate_like_lazy_strings_and_stay_markup(app):
    from flask_babel import force_locale
    from flask_babel import lazy_gettext as _l
    from markupsafe import Markup, escape

    lazy = {"shipped": _l("Shipped"), "raw": _l("Fish & <chips>")}
    with app.test_request_context("/"), force_locale("lv"):
        labels = resolved_labels(lazy)
        assert labels["shipped"] == str(lazy["shipped"]) != "Shipped"
        assert escape(labels["shipped"]) == escape(lazy["shipped"])
        # A template shows a lazy string unescaped (its ``__html__``); so does the label.
        assert escape(labels["raw"]) == escape(lazy["raw"]) == Markup("Fish & <chips>")
        assert labels["unknown"] == ""


def test_viewer_formats_match_the_filters(app):
    from datetime import UTC, date, datetime

    from flask_babel import force_locale

    moment = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    for locale in ("en", "lv", "ar"):
        with app.test_request_context("/"), force_locale(locale):
            formats = ViewerFormats()
            assert formats.money(123456, "EUR") == money(123456, "EUR")
            assert formats.money(None, "JPY") == money(None, "JPY")
            assert formats.date(moment, "medium") == dateformat(moment, "medium")
            assert formats.date(date(2026, 3, 1)) == dateformat(date(2026, 3, 1))
            assert formats.datetime(moment, "short") == datetimeformat(moment, "short")


@pytest.mark.parametrize("autoescape", [True, False])
def test_template_gettext_matches_jinjas_newstyle_gettext(app, autoescape):
    """The direct ``_``/``gettext``/``ngettext`` give what Jinja's own newstyle ones give:
    translated, markup under autoescape, always formatted (``%%`` becomes ``%``), the
    variables escaped."""
    from flask_babel import force_locale
    from jinja2.ext import _make_new_gettext, _make_new_ngettext

    from portal.core.i18n import _request_translations

    env = app.jinja_env.overlay(autoescape=autoescape)
    jinja_gettext = _make_new_gettext(lambda s: _request_translations().ugettext(s))
    jinja_ngettext = _make_new_ngettext(lambda s, p, n: _request_translations().ungettext(s, p, n))
    source = (
        '{{ _("My orders") }}|{{ gettext("100%% <b>") }}|{{ _("Hi %(name)s", name="<i>") }}|'
        '{{ ngettext("and %(num)d more item", "and %(num)d more items", 3) }}|'
        "{% trans %}Status{% endtrans %}"
    )
    for language in ("en", "lv"):
        with app.test_request_context("/"), force_locale(language):
            ours = env.from_string(source).render()
            theirs = env.from_string(source).render(
                _=jinja_gettext, gettext=jinja_gettext, ngettext=jinja_ngettext
            )
            assert ours == theirs
            if language == "lv":
                assert "Mani pasūtījumi" in ours
