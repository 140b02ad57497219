"""Load and fault scenarios: simulated customers against a real portal, then an audit of the data.

    .venv/bin/python bench/faults.py SCENARIO... [--postgresql] [--redis]
        [--minutes 10] [--users 50] [--outage 20] [--smtp-down 600]

``--postgresql`` runs on a PostgreSQL cluster of the bench's own (``faults``, port 5433,
created with ``pg_createcluster`` on first use, trust authentication); ``--redis`` on a Redis
server of its own (port 6380, started on first use, no persistence). The scenarios restart
and stop only those: the machine's shared PostgreSQL (5432) and Redis (6379) are never
touched (``--database-url``/``--redis-url`` on those ports are refused for the faults).

Scenarios (``all`` runs every one that the configuration allows, each on a fresh database):

* ``load``: ``--users`` simulated customers for ``--minutes`` of mixed reading and writing
  (home, community topics and search, replies, feedback items and replies, survey answers,
  orders). Verdict: no 5xx, no refused connection, every acknowledged write in the database
  exactly once, every queued mail delivered exactly once.
* ``pg-restart``: the same load; PostgreSQL is restarted a third of the way in. Verdict: errors
  only while it is down (plus a two-second grace), nothing acknowledged lost.
* ``redis-down``: the same load with REDIS_URL set; Redis is shut down for ``--outage`` seconds.
  Verdict: no 5xx; while it is down the sign-in limit still refuses (counted per process);
  before it, the limit is counted across all the server's processes.
* ``smtp-down``: the same load; the SMTP server is stopped for ``--smtp-down`` seconds (the
  retry backoff is scaled by the same factor as 10 minutes to that duration). Verdict: every
  mail delivered exactly once after it returns.
* ``worker-kill``: the same load; the background worker is killed (SIGKILL) while it sends
  (the SMTP server answers slowly), twice, and restarted. Verdict: every mail delivered once.

Everything runs against 127.0.0.1: gunicorn (3 workers x 4 threads), ``flask portal worker``
and an SMTP server (aiosmtpd) in this process. Each simulated customer connects from its own
loopback address (127.0.0.N), so per-address limits behave as with real customers. Results are
appended to bench/faults.md with the load average. Outages are always undone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import http.client
import http.cookiejar
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
RESULTS = ROOT / "bench" / "faults.md"
PASSWORD = "load-test-password-2026"
SURVEYS = 4
PG_DATABASE = "faults_bench"
PG_CLUSTER = "faults"
SHARED_PG_PORT = 5432
SHARED_REDIS_PORT = 6379


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- The SMTP server ---------------------------------------------------------------------------


class MailSink:
    """An SMTP server that records each accepted message's Message-ID; it can stop and start."""

    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port = port
        self.delay = delay
        self.received: list[str] = []
        self.controller: Any = None
        self.lock = threading.Lock()

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        if self.delay:
            # A client that dies meanwhile cancels this coroutine: the message is not accepted.
            await asyncio.sleep(self.delay)
        message = message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.received.append(str(message.get("Message-ID", "")).strip())
        return "250 OK"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- The simulated customers ------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


