"""Compiled templates kept on disk (TEMPLATE_CACHE_DIR): a new worker loads, not compiles."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from jinja2 import Environment, FileSystemLoader

from portal import create_app


def _app(cache_dir: Path | str) -> Flask:
    return create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "TEMPLATE_CACHE_DIR": str(cache_dir)}
    )


def _not_found_page(app: Flask) -> str:
    """The 404 page (the whole layout), its per-session CSRF token left out."""
    with app.test_client() as client:
        page = client.get("/no-such-page").get_data(as_text=True)
    return re.sub(r'name="csrf_token"[^>]*>', "", page)


def _count_compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    compiled: list[str] = []
    original = Environment.compile

    def compile_(self: Environment, source: Any, name: str | None = None, *a: Any) -> Any:
        compiled.append(str(name))
        return original(self, source, name, *a)

    monkeypatch.setattr(Environment, "compile", compile_)
    return compiled


def test_a_new_process_loads_the_compiled_templates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "template-cache"
    first = _not_found_page(_app(cache))
    assert list(cache.iterdir()), "the compiled templates were written"
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700, "only the portal's user reads them"

    compiled = _count_compiles(monkeypatch)
    again = _not_found_page(_app(cache))
    assert compiled == [], "a second app compiled templates instead of loading them"
    assert again == first


def test_without_a_directory_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = _app("")
    assert app.jinja_env.bytecode_cache is None
    compiled = _count_compiles(monkeypatch)
    _not_found_page(app)
    assert compiled, "templates are compiled in the process"
    assert list(tmp_path.iterdir()) == []


def test_an_edited_template_is_compiled_again(tmp_path: Path) -> None:
    app = _app(tmp_path / "template-cache")
    source = tmp_path / "templates"
    source.mkdir()
    page = source / "page.html"
    page.write_text("one")

    app.jinja_env.loader = FileSystemLoader(source)
    with app.app_context():
        assert app.jinja_env.get_template("page.html").render() == "one"
        page.write_text("two")
        fresh = _app(tmp_path / "template-cache")
        fresh.jinja_env.loader = FileSystemLoader(source)
        assert fresh.jinja_env.get_template("page.html").render() == "two"


def test_the_server_entry_point_freezes_what_it_loaded(tmp_path: Path) -> None:
    """wsgi.py leaves the loaded application out of the collector's full passes."""
    root = Path(__file__).resolve().parents[2]
    environment = {
        **os.environ,
        "PORTAL_CONFIG": "testing",
        "PORTAL_TEST_DATABASE_URL": "sqlite://",
        "PORTAL_INSTANCE_DIR": str(tmp_path),
    }
    script = "import gc, wsgi; print(gc.get_freeze_count())"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(result.stdout.split()[-1]) > 100_000


def test_a_change_to_an_extension_compiles_the_templates_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Templates unchanged, but an extension (its code shapes the compiled templates) is new."""
    from portal.core import setup

    cache = tmp_path / "template-cache"
    _not_found_page(_app(cache))
    original = setup._compiler_fingerprint
    monkeypatch.setattr(
        setup, "_compiler_fingerprint", lambda environment: "x" + original(environment)[1:]
    )
    compiled = _count_compiles(monkeypatch)
    _not_found_page(_app(cache))
    assert compiled, "bytecode compiled with other extension code was loaded"


def test_the_fingerprint_follows_the_extensions_code() -> None:
    from jinja2 import Environment as Plain

    from portal.core.setup import _compiler_fingerprint

    with_cache = _app("").jinja_env
    assert _compiler_fingerprint(with_cache) != _compiler_fingerprint(Plain(autoescape=True))
    assert _compiler_fingerprint(with_cache) == _compiler_fingerprint(_app("").jinja_env)
