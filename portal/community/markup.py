"""Markdown to safe HTML: markdown-it-py renders, nh3 cleans with an allowlist.

Rendered HTML is stored with :data:`RENDERER_VERSION`; raise it whenever these rules change
and run ``flask portal rerender-posts`` so stored posts follow the new rules.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

RENDERER_VERSION = 1

ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "strong",
    "em",
    "del",
    "s",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "img",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},
    "th": {"align"},
    "td": {"align"},
}
LINK_REL = "nofollow ugc noopener"

# Raw HTML in the source is shown as text, never passed through.
_markdown = (
    MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    .enable("table")
    .enable("strikethrough")
)


def _only_local_images(tag: str, attribute: str, value: str) -> str | None:
    """Images only from this site: a path on this host, never another origin."""
    if tag == "img" and attribute == "src":
        if value.startswith("/") and not value.startswith("//") and "\\" not in value:
            return value
        return None
    return value


def sanitize(html: str) -> str:
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel=LINK_REL,
        attribute_filter=_only_local_images,
        strip_comments=True,
    )


def render(markdown_text: str) -> str:
    """Render a post body to HTML that is safe to show as is."""
    html = _markdown.render(markdown_text)
    # Headings inside a post must not compete with the page's own h1/h2.
    for level, replacement in (("h1", "h3"), ("h2", "h4")):
        html = html.replace(f"<{level}>", f"<{replacement}>").replace(
            f"</{level}>", f"</{replacement}>"
        )
    return sanitize(html)


def quote(author_name: str, markdown_text: str) -> str:
    """The Markdown a reply starts with when it quotes a post."""
    lines = markdown_text.strip().splitlines() or [""]
    quoted = "\n".join(f"> {line}" if line else ">" for line in lines)
    return f"> **{author_name}**:\n>\n{quoted}\n\n"