class _SourceHTTPHandler(urllib.request.HTTPHandler):
    """Connect from a chosen loopback address (each customer has its own)."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.source = source

    def http_open(self, req: Any) -> Any:
        return self.do_open(
            functools.partial(http.client.HTTPConnection, source_address=(self.source, 0)), req
        )


@dataclass
class Hit:
    at: float
    action: str
    status: int  # 0: no answer (connection refused or reset, timeout)


@dataclass
class Acks:
    replies: list[str] = field(default_factory=list)  # markers in the body
    feedback: list[tuple[str, str]] = field(default_factory=list)  # (reference, marker)
    feedback_replies: list[str] = field(default_factory=list)
    surveys: list[int] = field(default_factory=list)  # invitation ids


class Client:
    def __init__(self, base: str, source: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            _SourceHTTPHandler(source), urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )
        self.csrf = ""

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        """(status, body, Location); status 0 when the server did not answer."""
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode(), ""
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            return error.code, text, error.headers.get("Location", "")
        except (OSError, http.client.HTTPException):
            return 0, "", ""

    def remember_csrf(self, page: str) -> None:
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        if match:
            self.csrf = match.group(1)


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page)
    return match.group(1) if match else ""


class Customer(threading.Thread):
    def __init__(self, load: Load, n: int, email: str, data: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.load = load
        self.n = n
        self.email = email
        self.data = data
        self.client = Client(load.base, f"127.0.0.{10 + n}")
        self.random = random.Random(n)
        self.last_reply = 0.0
        self.feedback: list[str] = []
        self.invitations = list(data["invitations"])

    def hit(
        self, action: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str, str]:
        if form is not None:
            form = {"csrf_token": self.client.csrf, **form}
        status, page, location = self.client.request(path, form)
        self.load.hits.append(Hit(time.monotonic(), action, status))
        if status == 200:
            self.client.remember_csrf(page)
        return status, page, location

    def sign_in(self) -> bool:
        for _ in range(20):
            status, _, _ = self.hit("sign-in form", "/login")
            if status == 200:
                status, _, location = self.hit(
                    "sign in", "/login", {"email": self.email, "password": PASSWORD}
                )
                if status == 302 and "/login" not in location:
                    self.hit("home", "/")
                    return True
            time.sleep(1)
        return False

    def run(self) -> None:
        try:
            self.act()
        except Exception as error:
            self.load.crashes.append(f"{self.email}: {error!r}")
            raise

    def act(self) -> None:
        if not self.sign_in():
            self.load.failed_sign_ins += 1
            return
        actions = [
            (self.home, 3),
            (self.community, 4),
            (self.search, 1),
            (self.orders, 3),
            (self.own_feedback, 2),
            (self.reply, 3),
            (self.new_feedback, 2),
            (self.feedback_reply, 1),
            (self.survey, 1),
            (self.password_reset, 1),
        ]
        functions, weights = zip(*actions, strict=True)
        while time.monotonic() < self.load.stop_at:
            self.random.choices(functions, weights)[0]()
            time.sleep(self.random.uniform(0.5, 2.0))

    # reading
    def home(self) -> None:
        self.hit("home", "/")

    def community(self) -> None:
        self.hit("community", "/community")
        topic = self.random.choice(self.load.topics)
        self.hit("topic", f"/community/t/{topic}")

    def search(self) -> None:
        self.hit(
            "search", "/community/search?q=" + self.random.choice(["delivery", "order", "help"])
        )

    def orders(self) -> None:
        self.hit("orders", "/orders")
        if self.data["orders"]:
            self.hit("order", f"/orders/{self.random.choice(self.data['orders'])}")

    def own_feedback(self) -> None:
        self.hit("feedback list", "/feedback")
        if self.feedback:
            self.hit("feedback item", f"/feedback/{self.random.choice(self.feedback)}")

    # writing
    def reply(self) -> None:
        if time.monotonic() - self.last_reply < 17:  # the community's flood interval is 15 s
            return self.community()
        topic = self.random.choice(self.load.topics)
        marker = f"m{uuid.uuid4().hex}"
        topic_id = topic.split("-", 1)[0]
        status, _, location = self.hit(
            "reply", f"/community/t/{topic_id}/reply", {"body": f"Load test reply {marker}."}
        )
        if status == 302 and "/reply" not in location:
            self.last_reply = time.monotonic()
            self.load.acks.replies.append(marker)

    def new_feedback(self) -> None:
        status, page, _ = self.hit("feedback form", "/feedback/new")
        if status != 200:
            return
        marker = f"m{uuid.uuid4().hex}"
        status, _, location = self.hit(
            "file feedback",
            "/feedback/new",
            {
                "kind": "question",
                "order": "",
                "subject": f"Load test {marker}",
                "message": "Where is my parcel? It was due yesterday.",
                "submission": _field(page, "submission"),
            },
        )
        match = re.search(r"/feedback/([^/?#]+)$", location)
        if status == 302 and match and match.group(1) != "new":
            self.feedback.append(match.group(1))
            self.load.acks.feedback.append((match.group(1), marker))

    def feedback_reply(self) -> None:
        if not self.feedback:
            return self.new_feedback()
        reference = self.random.choice(self.feedback)
        status, page, _ = self.hit("feedback item", f"/feedback/{reference}")
        if status != 200:
            return
        marker = f"m{uuid.uuid4().hex}"
        status, _, _ = self.hit(
            "feedback reply",
            f"/feedback/{reference}/reply",
            {"body": f"More details {marker}.", "submission": _field(page, "submission")},
        )
        if status == 302:
            self.load.acks.feedback_replies.append(marker)

    def password_reset(self) -> None:
        """Ask for a reset link: mail queued while the customers work (SMTP, worker faults)."""
        status, _, _ = self.hit("reset form", "/reset")
        if status == 200:
            self.hit("ask for a reset", "/reset", {"email": self.email})

    def survey(self) -> None:
        if not self.invitations:
            return self.home()
        invitation, question = self.invitations[0]
        status, _, _ = self.hit("survey form", f"/surveys/{invitation}")
        if status != 200:
            return
        status, _, location = self.hit(
            "answer survey",
            f"/surveys/{invitation}",
            {f"q{question}": str(self.random.randint(0, 10)), "submit": "1"},
        )
        if status == 302 and "thanks" in location:
            self.invitations.pop(0)
            self.load.acks.surveys.append(invitation)


@dataclass
class Load:
    base: str
    stop_at: float
    topics: list[str]
    hits: list[Hit] = field(default_factory=list)
    acks: Acks = field(default_factory=Acks)
    failed_sign_ins: int = 0
    crashes: list[str] = field(default_factory=list)


# --- The portal under test --------------------------------------------------------------------


class Portal:
    def __init__(self, args: argparse.Namespace, scenario: str) -> None:
        self.args = args
        self.scenario = scenario
        self.instance = Path(tempfile.mkdtemp(prefix="portal-faults-"))
        self.port = free_port()
        self.smtp = MailSink(free_port(), delay=0.3 if scenario == "worker-kill" else 0.0)
        self.server: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        retry_base = 2
        if scenario == "smtp-down":
            # The production backoff (30 s base) outlasts a 10-minute outage; keep the proportion.
            retry_base = max(1, round(30 * args.smtp_down / 600))
        self.env = dict(os.environ)
        self.env.update(
            {
                "FLASK_APP": "wsgi.py",
                "PORTAL_CONFIG": "production",
                "PORTAL_INSTANCE_DIR": str(self.instance),
                "DATABASE_URL": args.database_url or f"sqlite:///{self.instance / 'portal.db'}",
                "REDIS_URL": args.redis_url,
                "SECRET_KEY": secrets.token_hex(32),
                "SECURITY_PASSWORD_SALT": secrets.token_hex(16),
                "TOTP_SECRET": secrets.token_hex(16),
                "FORCE_HTTPS": "0",
                "SESSION_COOKIE_SECURE": "0",
                "PREFERRED_URL_SCHEME": "http",
                "MAIL_BACKEND": "smtp",
                "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(self.smtp.port),
                "MAIL_TIMEOUT": "5",
                "MAIL_RETRY_BASE_SECONDS": str(retry_base),
                "MAIL_MAX_ATTEMPTS": "6",
                "MAIL_SENDING_TIMEOUT": "15",
                "FEEDBACK_RATE_LIMIT": "1000 per hour",
                "FEEDBACK_REPLY_RATE_LIMIT": "1000 per hour",
                "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
                "PORTAL_BASE_URL": f"http://127.0.0.1:{self.port}",
            }
        )
        os.environ.update(self.env)

    # setting up
    def prepare(self) -> dict[str, Any]:
        if self.args.database_url:
            _recreate_pg_database(self.args.database_url)
        if self.args.redis_url:
            import redis

            redis.Redis.from_url(self.args.redis_url).flushdb()
        code = f"import json, sys; sys.path.insert(0, {str(ROOT)!r}); from bench.faults import seed; print(json.dumps(seed({self.args.users})))"
        output = subprocess.run(
            [str(BIN / "python"), "-c", code],
            env=self.env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        import json

        return dict(json.loads(output.strip().splitlines()[-1]))

    def start(self) -> None:
        self.smtp.start()
        self.server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "-w",
                "3",
                "--threads",
                "4",
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            env=self.env,
            cwd=ROOT,
            stdout=(self.instance / "gunicorn.log").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.start_worker()
        for _ in range(150):
            with contextlib.suppress(OSError):
                url = f"http://127.0.0.1:{self.port}/readyz"
                with urllib.request.urlopen(url, timeout=1):
                    return
            time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def start_worker(self) -> None:
        log = (self.instance / "worker.log").open("a")
        self.worker = subprocess.Popen(
            [str(BIN / "flask"), "portal", "worker", "--workers", "2"],
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
        self.smtp.stop()

    def server_errors(self) -> list[str]:
        log = self.instance / "gunicorn.log"
        text = log.read_text() if log.exists() else ""
        return [line for line in text.splitlines() if "ERROR" in line or "Error:" in line]


def seed(users: int) -> dict[str, Any]:
    """Runs in a fresh interpreter with the portal's environment: schema, demo and load data."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from portal import create_app
    from portal.accounts.models import User
    from portal.accounts.services import create_user
    from portal.community.models import Category, Topic
    from portal.core.demo import load_demo_data
    from portal.extensions import db
    from portal.orders.models import Order
    from portal.surveys import sending, services
    from portal.surveys.models import Invitation

    app = create_app()
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        load_demo_data()
        db.session.commit()
        month_ago = datetime.now(UTC) - timedelta(days=30)
        data: dict[str, Any] = {"users": {}}
        for n in range(users):
            email = f"load{n}@example.com"
            user = create_user(email, PASSWORD, name=f"Load Customer {n}", newsletter_consent=True)
            user.joined_at = month_ago
            for k in range(3):
                db.session.add(
                    Order(
                        number=f"L{n:03d}-{k}",
                        user_id=user.id,
                        status="delivered",
                        total_minor=1000 + k,
                        placed_at=month_ago,
                        delivered_at=month_ago + timedelta(days=2),
                    )
                )
            data["users"][email] = {"orders": [f"L{n:03d}-{k}" for k in range(3)]}
        db.session.flush()
        questions = {}
        for s in range(SURVEYS):
            survey = services.create_survey(title=f"Load survey {s}")
            question = services.add_question(survey, type="nps", text="Score?", required=True)
            survey.status = "active"
            db.session.flush()
            sending.send_survey(survey, sending.Audience())
            questions[survey.id] = question.id
        db.session.commit()
        by_user: dict[int, list[tuple[int, int]]] = {}
        invitations = select(Invitation).where(Invitation.survey_id.in_(list(questions)))
        for invitation in db.session.scalars(invitations.order_by(Invitation.id)):
            by_user.setdefault(invitation.user_id, []).append(
                (invitation.id, questions[invitation.survey_id])
            )
        for user in db.session.scalars(select(User).where(User.email.like("load%@example.com"))):
            data["users"][user.email]["invitations"] = by_user.get(user.id, [])
        public = (
            select(Topic.id, Topic.slug)
            .join(Category, Category.id == Topic.category_id)
            .where(
                Topic.state == "visible",
                Topic.is_locked.is_(False),
                Category.staff_only.is_(False),
            )
        )
        data["topics"] = [
            f"{id_}-{urllib.parse.quote(slug)}" for id_, slug in db.session.execute(public)
        ]
        return data


