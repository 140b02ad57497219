"""Attachments: type from the content, size, count, names; served safely."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from portal.extensions import db
from portal.feedback.attachments import MAX_ATTACHMENT_BYTES, UploadRejected, check_upload
from portal.feedback.models import FeedbackAttachment, FeedbackItem
from tests.conftest import csrf_from

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n" + b"0" * 64


def _post(client, files, **fields):
    html = client.get("/feedback/new").get_data(as_text=True)
    submission = re.search(r'name="submission" type="hidden" value="([^"]+)"', html).group(1)
    data = {
        "csrf_token": csrf_from(html),
        "submission": submission,
        "kind": "complaint",
        "subject": "Photo attached",
        "message": "See the photo",
        "attachments": [(io.BytesIO(content), name) for content, name in files],
        **fields,
    }
    return client.post("/feedback/new", data=data, content_type="multipart/form-data")


def _no_items(app):
    with app.app_context():
        return db.session.scalar(select(FeedbackItem.id)) is None


def test_image_and_pdf_are_stored_outside_static_and_served_safely(app, logged_in):
    client = logged_in("upload@example.com")
    response = _post(client, [(PNG, "photo.png"), (PDF, "receipt.pdf")])
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        item = db.session.scalar(select(FeedbackItem))
        png, pdf = item.attachments
        reference = item.reference
        stored = Path(app.config["INSTANCE_DIR"]) / "attachments" / png.stored_name
        assert stored.read_bytes() == PNG
        assert "static" not in str(stored)
        assert (png.content_type, pdf.content_type) == ("image/png", "application/pdf")
    image = client.get(f"/feedback/{reference}/attachments/{png.id}")
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline")
    assert image.headers["X-Content-Type-Options"] == "nosniff"
    document = client.get(f"/feedback/{reference}/attachments/{pdf.id}")
    assert document.headers["Content-Type"] == "application/pdf"
    assert document.headers["Content-Disposition"].startswith("attachment")
    assert "filename=receipt.pdf" in document.headers["Content-Disposition"]


def test_html_renamed_to_png_is_refused_by_its_content(app, logged_in):
    client = logged_in("trick@example.com")
    response = _post(client, [(b"<html><script>alert(1)</script></html>", "cat.png")])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "cat.png is not an image or a PDF." in html
    assert "See the photo" in html  # the typed message is kept
    assert _no_items(app)


def test_svg_is_refused(app, logged_in):
    client = logged_in("svg@example.com")
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script></svg>'
    assert _post(client, [(svg, "logo.svg")]).status_code == 422
    assert _no_items(app)


def test_five_megabytes_is_the_default_limit():
    exactly = FileStorage(io.BytesIO(PNG + b"\x00" * (MAX_ATTACHMENT_BYTES - len(PNG))), "a.png")
    assert len(check_upload(exactly, MAX_ATTACHMENT_BYTES).data) == MAX_ATTACHMENT_BYTES
    over = FileStorage(io.BytesIO(PNG + b"\x00" * (MAX_ATTACHMENT_BYTES + 1 - len(PNG))), "a.png")
    with pytest.raises(UploadRejected, match="too_large"):
        check_upload(over, MAX_ATTACHMENT_BYTES)


def test_oversized_file_is_refused(app, logged_in):
    # A small limit keeps the request body small; the 5 MB default is checked above.
    previous = app.config.get("FEEDBACK_ATTACHMENT_MAX_BYTES")
    app.config["FEEDBACK_ATTACHMENT_MAX_BYTES"] = 1024 * 1024 // 4
    try:
        client = logged_in("big@example.com")
        big = PNG + b"\x00" * (1024 * 1024 // 4)
        response = _post(client, [(big, "huge.png")])
        assert response.status_code == 422
        assert "huge.png is larger than 0.25 MB." in response.get_data(as_text=True)
        assert _no_items(app)
    finally:
        app.config["FEEDBACK_ATTACHMENT_MAX_BYTES"] = previous


def test_at_most_five_files(app, logged_in):
    client = logged_in("six@example.com")
    response = _post(client, [(PNG, f"p{i}.png") for i in range(6)])
    assert response.status_code == 422
    assert "at most 5 files" in response.get_data(as_text=True)
    assert _no_items(app)


def test_a_path_in_the_name_is_stripped_and_the_extension_follows_the_content(app, logged_in):
    client = logged_in("path@example.com")
    response = _post(client, [(PNG, "../../etc/passwd.pdf")])
    assert response.status_code == 302
    with app.app_context():
        attachment = db.session.scalar(select(FeedbackAttachment))
        assert attachment.filename == "passwd.png"
        assert "/" not in attachment.stored_name and ".." not in attachment.stored_name
        assert re.fullmatch(r"[0-9a-f]{32}", attachment.stored_name)
