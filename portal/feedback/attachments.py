"""Attachments: images or PDF, type read from the content, stored outside ``static/``."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import filetype
from flask import current_app
from werkzeug.utils import secure_filename

MAX_ATTACHMENTS = 5
MAX_ATTACHMENT_BYTES = 5 * 1024 * 1024
#: Detected type -> the extension we give the download. SVG is not accepted (it can script).
ALLOWED_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


#: The policy attachments are served with (a per-view setting, or the site's policy would
#: replace it): nothing loads, and a file opened in the browser runs in a sandbox.
ATTACHMENT_CSP = "default-src 'none'; sandbox"


class UploadRejected(ValueError):
    """The message says why, for the field's error list."""


@dataclass(frozen=True)
class CheckedUpload:
    filename: str
    content_type: str
    data: bytes


def max_bytes() -> int:
    return int(current_app.config.get("FEEDBACK_ATTACHMENT_MAX_BYTES", MAX_ATTACHMENT_BYTES))


def check_upload(storage: Any, limit: int | None = None) -> CheckedUpload:
    """Read one uploaded file, refuse what is too big or not an image/PDF by its content."""
    limit = limit if limit is not None else max_bytes()
    data = storage.read(limit + 1)
    if len(data) > limit:
        raise UploadRejected("too_large")
    if not data:
        raise UploadRejected("empty")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise UploadRejected("wrong_type")
    extension = ALLOWED_TYPES[kind.mime]
    stem = secure_filename(Path(storage.filename or "").stem)[:80] or "attachment"
    return CheckedUpload(f"{stem}.{extension}", kind.mime, data)


def storage_dir() -> Path:
    directory = Path(current_app.config["INSTANCE_DIR"]) / "attachments"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def write_file(data: bytes) -> str:
    """Store bytes under a random name (never the user's) and return that name."""
    name = uuid.uuid4().hex
    (storage_dir() / name).write_bytes(data)
    return name


def path_of(stored_name: str) -> Path:
    if not stored_name.isalnum():
        raise FileNotFoundError(stored_name)
    return storage_dir() / stored_name


def remove_file(stored_name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        path_of(stored_name).unlink(missing_ok=True)