def _recreate_pg_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.database != PG_DATABASE:
        raise SystemExit(f"the PostgreSQL database must be called {PG_DATABASE} (it is dropped)")
    engine = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {PG_DATABASE} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {PG_DATABASE}"))
    engine.dispose()


# --- Auditing ---------------------------------------------------------------------------------


def audit(env: dict[str, str], acks: Acks, received: list[str]) -> dict[str, Any]:
    """Count each acknowledged write and each mail in the database (a fresh connection)."""
    from sqlalchemy import create_engine, func, select

    from portal.community.models import Post
    from portal.feedback.models import FeedbackItem, FeedbackMessage
    from portal.jobs.models import OutboxMessage
    from portal.surveys.models import Response

    engine = create_engine(env["DATABASE_URL"])
    report: dict[str, Any] = {}
    with engine.connect() as connection:

        def count(query: Any) -> int:
            return int(connection.execute(query).scalar() or 0)

        def check(name: str, queries: list[Any]) -> None:
            counts = Counter(count(q) for q in queries)
            report[name] = (len(queries), counts.get(1, 0))

        check(
            "community replies",
            [
                select(func.count(Post.id)).where(Post.body_markdown.contains(m))
                for m in acks.replies
            ],
        )
        check(
            "feedback items",
            [
                select(func.count(FeedbackItem.id)).where(
                    FeedbackItem.reference == ref, FeedbackItem.subject.contains(m)
                )
                for ref, m in acks.feedback
            ],
        )
        check(
            "feedback replies",
            [
                select(func.count(FeedbackMessage.id)).where(FeedbackMessage.body.contains(m))
                for m in acks.feedback_replies
            ],
        )
        check(
            "survey answers",
            [
                select(func.count(Response.id)).where(Response.invitation_id == i)
                for i in acks.surveys
            ],
        )
        rows = connection.execute(select(OutboxMessage.message_id, OutboxMessage.status)).all()
    engine.dispose()
    statuses = Counter(status for _, status in rows)
    got = Counter(received)
    sent_ids = [mid for mid, status in rows if status == "sent"]
    report["mail"] = {
        "queued": len(rows),
        "statuses": dict(statuses),
        "delivered once": sum(1 for mid in sent_ids if got[mid] == 1),
        "delivered twice or more": sum(1 for mid in sent_ids if got[mid] > 1),
        "never delivered": sum(1 for mid, _ in rows if got[mid] == 0),
        "unknown": sum(1 for mid in got if mid not in {m for m, _ in rows}),
    }
    return report


