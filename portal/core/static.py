"""Static files: content-hashed URLs cached for a year, served compressed (WhiteNoise).

``url_for("static", filename="css/portal.css")`` gives ``/static/css/portal.<hash>.css``,
where the hash is the first 12 hex digits of the file's SHA-256: a changed file gets a new
URL, so browsers may keep each URL for a year without asking again. WhiteNoise serves those
URLs (and the plain names, with a short cache, for links written by hand) in front of the
Flask app, with the ``.br``/``.gz`` files that ``make static`` (``python -m
whitenoise.compress``) writes beside the originals when the browser accepts them.

In debug mode files change while the server runs: URLs stay plain and Flask serves them.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

from flask import Flask
from whitenoise import WhiteNoise

ONE_YEAR = 365 * 24 * 60 * 60
IMMUTABLE = f"public, max-age={ONE_YEAR}, immutable"
COMPRESSED_SUFFIXES = (".gz", ".br")


def fingerprinted_name(filename: str, digest: str) -> str:
    """``css/portal.css`` -> ``css/portal.<digest>.css``; ``LICENSE`` -> ``LICENSE.<digest>``."""
    head, slash, name = filename.rpartition("/")
    stem, dot, extension = name.rpartition(".")
    name = f"{stem}.{digest}.{extension}" if dot and stem else f"{name}.{digest}"
    return f"{head}{slash}{name}"


def static_digests(root: Path) -> dict[str, str]:
    """Each static file's name relative to ``root`` and its fingerprinted name."""
    names: dict[str, str] = {}
    for directory, _dirs, files in os.walk(root):
        for file in files:
            if file.endswith(COMPRESSED_SUFFIXES):
                continue
            path = Path(directory, file)
            relative = path.relative_to(root).as_posix()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            names[relative] = fingerprinted_name(relative, digest)
    return names


class StaticFiles(WhiteNoise):
    """WhiteNoise with each file also under its fingerprinted URL, cached for a year."""

    def __init__(self, application: Any, root: Path, prefix: str, names: dict[str, str]):
        self.fingerprinted = {prefix + hashed for hashed in names.values()}
        super().__init__(application, max_age=60)
        self.add_files(str(root), prefix)
        for plain, hashed in names.items():
            url = prefix + hashed
            self.files[url] = self.get_static_file(str(root / plain), url)

    def add_cache_headers(self, headers: Any, path: str, url: str) -> None:
        if url in self.fingerprinted:
            headers["Cache-Control"] = IMMUTABLE
        else:
            super().add_cache_headers(headers, path, url)


def register_static_files(app: Flask) -> None:
    if app.debug or not app.static_folder or app.static_url_path is None:
        return
    root = Path(app.static_folder)
    names = static_digests(root)

    @app.url_defaults
    def _fingerprint(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static":
            hashed = names.get(values.get("filename", ""))
            if hashed is not None:
                values["filename"] = hashed

    prefix = app.static_url_path.rstrip("/") + "/"
    app.wsgi_app = StaticFiles(app.wsgi_app, root, prefix, names)  # type: ignore[method-assign]
