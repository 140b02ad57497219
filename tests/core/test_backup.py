"""`flask portal backup` and `flask portal restore`: the copy equals the original.

These tests build their own portal on a temporary SQLite file (a backup is of a real file, not
of the suite's rolled-back transaction).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from portal import create_app
from portal.core.backup import ATTACHMENTS_DIR, DATABASE_FILE, MANIFEST, QUEUE_FILE
from portal.extensions import db


def _portal(directory: Path, database_url: str | None = None) -> Flask:
    directory.mkdir(parents=True, exist_ok=True)
    return create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{directory / 'portal.db'}",
            "INSTANCE_DIR": str(directory),
            "MAIL_FILE_DIR": str(directory / "mail"),
            # The embedded queue (instance/huey.db), as in production without Redis.
            "JOBS_IMMEDIATE": False,
        },
    )


def _migrated(directory: Path) -> Flask:
    from flask_migrate import upgrade

    app = _portal(directory)
    with app.app_context():
        upgrade()
    return app


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Flask]:
    """A portal with customers, orders and attachments on its own SQLite file."""
    from portal.accounts.services import create_user, ensure_reference_data
    from portal.feedback.attachments import write_file
    from portal.jobs.queue import get_queue

    app = _migrated(tmp_path / "live")
    with app.app_context(), app.test_request_context():
        ensure_reference_data()
        for number in range(5):
            create_user(f"backup{number}@example.com", "correct-horse-battery-7", name="Ä 名")
        db.session.commit()
        for size in (1, 1000, 300_000):
            write_file(os.urandom(size))
        # Work waiting in the queue: a task due now and one scheduled for later (a retry).
        # (The consumer moves a task with an eta to the schedule; add_schedule is that move.)
        from huey.utils import normalize_time

        queue = get_queue(app)
        queue.deliver(424242)
        later = normalize_time(delay=3600, utc=queue.huey.utc)
        queue.huey.add_schedule(queue.deliver.task_class((434343,), {}, eta=later))
    yield app
    _dispose(app)


def _database(app: Flask) -> Path:
    with app.app_context():
        return Path(db.engine.url.database or "")


def _attachments(app: Flask) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / "attachments"


def _queue(app: Flask) -> Path:
    return Path(app.config["INSTANCE_DIR"]) / "huey.db"


def _dump(path: Path) -> dict[str, list[tuple]]:
    """Every row of every table, in a stable order."""
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(
                connection.execute(f'SELECT * FROM "{table}"').fetchall(),  # noqa: S608
                key=repr,
            )
            for table in tables
        }


def _files(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def _backup(app: Flask, root: Path) -> Path:
    result = app.test_cli_runner().invoke(args=["portal", "backup", "--to", str(root)])
    assert result.exit_code == 0, result.output
    (target,) = root.iterdir()
    assert result.output.strip().endswith(str(target))
    return target


def test_backup_and_restore_give_back_the_same_rows_and_files(live: Flask, tmp_path: Path) -> None:
    target = _backup(live, tmp_path / "backups")
    manifest = json.loads((target / MANIFEST).read_text())
    original_rows = _dump(_database(live))
    original_files = _files(_attachments(live))
    assert len(original_files) == 3
    assert original_rows["user"] and _dump(target / DATABASE_FILE) == original_rows
    assert _files(target / ATTACHMENTS_DIR) == original_files
    assert manifest["database"]["tables"]["user"] == len(original_rows["user"])
    assert manifest["database"]["schema_revision"] == original_rows["alembic_version"][0][0]
    original_queue = _dump(_queue(live))
    assert original_queue["task"] and original_queue["schedule"]
    assert _dump(target / QUEUE_FILE) == original_queue
    assert manifest["queue"]["tables"]["schedule"] == len(original_queue["schedule"])

    fresh = _portal(tmp_path / "fresh")
    try:
        result = fresh.test_cli_runner().invoke(args=["portal", "restore", str(target)])
        assert result.exit_code == 0, result.output
        assert _dump(_database(fresh)) == original_rows
        assert _files(_attachments(fresh)) == original_files
        assert _dump(_queue(fresh)) == original_queue
        # The restored queue works: huey reads the waiting tasks back.
        from portal.jobs.queue import get_queue

        with fresh.app_context():
            assert get_queue(fresh).huey.pending_count() == len(original_queue["task"])
            assert get_queue(fresh).huey.scheduled_count() == len(original_queue["schedule"])
        # The restored portal works: it reads its users through the app.
        with fresh.app_context():
            from portal.accounts.models import User

            assert db.session.query(User).count() == len(original_rows["user"])
    finally:
        _dispose(fresh)


def test_restore_over_data_asks_first_and_force_replaces(live: Flask, tmp_path: Path) -> None:
    from portal.feedback.attachments import write_file

    target = _backup(live, tmp_path / "backups")
    original_rows = _dump(_database(live))
    original_files = _files(_attachments(live))
    original_queue = _dump(_queue(live))
    with live.app_context(), live.test_request_context():
        from portal.accounts.services import create_user
        from portal.jobs.queue import get_queue

        create_user("after@example.com", "correct-horse-battery-7", name="Later")
        db.session.commit()
        write_file(b"written after the backup")
        get_queue(live).deliver(999999)
    assert _dump(_queue(live)) != original_queue
    _dispose(live)
    runner = live.test_cli_runner()

    refused = runner.invoke(args=["portal", "restore", str(target)], input="n\n")
    assert refused.exit_code != 0 and "holds data" in refused.output
    assert _dump(_database(live)) != original_rows  # nothing was touched

    confirmed = runner.invoke(args=["portal", "restore", str(target)], input="y\n")
    assert confirmed.exit_code == 0, confirmed.output
    assert _dump(_database(live)) == original_rows
    assert _files(_attachments(live)) == original_files  # the later file is gone too
    assert _dump(_queue(live)) == original_queue  # and the later task

    forced = runner.invoke(args=["portal", "restore", str(target), "--force"])
    assert forced.exit_code == 0, forced.output
    assert _dump(_database(live)) == original_rows


def test_a_damaged_backup_is_refused_before_anything_changes(live: Flask, tmp_path: Path) -> None:
    target = _backup(live, tmp_path / "backups")
    before = _dump(_database(live))
    victim = next((target / ATTACHMENTS_DIR).iterdir())
    victim.write_bytes(victim.read_bytes() + b"!")
    result = live.test_cli_runner().invoke(args=["portal", "restore", str(target), "--force"])
    assert result.exit_code != 0 and "checksum" in result.output
    assert _dump(_database(live)) == before


def test_a_backup_taken_while_the_portal_writes_is_consistent(live: Flask, tmp_path: Path) -> None:
    """A writer commits pairs of rows (one in each of two tables) while the backup runs: the
    copy holds whole transactions only, and some were committed during the copy."""
    database = _database(live)
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE probe_a (n INTEGER PRIMARY KEY, pad BLOB)")
        connection.execute("CREATE TABLE probe_b (n INTEGER PRIMARY KEY, pad BLOB)")
    stop = threading.Event()
    started = threading.Event()
    committed = [0]

    def write() -> None:
        connection = sqlite3.connect(database, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode = WAL")
        try:
            while not stop.is_set():
                n = committed[0] + 1
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT INTO probe_a VALUES (?, ?)", (n, os.urandom(2000)))
                connection.execute("INSERT INTO probe_b VALUES (?, ?)", (n, os.urandom(2000)))
                connection.execute("COMMIT")
                committed[0] = n
                if n >= 50:
                    started.set()
        finally:
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert started.wait(30)
        at_start = committed[0]
        target = _backup(live, tmp_path / "backups")
        at_end = committed[0]
    finally:
        stop.set()
        writer.join(30)
    copy = _dump(target / DATABASE_FILE)
    a = sorted(row[0] for row in copy["probe_a"])
    b = sorted(row[0] for row in copy["probe_b"])
    assert a == b == list(range(1, len(a) + 1))  # whole transactions, none half-copied
    assert at_start <= len(a) <= at_end
    assert at_end > at_start  # the portal kept writing while the backup ran
    with sqlite3.connect(target / DATABASE_FILE) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # The rest of the data came along unchanged.
    live_rows = _dump(database)
    assert {t: r for t, r in copy.items() if not t.startswith("probe_")} == {
        t: r for t, r in live_rows.items() if not t.startswith("probe_")
    }


def test_postgresql_is_pointed_at_pg_dump(tmp_path: Path) -> None:
    app = _portal(tmp_path / "pg", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    runner = app.test_cli_runner()
    backup = runner.invoke(args=["portal", "backup", "--to", str(tmp_path / "b")])
    assert backup.exit_code != 0 and "pg_dump" in backup.output
    (tmp_path / "b").mkdir(exist_ok=True)
    restore = runner.invoke(args=["portal", "restore", str(tmp_path / "b"), "--force"])
    assert restore.exit_code != 0 and "pg_restore" in restore.output


def test_restore_refuses_a_directory_that_is_no_backup(live: Flask, tmp_path: Path) -> None:
    result = live.test_cli_runner().invoke(args=["portal", "restore", str(tmp_path), "--force"])
    assert result.exit_code != 0 and MANIFEST in result.output