def _wait_for_sending(env: dict[str, str], timeout: float) -> int:
    """Wait until the worker is sending something; how many messages are being sent."""
    from sqlalchemy import create_engine, func, select

    from portal.jobs.models import OutboxMessage

    engine = create_engine(env["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while True:
            with engine.connect() as connection:
                sending = int(
                    connection.execute(
                        select(func.count(OutboxMessage.id)).where(
                            OutboxMessage.status == "sending"
                        )
                    ).scalar()
                    or 0
                )
            if sending or time.monotonic() > deadline:
                return sending
            time.sleep(0.05)
    finally:
        engine.dispose()


def wait_for_mail(env: dict[str, str], timeout: float) -> None:
    """Until nothing is pending or sending (or the timeout)."""
    from sqlalchemy import create_engine, func, select

    from portal.jobs.models import OutboxMessage

    engine = create_engine(env["DATABASE_URL"])
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with engine.connect() as connection:
                left = connection.execute(
                    select(func.count(OutboxMessage.id)).where(
                        OutboxMessage.status.in_(("pending", "sending"))
                    )
                ).scalar()
            if not left:
                return
            time.sleep(2)
    finally:
        engine.dispose()


# --- Faults -----------------------------------------------------------------------------------


@dataclass
class Outage:
    what: str
    started: float = 0.0
    ended: float = 0.0
    notes: list[str] = field(default_factory=list)


def _pg_version() -> str:
    return sorted(os.listdir("/etc/postgresql"), key=lambda v: int(v))[-1]


def _pg_cluster_on(port: int) -> tuple[str, str] | None:
    """(version, name) of the local cluster configured for ``port``, if any."""
    lines = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    for line in lines:
        fields = line.split()
        if len(fields) >= 3 and fields[2] == str(port):
            return fields[0], fields[1]
    return None


def ensure_pg_cluster(port: int) -> None:
    """The bench's own cluster on ``port``: created (trust auth) and started when needed."""
    if port == SHARED_PG_PORT:
        raise SystemExit(f"port {port} is the shared PostgreSQL: the bench uses its own")
    cluster = _pg_cluster_on(port)
    if cluster is None:
        version = _pg_version()
        subprocess.run(
            ["pg_createcluster", version, PG_CLUSTER, "--port", str(port), "--", "--auth=trust"],
            check=True,
            capture_output=True,
        )
        cluster = (version, PG_CLUSTER)
    if cluster[1] != PG_CLUSTER:
        raise SystemExit(f"port {port} belongs to cluster {cluster[1]}, not the bench's")
    if not _pg_ready(port):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], cluster[1], "start"],
            check=True,
            timeout=60,
        )
    _wait_until(lambda: _pg_ready(port), 60, f"PostgreSQL on {port} did not start")


