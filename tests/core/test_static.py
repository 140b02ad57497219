"""Static files: fingerprinted URLs, a year's cache, compressed copies, a light first page."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

from flask import Flask, url_for

from portal.core.static import IMMUTABLE, fingerprinted_name, register_static_files

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def _assets(html: str) -> list[str]:
    return ASSET.findall(html)


def test_fingerprinted_name():
    assert fingerprinted_name("css/portal.css", "abc123") == "css/portal.abc123.css"
    assert fingerprinted_name("vendor/x/a.min.js", "f00") == "vendor/x/a.min.f00.js"
    assert fingerprinted_name("LICENSE", "f00") == "LICENSE.f00"
    assert fingerprinted_name(".hidden", "f00") == ".hidden.f00"


def test_pages_link_assets_by_content_hash(app, client):
    html = client.get("/").get_data(as_text=True)
    assets = _assets(html)
    assert any(a.startswith("/static/css/portal.") for a in assets), assets
    static = Path(app.static_folder)
    for url in assets:
        # /static/css/portal.<12 hex>.css is css/portal.css with that hash of its content.
        match = re.fullmatch(r"/static/(.+?)\.([0-9a-f]{12})(\..+)?", url)
        assert match, url
        original = static / (match.group(1) + (match.group(3) or ""))
        assert hashlib.sha256(original.read_bytes()).hexdigest()[:12] == match.group(2)
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.get_data() == original.read_bytes()
        response.close()


def test_plain_names_still_work_with_a_short_cache(client):
    response = client.get("/static/css/portal.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    response.close()


def test_first_page_is_light_and_from_this_host_only(client):
    html = client.get("/").get_data()
    assert not re.search(rb'(?:href|src)="(?:https?:)?//', html.replace(b'rel="canonical"', b""))
    total = len(gzip.compress(html))
    for url in _assets(html.decode()):
        if url.endswith((".css", ".js")) and "rtl" not in url:
            response = client.get(url)
            total += len(gzip.compress(response.get_data()))
            response.close()
    assert total <= 100_000, total


def _static_app(tmp_path: Path, debug: bool = False) -> Flask:
    from whitenoise.compress import Compressor

    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "site.css").write_text("body { color: #123456; }\n" * 200)
    Compressor(quiet=True).compress(str(static / "css" / "site.css"))
    app = Flask(__name__, static_folder=str(static))
    app.debug = debug
    register_static_files(app)
    return app


def test_compressed_copies_are_served_to_browsers_that_accept_them(tmp_path):
    app = _static_app(tmp_path)
    with app.test_request_context():
        url = url_for("static", filename="css/site.css")
    assert url != "/static/css/site.css"
    client = app.test_client()
    for encoding in ("br", "gzip"):
        response = client.get(url, headers={"Accept-Encoding": encoding})
        assert response.headers["Content-Encoding"] == encoding
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.headers["Cache-Control"] == IMMUTABLE
        body = response.get_data()
        response.close()
        if encoding == "gzip":
            assert gzip.decompress(body).startswith(b"body { color: #123456; }")
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers
    plain.close()


def test_debug_mode_keeps_plain_urls(tmp_path):
    app = _static_app(tmp_path, debug=True)
    with app.test_request_context():
        assert url_for("static", filename="css/site.css") == "/static/css/site.css"
