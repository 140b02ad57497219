"""Follow-up mail templates that managers edit: thank-you, birthday and anniversary greetings.

Each occasion has a default in files (``mail/greetings/<kind>.{txt,html}``), translated through
the catalogs. A manager can replace it per language with a subject, a text body and an optional
HTML body. Edited templates are Jinja2 source run in a sandbox:

* the context holds only plain values (strings and numbers) named in :data:`VARIABLES`, never
  the user or order objects, and the environment has no globals (no ``range``, ``cycler``...),
  so there is nothing to reach the configuration or Python internals through;
* :class:`Sandbox` refuses unsafe attributes (``__class__``...) and huge repetitions;
* a template naming a variable that is not offered is refused when it is saved;
* HTML is autoescaped, and what the manager wrote as HTML is cleaned with nh3; left empty, the
  HTML body is made from the text (escaped, paragraphs, links).
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import nh3
from flask import render_template
from flask_babel import force_locale, gettext, ngettext
from flask_babel import lazy_gettext as _l
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape
from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.db import UTCDateTime, utcnow
from portal.extensions import db

KINDS = ("thank_you", "birthday", "anniversary")
LOCALES = ("en", "lv", "pl", "ru", "zh_Hans", "ar")

KIND_LABELS = {
    "thank_you": _l("Thank-you after delivery"),
    "birthday": _l("Birthday greeting"),
    "anniversary": _l("Anniversary of the first order"),
}

#: The variables each template may use, with what they hold.
VARIABLES: dict[str, dict[str, Any]] = {
    "thank_you": {
        "name": _l("The customer's name"),
        "order_number": _l("The order's number"),
        "orders_url": _l("The link to the customer's orders"),
    },
    "birthday": {
        "name": _l("The customer's name"),
        "coupon": _l("The birthday coupon code (may be empty)"),
    },
    "anniversary": {
        "name": _l("The customer's name"),
        "years": _l("Whole years since the first order"),
    },
}

#: Sample values for the preview.
SAMPLES: dict[str, dict[str, Any]] = {
    "thank_you": {
        "name": "Anna",
        "order_number": "PO-10042",
        "orders_url": "https://portal.example.com/orders",
    },
    "birthday": {"name": "Anna", "coupon": "BDAY-3F9A1C"},
    "anniversary": {"name": "Anna", "years": 2},
}

MAX_SOURCE = 20_000
MAX_OUTPUT = 50_000


class MailTemplate(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "mail_template"
    __table_args__ = (UniqueConstraint("kind", "locale", name="uq_mail_template_kind_locale"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(255))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    updated_by = relationship("User", foreign_keys=[updated_by_id])


# --- The sandbox -----------------------------------------------------------------------------


class Sandbox(SandboxedEnvironment):
    """No globals, strict undefined, and no repetition that builds huge strings."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, autoescape: bool) -> None:
        super().__init__(autoescape=autoescape, undefined=StrictUndefined, loader=None)
        self.globals.clear()

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 100:
                raise SecurityError("the exponent is too large")
            return operator.pow(left, right)
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(sequence, str | list | tuple)
                and isinstance(times, int)
                and len(sequence) * times > MAX_OUTPUT
            ):
                raise SecurityError("the repetition is too long")
        return operator.mul(left, right)


TEXT_ENV = Sandbox(autoescape=False)
HTML_ENV = Sandbox(autoescape=True)


class TemplateProblem(ValueError):
    """A template that cannot be used; the message is shown next to its field."""


def check_source(source: str, kind: str, *, html: bool = False) -> None:
    """Parse ``source`` and refuse syntax errors and variables the occasion does not offer."""
    env = HTML_ENV if html else TEXT_ENV
    if len(source) > MAX_SOURCE:
        raise TemplateProblem(gettext("The template is too long."))
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateProblem(
            gettext("Line %(line)s: %(error)s", line=exc.lineno, error=exc.message or "")
        ) from exc
    unknown = sorted(meta.find_undeclared_variables(tree) - set(VARIABLES[kind]))
    if unknown:
        raise TemplateProblem(
            gettext(
                "Unknown variable: %(names)s. Available: %(available)s.",
                names=", ".join(unknown),
                available=", ".join(VARIABLES[kind]),
            )
        )
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        name = node.attr if isinstance(node, nodes.Getattr) else getattr(node, "arg", None)
        name = getattr(name, "value", name)
        if isinstance(name, str) and name.startswith("_"):
            raise TemplateProblem(gettext("Not allowed in a template: %(error)s", error=name))
    if any(
        True
        for _node in tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))
    ):
        raise TemplateProblem(gettext("Templates cannot include or extend other templates."))


def render_source(source: str, context: dict[str, Any], *, html: bool = False) -> str:
    env = HTML_ENV if html else TEXT_ENV
    try:
        output = env.from_string(source).render(**context)
    except SecurityError as exc:
        raise TemplateProblem(gettext("Not allowed in a template: %(error)s", error=exc)) from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise TemplateProblem(
            gettext("The template cannot be rendered: %(error)s", error=exc)
        ) from exc
    if len(output) > MAX_OUTPUT:
        raise TemplateProblem(gettext("The rendered text is too long."))
    return output


_URL = re.compile(r"https?://[^\s<>\"']+")