def pg_restart(outage: Outage, port: int) -> None:
    cluster = _pg_cluster_on(port)
    if port == SHARED_PG_PORT or cluster is None or cluster[1] != PG_CLUSTER:
        raise SystemExit(f"refusing to restart the PostgreSQL on port {port}")
    outage.started = time.monotonic()
    try:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", cluster[0], cluster[1], "restart"],
            check=True,
            timeout=60,
        )
    finally:
        _wait_until(lambda: _pg_ready(port), 60, "PostgreSQL did not come back")
        outage.ended = time.monotonic()


def _pg_ready(port: int) -> bool:
    command = ["pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q"]
    return subprocess.run(command, check=False).returncode == 0


def _port(url: str) -> int:
    parsed = urllib.parse.urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    default = SHARED_REDIS_PORT if url.startswith("redis") else SHARED_PG_PORT
    return parsed.port or default


def _wait_until(condition: Any, timeout: float, failure: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise RuntimeError(failure)


@contextlib.contextmanager
def redis_stopped(outage: Outage, port: int) -> Iterator[None]:
    if port == SHARED_REDIS_PORT:
        raise SystemExit(f"refusing to stop the shared Redis on port {port}")
    outage.started = time.monotonic()
    subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "shutdown", "nosave"], check=False
    )
    try:
        yield
    finally:
        ensure_redis(port)
        outage.ended = time.monotonic()


