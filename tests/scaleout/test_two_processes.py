"""Scale out: two portal processes on one PostgreSQL database and one Redis serve as one.

Runs only when PostgreSQL (PORTAL_TEST_DATABASE_URL) and Redis (PORTAL_TEST_REDIS_URL, by
default database 5 on 127.0.0.1) are reachable. Each process is a gunicorn of its own on its own
port, with the production configuration; they share the database (a schema of this test's
own), Redis (rate limits, the job queue) and the instance directory (attachments).
"""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

ROOT = Path(__file__).resolve().parents[2]
DATABASE_URL = os.environ.get("PORTAL_TEST_DATABASE_URL", "")
# A Redis database per pytest-xdist worker: two clusters on one database would consume each
# other's jobs and flush each other's keys.
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", f"redis://127.0.0.1:6379/{5 + _WORKER}")
PASSWORD = "scale-out-password-2026"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7V\xbd\xfa"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _redis_reachable() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


pytestmark = [
    pytest.mark.live_db,
    pytest.mark.skipif(
        not DATABASE_URL.startswith("postgresql") or not _redis_reachable(),
        reason="needs PostgreSQL (PORTAL_TEST_DATABASE_URL) and Redis (PORTAL_TEST_REDIS_URL)",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _FromAddress(urllib.request.HTTPHandler):
    """Connect from a loopback address of the test's choosing (per-address limits)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: Any) -> Any:
        return self.do_open(
            functools.partial(http.client.HTTPConnection, source_address=(self.source, 0)), req
        )


class Browser:
    """One visitor: a cookie jar used against either process."""

    def __init__(self, source: str) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            _FromAddress(source), urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def open(
        self, url: str, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, bytes, str]:
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read(), ""
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers.get("Location", "")

    def post(self, url: str, form: dict[str, str]) -> tuple[int, bytes, str]:
        return self.open(url, urllib.parse.urlencode(form).encode())

    def csrf(self, url: str) -> str:
        status, page, _ = self.open(url)
        assert status == 200, (url, status)
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
        assert match, url
        return match.group(1).decode()

    def sign_in(self, base: str, email: str, password: str = PASSWORD) -> tuple[int, str]:
        token = self.csrf(f"{base}/login")
        status, _, location = self.post(
            f"{base}/login", {"email": email, "password": password, "csrf_token": token}
        )
        return status, location


@dataclass
class Cluster:
    bases: list[str]
    env: dict[str, str]
    database_url: str
    instance: Path


def _database_for_test() -> tuple[str, str]:
    schema = f"scaleout_{secrets.token_hex(4)}"
    admin = create_engine(DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    separator = "&" if "?" in DATABASE_URL else "?"
    return schema, f"{DATABASE_URL}{separator}options=-csearch_path%3D{schema}"


def _prepare(env: dict[str, str]) -> None:
    """Schema by the migrations and two customers, in a process with the servers' settings."""
    code = (
        "from flask_migrate import upgrade\n"
        "from portal import create_app\n"
        "from portal.extensions import db\n"
        "from portal.accounts.services import create_user, ensure_reference_data\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    upgrade()\n"
        "    ensure_reference_data()\n"
        f"    create_user('one@example.com', {PASSWORD!r}, name='One')\n"
        f"    create_user('two@example.com', {PASSWORD!r}, name='Two')\n"
        "    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    with log.open("a") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server stopped"
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not start")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    schema, database_url = _database_for_test()
    instance = tmp_path_factory.mktemp("shared-instance")
    env = dict(os.environ)
    env.update(
        {
            "FLASK_APP": "wsgi.py",
            "PORTAL_CONFIG": "production",
            "PORTAL_INSTANCE_DIR": str(instance),
            "DATABASE_URL": database_url,
            "REDIS_URL": REDIS_URL,
            "SECRET_KEY": secrets.token_hex(32),
            "SECURITY_PASSWORD_SALT": secrets.token_hex(16),
            "TOTP_SECRET": secrets.token_hex(16),
            "FORCE_HTTPS": "0",
            "SESSION_COOKIE_SECURE": "0",
            "PREFERRED_URL_SCHEME": "http",
            "MAIL_BACKEND": "null",
            "LOGIN_RATE_LIMIT": "6 per minute",
        }
    )
    env.pop("PORTAL_TEST_DATABASE_URL", None)
    _prepare(env)
    servers = []
    bases = []
    try:
        for n in range(2):
            port = _free_port()
            command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "2"]
            command += ["-b", f"127.0.0.1:{port}", "wsgi:app"]
            servers.append(_start(command, env, instance / f"server-{n}.log"))
            bases.append(f"http://127.0.0.1:{port}")
        for base, server in zip(bases, servers, strict=True):
            _wait_ready(base, server)
        yield Cluster(bases, env, database_url, instance)
    finally:
        for server in servers:
            _stop(server)
        admin = create_engine(DATABASE_URL)
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
        redis.Redis.from_url(REDIS_URL).flushdb()


def test_the_two_processes_are_different_processes_on_different_ports(cluster: Cluster) -> None:
    first, second = cluster.bases
    assert first != second


def test_a_session_made_on_one_works_on_the_other(cluster: Cluster) -> None:
    first, second = cluster.bases
    browser = Browser("127.0.0.21")
    status, location = browser.sign_in(first, "one@example.com")
    assert status == 302 and "/login" not in location
    status, page, _ = browser.open(f"{second}/account")
    assert status == 200
    assert b"one@example.com" in page
    stranger = Browser("127.0.0.22")
    status, _, location = stranger.open(f"{second}/account")
    assert status == 302 and "/login" in location


def test_sign_in_attempts_are_counted_across_both(cluster: Cluster) -> None:
    """6 a minute for one account: the 7th attempt is refused though each process saw 3 or 4."""
    browser = Browser("127.0.0.23")
    statuses = []
    for attempt in range(8):
        base = cluster.bases[attempt % 2]
        token = browser.csrf(f"{base}/login")
        status, _, _ = browser.post(
            f"{base}/login",
            {"email": "two@example.com", "password": "not-the-password", "csrf_token": token},
        )
        statuses.append(status)
    assert 429 not in statuses[:6], statuses
    assert statuses[6] == 429, statuses
    # The right password is refused too while the account is limited, on either process.
    status, _ = browser.sign_in(cluster.bases[1], "two@example.com")
    assert status == 429


def _multipart(fields: dict[str, str], filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(12)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_an_attachment_uploaded_on_one_is_served_by_the_other(cluster: Cluster) -> None:
    first, second = cluster.bases
    browser = Browser("127.0.0.24")
    status, _ = browser.sign_in(first, "one@example.com")
    assert status == 302
    status, page, _ = browser.open(f"{first}/feedback/new")
    assert status == 200
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    submission = re.search(rb'name="submission"[^>]*value="([^"]*)"', page)
    assert token and submission
    body, content_type = _multipart(
        {
            "csrf_token": token.group(1).decode(),
            "submission": submission.group(1).decode(),
            "kind": "question",
            "order": "",
            "subject": "A photo of the parcel",
            "message": "It arrived like this.",
        },
        "parcel.png",
        PNG,
    )
    status, _, location = browser.open(
        f"{first}/feedback/new", body, {"Content-Type": content_type}
    )
    assert status == 302, status
    reference = location.rstrip("/").rsplit("/", 1)[-1]
    status, page, _ = browser.open(f"{second}/feedback/{reference}")
    assert status == 200
    link = re.search(rb'href="(/feedback/[^"]+/attachments/\d+)"', page)
    assert link, "no attachment link on the other process's page"
    status, data, _ = browser.open(second + link.group(1).decode())
    assert status == 200
    assert data == PNG


def test_each_scheduled_occurrence_runs_once_with_two_workers(cluster: Cluster) -> None:
    """Two `flask portal worker` on the shared Redis queue: both schedulers enqueue the
    every-minute sweep, one run claims each minute, the other skips it."""
    from portal.jobs.models import JobRun

    logs = [cluster.instance / f"worker-{n}.log" for n in range(2)]
    workers = [
        _start([sys.executable, "-m", "flask", "portal", "worker"], cluster.env, log)
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 100
        skipped = False
        while time.monotonic() < deadline and not skipped:
            time.sleep(1)
            assert all(w.poll() is None for w in workers), "a worker stopped"
            skipped = any("already ran in another worker" in log.read_text() for log in logs)
        assert skipped, "no occurrence was enqueued by both workers in time"
    finally:
        for worker in workers:
            _stop(worker)
    engine = create_engine(cluster.database_url)
    with engine.connect() as conn:
        claims = conn.execute(
            select(JobRun.occasion_key).where(JobRun.task == "schedule:outbox.sweep")
        ).all()
    engine.dispose()
    keys = [row[0] for row in claims]
    assert keys and len(keys) == len(set(keys))
    ran = sum(
        log.read_text().count("Executing portal.jobs.queue.outbox.sweep.periodic") for log in logs
    )
    assert ran >= 2  # both workers got a copy of each occurrence