def html_from_text(text: str) -> Markup:
    """Escaped paragraphs (blank lines) and line breaks, with links made clickable."""
    paragraphs = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = []
        for line in block.splitlines():
            parts, last = [], 0
            for match in _URL.finditer(line):
                parts.append(escape(line[last : match.start()]))
                url = escape(match.group(0))
                parts.append(Markup('<a href="{0}">{0}</a>').format(url))
                last = match.end()
            parts.append(escape(line[last:]))
            lines.append(Markup("").join(parts))
        paragraphs.append(Markup("<p>") + Markup("<br>\n").join(lines) + Markup("</p>"))
    return Markup("\n").join(paragraphs)


def clean_html(html: str) -> Markup:
    """What a manager wrote as HTML, without scripts, handlers or styles."""
    return Markup(nh3.clean(html, link_rel="noopener noreferrer"))  # noqa: S704 - cleaned


@dataclass
class Rendered:
    subject: str
    text: str
    html_body: Markup  # the part inside the mail layout


def _plain(value: Any) -> str | int:
    """Only strings and numbers reach a template, never objects."""
    if value is None:
        return ""
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def render(
    kind: str, subject: str, body_text: str, body_html: str | None, context: dict[str, Any]
) -> Rendered:
    values = {name: _plain(context.get(name)) for name in VARIABLES[kind]}
    rendered_subject = " ".join(render_source(subject, values).split())[:255]
    text = render_source(body_text, values)
    html = (
        clean_html(render_source(body_html, values, html=True))
        if body_html and body_html.strip()
        else html_from_text(text)
    )
    return Rendered(rendered_subject, text, html)


# --- Stored templates and their defaults ----------------------------------------------------


def stored(kind: str, locale: str) -> MailTemplate | None:
    return db.session.scalar(
        select(MailTemplate).where(MailTemplate.kind == kind, MailTemplate.locale == locale)
    )


def all_stored() -> dict[tuple[str, str], MailTemplate]:
    return {(t.kind, t.locale): t for t in db.session.scalars(select(MailTemplate))}


def save(
    kind: str, locale: str, subject: str, body_text: str, body_html: str | None, editor_id: int
) -> MailTemplate:
    """Store a manager's edit of one mail in one language (checked by the form), audited."""
    from portal.core import audit

    template = stored(kind, locale)
    if template is None:
        template = MailTemplate(kind=kind, locale=locale)
        db.session.add(template)
    template.subject = subject
    template.body_text = body_text
    template.body_html = (body_html or "").strip() or None
    template.updated_by_id = editor_id
    audit.record(
        "mail_template.edit",
        object_type="mail_template",
        object_id=f"{kind}:{locale}",
        detail={"subject": subject[:255]},
    )
    return template


def reset(kind: str, locale: str) -> bool:
    """Back to the file default: the stored edit is deleted, audited. False when none."""
    from portal.core import audit

    template = stored(kind, locale)
    if template is None:
        return False
    db.session.delete(template)
    audit.record("mail_template.reset", object_type="mail_template", object_id=f"{kind}:{locale}")
    return True


def default_source(kind: str, locale: str) -> tuple[str, str]:
    """The file default, in ``locale``, written as an editable template: (subject, text)."""
    with force_locale(locale):
        dear = gettext("Dear %(name)s,", name="{{ name }}")
        if kind == "thank_you":
            subject = gettext("Thank you for your order %(number)s", number="{{ order_number }}")
            body = [
                dear,
                gettext(
                    "Your order %(number)s has been delivered. Thank you for shopping with us!",
                    number="{{ order_number }}",
                ),
                gettext(
                    "If anything is not right, tell us from the order page and we will sort it out:"
                )
                + "\n{{ orders_url }}",
            ]
        elif kind == "birthday":
            subject = gettext("Happy birthday, %(name)s!", name="{{ name }}")
            body = [
                dear,
                gettext("Happy birthday from all of us! Thank you for being our customer."),
                "{% if coupon %}"
                + gettext(
                    "Here is a small gift: use the code %(code)s on your next order.",
                    code="{{ coupon }}",
                )
                + "{% endif %}",
            ]
        else:
            subject = gettext("%(years)s years with us - thank you!", years="{{ years }}")
            sentence = (
                "Today it is %(num)d year since your first order with us. "
                "Thank you for staying with us!",
                "Today it is %(num)d years since your first order with us. "
                "Thank you for staying with us!",
            )
            one = ngettext(*sentence, 1).replace("1", "{{ years }}")
            many = ngettext(*sentence, 2).replace("2", "{{ years }}")
            body = [dear, f"{{% if years == 1 %}}{one}{{% else %}}{many}{{% endif %}}"]
    return subject, "\n\n".join(body) + "\n"


def render_followup(kind: str, locale: str | None, context: dict[str, Any]) -> Rendered | None:
    """The edited template of ``kind`` in ``locale`` rendered, or None to use the file default.

    An edited template that fails to render (it was valid when saved) falls back to the default
    rather than leaving the customer without the mail.
    """
    template = stored(kind, locale or "en")
    if template is None:
        return None
    try:
        with force_locale(locale or "en"):
            return render(kind, template.subject, template.body_text, template.body_html, context)
    except TemplateProblem:
        return None


def wrap_html(rendered: Rendered, unsubscribe_url: str | None) -> str:
    return render_template(
        "mail/greetings/custom.html",
        subject=rendered.subject,
        body=rendered.html_body,
        unsubscribe_url=unsubscribe_url,
    )


def wrap_text(rendered: Rendered, unsubscribe_url: str | None) -> str:
    return render_template(
        "mail/greetings/custom.txt", body=rendered.text, unsubscribe_url=unsubscribe_url
    )