def _redis_up(port: int) -> bool:
    result = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "-p", str(port), "ping"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() == "PONG"


def ensure_redis(port: int) -> None:
    """The bench's own Redis on ``port`` (never the shared one), started when it is not up."""
    if port == SHARED_REDIS_PORT:
        raise SystemExit(f"port {port} is the shared Redis: the bench uses its own")
    if not _redis_up(port):
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=False,
            cwd=tempfile.gettempdir(),
        )
    _wait_until(lambda: _redis_up(port), 30, "Redis did not come back")


def login_limit_probe(base: str, source: str, email: str, attempts: int) -> list[int]:
    """Failed sign-ins for one account from one address until refused: the statuses."""
    client = Client(base, source)
    statuses = []
    status, page, _ = client.request("/login")
    client.remember_csrf(page)
    for _ in range(attempts):
        status, _, _ = client.request(
            "/login", {"csrf_token": client.csrf, "email": email, "password": "wrong-password"}
        )
        statuses.append(status)
        if status == 429:
            break
    return statuses


# --- Running a scenario -----------------------------------------------------------------------


def run_scenario(args: argparse.Namespace, scenario: str) -> dict[str, Any]:
    portal = Portal(args, scenario)
    print(f"== {scenario}: preparing {portal.instance}", flush=True)
    data = portal.prepare()
    duration = args.minutes * 60
    outage = Outage(scenario)
    verdict_notes: list[str] = []
    try:
        portal.start()
        base = f"http://127.0.0.1:{portal.port}"
        load = Load(base, time.monotonic() + duration, data["topics"])
        customers = [
            Customer(load, n, email, info) for n, (email, info) in enumerate(data["users"].items())
        ]
        started = time.monotonic()
        sampler = LoadAverage()
        sampler.start()
        # Customers arrive over the first quarter (at most 30 s), not all in one second: 50
        # argon2 sign-ins at once on two busy cores take longer than the clients' 30 s.
        ramp = min(30.0, duration / 4) / max(len(customers), 1)
        for customer in customers:
            customer.start()
            time.sleep(ramp)
        print(f"   {len(customers)} customers for {duration} s", flush=True)
        # The fault a third of the way in; the worker while the survey invitations go out.
        fault_at = 5 if scenario == "worker-kill" else duration / 3
        time.sleep(max(fault_at - (time.monotonic() - started), 1))
        if scenario == "pg-restart":
            print("   restarting PostgreSQL", flush=True)
            pg_restart(outage, _port(args.database_url))
        elif scenario == "redis-down":
            limit = 6  # LOGIN_RATE_LIMIT: 6 a minute for one account (the first rule)
            tries = 3 * limit + 2

            def probe(label: str, source: str, account: str, per_process: bool) -> None:
                statuses = login_limit_probe(base, source, account, tries)
                refused_at = len(statuses) if statuses[-1] == 429 else None
                verdict_notes.append(f"sign-in limit {label}: refused at try {refused_at}")
                if any(s >= 500 or s == 0 for s in statuses) or refused_at is None:
                    outage.notes.append(f"FAIL: sign-in limit {label}: {statuses}")
                elif not per_process and refused_at != limit + 1:
                    outage.notes.append(f"FAIL: not counted across processes {label}")

            probe("with Redis", "127.0.0.200", "probe-before@example.com", False)
            print(f"   stopping Redis for {args.outage} s", flush=True)
            with redis_stopped(outage, _port(args.redis_url)):
                probe("without Redis", "127.0.0.201", "probe-during@example.com", True)
                time.sleep(max(0, args.outage - (time.monotonic() - outage.started)))
            # Each process looks at its storage again after 1, 2, 4 ... 32 s (Flask-Limiter).
            time.sleep(35)
            probe("after Redis returned", "127.0.0.202", "probe-after@example.com", False)
        elif scenario == "smtp-down":
            print(f"   stopping SMTP for {args.smtp_down} s", flush=True)
            outage.started = time.monotonic()
            portal.smtp.stop()
            try:
                time.sleep(args.smtp_down)
            finally:
                portal.smtp.start()
                outage.ended = time.monotonic()
        elif scenario == "worker-kill":
            for _ in range(2):
                assert portal.worker is not None
                # Kill it while it sends (the SMTP server answers slowly): a job mid-way.
                sending = _wait_for_sending(portal.env, 30)
                print(f"   killing the worker (SIGKILL) while {sending} sending", flush=True)
                os.killpg(portal.worker.pid, signal.SIGKILL)
                portal.worker.wait()
                verdict_notes.append(f"worker killed while {sending} messages were sending")
                time.sleep(3)
                portal.start_worker()
                time.sleep(5)
        for customer in customers:
            customer.join(timeout=duration + 120)
        ran = time.monotonic() - started
        sampler.stop()
        print("   load over; waiting for the outbox to drain", flush=True)
        # After a long SMTP outage the last retries are up to 16 x the backoff base away.
        wait_for_mail(portal.env, 1500 if scenario == "smtp-down" else 180)
        time.sleep(2)
        report = audit(portal.env, load.acks, list(portal.smtp.received))
        server_errors = portal.server_errors()
    finally:
        portal.stop()
        if scenario == "redis-down":
            ensure_redis(_port(args.redis_url))
        if scenario == "pg-restart":
            port = _port(args.database_url)
            _wait_until(lambda: _pg_ready(port), 60, "PostgreSQL is down")
    verdict_notes.insert(0, f"load average {sampler.text()}")
    row = summarise(args, scenario, load, report, outage, ran, verdict_notes, server_errors)
    row["load average"] = sampler.text()
    return row


