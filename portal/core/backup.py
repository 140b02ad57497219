"""Backups of an SQLite portal: the database, the job queue and the attachments, with a manifest.

The database is copied with SQLite's online backup API, which reads one consistent snapshot
while the portal goes on writing (WAL: readers do not block writers). The embedded job queue
(huey's SQLite file: queued and scheduled tasks, such as mail retries) is copied the same way
right after it; a task queued in between is in the queue copy only, and a task whose row the
database copy lacks finds nothing to do (the outbox's sweep sends whatever the queue copy
misses). The attachments are copied after both, so every file the copy's rows name is there
(files written meanwhile are extra, and harmless). ``manifest.json`` lists every file with its size and SHA-256; a restore
checks them all before it touches anything. PostgreSQL is backed up with pg_dump instead.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
DATABASE_FILE = "portal.db"
QUEUE_FILE = "huey.db"
ATTACHMENTS_DIR = "attachments"
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Locations:
    database: Path
    attachments: Path
    #: The embedded queue's SQLite file; None when the queue is in Redis (or immediate).
    queue: Path | None = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@contextmanager
def _connect(path: Path) -> Iterator[sqlite3.Connection]:
    with closing(sqlite3.connect(path, timeout=30)) as connection:
        connection.execute("PRAGMA busy_timeout = 30000")
        yield connection


def table_counts(path: Path) -> dict[str, int]:
    with _connect(path) as connection:
        names = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {
            name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]  # noqa: S608
            for name in names
        }


def _schema_revision(connection: sqlite3.Connection) -> str | None:
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return row[0] if row else None


def _copy_database(source: Path, target: Path) -> None:
    """One consistent snapshot of ``source`` into ``target`` (a new file)."""
    with _connect(source) as live, _connect(target) as copy:
        # All pages in one step: the read transaction holds one snapshot for the whole copy.
        live.backup(copy)
        copy.execute("PRAGMA journal_mode = DELETE")  # the copy is a single self-contained file
        result = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise BackupError(f"The copied database fails its integrity check: {result}")


def _unique_directory(root: Path, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = root / f"portal-backup-{stamp}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = root / f"portal-backup-{stamp}-{suffix}"
    return target


def make_backup(where: Locations, root: Path, *, now: datetime | None = None) -> Path:
    """Back up the database and attachments into a new directory under ``root``."""
    if not where.database.is_file():
        raise BackupError(f"There is no database at {where.database}.")
    now = now or datetime.now(UTC)
    root.mkdir(parents=True, exist_ok=True)
    target = _unique_directory(root, now)
    partial = target.with_name(target.name + ".partial")
    partial.mkdir()
    try:
        _copy_database(where.database, partial / DATABASE_FILE)
        queue: dict[str, Any] | None = None
        if where.queue is not None and where.queue.is_file():
            copied_queue = partial / QUEUE_FILE
            _copy_database(where.queue, copied_queue)
            queue = {
                "file": QUEUE_FILE,
                "bytes": copied_queue.stat().st_size,
                "sha256": sha256_of(copied_queue),
                "tables": table_counts(copied_queue),
            }
        files: list[dict[str, Any]] = []
        (partial / ATTACHMENTS_DIR).mkdir()
        if where.attachments.is_dir():
            for path in sorted(where.attachments.iterdir()):
                if not path.is_file():
                    continue
                copied = partial / ATTACHMENTS_DIR / path.name
                shutil.copy2(path, copied)
                files.append(
                    {"name": path.name, "bytes": copied.stat().st_size, "sha256": sha256_of(copied)}
                )
        database = partial / DATABASE_FILE
        with _connect(database) as copy:
            revision = _schema_revision(copy)
        manifest = {
            "format": FORMAT,
            "created_at": now.astimezone(UTC).isoformat(),
            "database": {
                "file": DATABASE_FILE,
                "bytes": database.stat().st_size,
                "sha256": sha256_of(database),
                "schema_revision": revision,
                "tables": table_counts(database),
            },
            "queue": queue,
            "attachments": files,
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return target


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of the backup in ``source``, after checking every file against it."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{source} is not a portal backup (no {MANIFEST}).")
    except ValueError:
        raise BackupError(f"The manifest in {source} is not valid JSON.")
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    expected = [(Path(manifest["database"]["file"]), manifest["database"]["sha256"])]
    if manifest.get("queue"):
        if manifest["queue"]["file"] != QUEUE_FILE:
            raise BackupError(f"Unexpected queue file {manifest['queue']['file']!r}.")
        expected.append((Path(QUEUE_FILE), manifest["queue"]["sha256"]))
    for entry in manifest["attachments"]:
        name = entry["name"]
        if not name.isalnum():  # stored names are random hex; nothing else is restored
            raise BackupError(f"Unexpected attachment name {name!r} in the manifest.")
        expected.append((Path(ATTACHMENTS_DIR) / name, entry["sha256"]))
    for relative, digest in expected:
        path = source / relative
        if not path.is_file():
            raise BackupError(f"{relative} is missing from the backup.")
        if sha256_of(path) != digest:
            raise BackupError(f"{relative} does not match its checksum: the backup is damaged.")
    return manifest


def holds_data(database: Path) -> bool:
    """Whether restoring over ``database`` would replace anything."""
    if not database.is_file() or database.stat().st_size == 0:
        return False
    return any(count for name, count in table_counts(database).items() if name != "alembic_version")


def restore_backup(source: Path, where: Locations) -> dict[str, Any]:
    """Replace the database, the job queue and the attachments with the backup in ``source``.

    The databases are written through SQLite (the backup API again), so a WAL file beside
    them stays consistent; attachments not in the backup are removed, so the directory is as
    it was. A backup's queue is restored where this portal keeps its embedded queue (with the
    queue in Redis there is none: the outbox's sweep finds the mail that was waiting).
    """
    manifest = read_manifest(source)
    where.database.parent.mkdir(parents=True, exist_ok=True)
    with _connect(source / DATABASE_FILE) as saved, _connect(where.database) as live:
        saved.backup(live)
    if manifest.get("queue") and where.queue is not None:
        where.queue.parent.mkdir(parents=True, exist_ok=True)
        with _connect(source / QUEUE_FILE) as saved, _connect(where.queue) as live:
            saved.backup(live)
    where.attachments.mkdir(parents=True, exist_ok=True)
    wanted = {entry["name"] for entry in manifest["attachments"]}
    for name in sorted(wanted):
        temporary = where.attachments / f".{name}.restoring"
        shutil.copy2(source / ATTACHMENTS_DIR / name, temporary)
        os.replace(temporary, where.attachments / name)
    for path in where.attachments.iterdir():
        if path.is_file() and path.name not in wanted:
            path.unlink()
    return manifest