class LoadAverage(threading.Thread):
    """The machine's 1-minute load average every 10 s while the customers work."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.samples: list[float] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(10):
            self.samples.append(os.getloadavg()[0])

    def stop(self) -> None:
        self.done.set()

    def text(self) -> str:
        if not self.samples:
            return f"{os.getloadavg()[0]:.1f}"
        mean = sum(self.samples) / len(self.samples)
        return f"{mean:.1f} ({min(self.samples):.0f}-{max(self.samples):.0f})"


def summarise(
    args: argparse.Namespace,
    scenario: str,
    load: Load,
    report: dict[str, Any],
    outage: Outage,
    ran: float,
    notes: list[str],
    server_errors: list[str],
) -> dict[str, Any]:
    hits = load.hits
    bad = [h for h in hits if h.status >= 500 or h.status == 0]
    grace = 2.0
    if outage.started:
        outside = [h for h in bad if not (outage.started <= h.at <= outage.ended + grace)]
    else:
        outside = bad
    writes = sum(1 for h in hits if h.action in WRITES)
    refused = Counter(h.status for h in hits if h.action in WRITES and h.status not in (302, 0))
    failures: list[str] = []
    if load.crashes:
        failures.append(f"{len(load.crashes)} simulated customers crashed: {load.crashes[0]}")
    if load.failed_sign_ins:
        failures.append(f"{load.failed_sign_ins} customers could not sign in")
    if scenario in ("load", "smtp-down", "worker-kill", "redis-down") and bad:
        failures.append(f"{len(bad)} errors")
    elif outside:
        failures.append(f"{len(outside)} errors outside the outage")
    for name in ("community replies", "feedback items", "feedback replies", "survey answers"):
        acked, once = report[name]
        if acked != once:
            failures.append(f"{name}: {acked - once} of {acked} not present exactly once")
    mail = report["mail"]
    if mail["delivered twice or more"] or mail["never delivered"] or mail["unknown"]:
        failures.append(
            f"mail: {mail['never delivered']} never, {mail['delivered twice or more']} twice"
        )
    failures.extend(n for n in outage.notes if n.startswith("FAIL"))
    verdict = "PASS" if not failures else "FAIL: " + "; ".join(failures)
    dialect = (args.database_url or "sqlite").split(":", 1)[0].split("+")[0]
    outage_text = (
        f"{outage.ended - outage.started:.1f} s" if outage.started and outage.ended else "-"
    )
    acked = {name: report[name][0] for name in report if name != "mail"}
    row = {
        "scenario": scenario,
        "database": dialect + (" + Redis" if args.redis_url else ""),
        "minutes": f"{ran / 60:.1f}",
        "users": args.users,
        "requests": len(hits),
        "writes acknowledged": sum(acked.values()),
        "errors (in outage)": f"{len(bad)} ({len(bad) - len(outside)})",
        "mail sent once / queued": f"{mail['delivered once']} / {mail['queued']}",
        "outage": outage_text,
        "verdict": verdict,
    }
    print(f"   {scenario}: {verdict}")
    print(f"   requests {len(hits)}, writes tried {writes}, acknowledged {acked}")
    print(f"   write answers other than 302: {dict(refused)}; mail: {mail}")
    odd = Counter((h.action, h.status) for h in hits if h.status not in (200, 302))
    if odd:
        print(f"   answers other than 200/302 by action: {dict(odd)}")
    if bad:
        print(f"   errors by action: {dict(Counter((h.action, h.status) for h in bad))}")
    for note in notes + outage.notes:
        print(f"   {note}")
    if server_errors:
        print(f"   server log: {len(server_errors)} error lines, first: {server_errors[0][:200]}")
    row["notes"] = "; ".join(notes)
    return row


WRITES = {"reply", "file feedback", "feedback reply", "answer survey", "ask for a reset"}


def write_results(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    columns = [
        "scenario",
        "database",
        "minutes",
        "users",
        "requests",
        "writes acknowledged",
        "errors (in outage)",
        "mail sent once / queued",
        "outage",
        "load average",
        "verdict",
    ]
    lines = [
        f"### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · `{' '.join(sys.argv[1:])}`",
        "",
        "| " + " | ".join(columns) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(str(row.get(c, "-")) for c in columns) + " |" for row in rows]
    notes = [f"- {row['scenario']}: {row['notes']}" for row in rows if row.get("notes")]
    if notes:
        lines += ["", *notes]
    previous = RESULTS.read_text() if RESULTS.exists() else HEADER
    head, _, rest = previous.partition("\n### ")
    RESULTS.write_text(
        head.rstrip() + "\n\n" + "\n".join(lines) + "\n" + ("\n### " + rest if rest else "")
    )
    print(f"written to {RESULTS}")


HEADER = """# Load and fault runs

Written by `bench/faults.py` (see its docstring for the scenarios and verdicts). Newest first.
"Errors" are 5xx answers and requests the server did not answer; "in outage" counts those
between the fault and two seconds after the service was back.
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "scenarios",
        nargs="+",
        choices=["load", "pg-restart", "redis-down", "smtp-down", "worker-kill", "all"],
    )
    parser.add_argument(
        "--postgresql", action="store_true", help="on the bench's own PostgreSQL cluster"
    )
    parser.add_argument("--pg-port", type=int, default=5433, help="its port (not 5432)")
    parser.add_argument("--redis", action="store_true", help="with the bench's own Redis")
    parser.add_argument("--redis-port", type=int, default=6380, help="its port (not 6379)")
    parser.add_argument("--database-url", default="", help=f"PostgreSQL: .../{PG_DATABASE}")
    parser.add_argument("--redis-url", default="", help="e.g. redis://127.0.0.1:6380/0")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--outage", type=float, default=20, help="seconds Redis stays down")
    parser.add_argument("--smtp-down", type=float, default=600, help="seconds SMTP stays down")
    args = parser.parse_args()
    if args.postgresql:
        ensure_pg_cluster(args.pg_port)
        args.database_url = f"postgresql+psycopg://postgres@127.0.0.1:{args.pg_port}/{PG_DATABASE}"
    if args.redis:
        ensure_redis(args.redis_port)
        args.redis_url = f"redis://127.0.0.1:{args.redis_port}/0"
    scenarios = args.scenarios
    if "all" in scenarios:
        scenarios = ["load", "smtp-down", "worker-kill"]
        if args.database_url.startswith("postgresql"):
            scenarios.append("pg-restart")
        if args.redis_url:
            scenarios.append("redis-down")
    if "pg-restart" in scenarios and not args.database_url.startswith("postgresql"):
        raise SystemExit("pg-restart needs --postgresql")
    if "pg-restart" in scenarios and _port(args.database_url) == SHARED_PG_PORT:
        raise SystemExit("pg-restart never restarts the shared PostgreSQL: use --postgresql")
    if "redis-down" in scenarios and not args.redis_url:
        raise SystemExit("redis-down needs --redis")
    if "redis-down" in scenarios and _port(args.redis_url) == SHARED_REDIS_PORT:
        raise SystemExit("redis-down never stops the shared Redis: use --redis")
    if not shutil.which("gunicorn", path=str(BIN)):
        raise SystemExit("gunicorn is needed in .venv")
    sys.path.insert(0, str(ROOT))
    rows = [run_scenario(args, scenario) for scenario in scenarios]
    write_results(rows, args)
    if any(row["verdict"] != "PASS" for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
