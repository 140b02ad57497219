"""Benchmark harness: the portal under gunicorn, wrk against each page, results as a table.

    .venv/bin/python bench/run.py [--database-url URL] [--seed small] [--duration 10]
        [--connections 16] [--latency-connections 1] [--only "topic,category"]

It starts gunicorn (2 x cores + 1 workers) on 127.0.0.1 against the given database (default:
a SQLite file under bench/data/ built with the migrations and the demo or scale data), signs
in the accounts the pages need, measures each target in two passes, counts the SQL queries
each page needs (in-process), reads the workers' resident memory, and writes
bench/results.md.

- Throughput pass: wrk with ``--connections`` (16) connections saturates the server for
  ``--duration`` seconds. Its requests per second, as a ratio to the hello-world ceiling
  measured in the same run, are the figures that compare across machines. Its latencies are
  mostly time spent waiting in the queue, not serving: by Little's law 16 connections at
  900 requests a second are ~18 ms each on average however fast the page, and hello-world's
  own p95 there is ~11 ms. They show how the server behaves when overloaded, and cannot judge
  a latency target.
- Latency pass: wrk with ``--latency-connections`` (1) connection for
  ``--latency-duration`` seconds, well below capacity, so no request waits for another:
  p50/p95/p99 are the time to serve the page (plus wrk and the loopback, which hello-world's
  row shows). Latency targets are judged on this pass.

``--only`` keeps the targets whose name contains one of its comma-separated parts (and
hello-world, the ceiling).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DATA = ROOT / "bench" / "data"
DEMO_PASSWORD = "portal-demo-2026"


@dataclass
class Target:
    name: str
    path: str
    user: str | None = None  # sign in as this demo account
    method: str = "GET"
    body: str | None = None
    survey: bool = False  # POST an answer through a fresh e-mail link token per request


CUSTOMER = "anna@example.com"
MANAGER = "manager@example.com"


def default_targets() -> list[Target]:
    targets = [
        Target("hello-world (ceiling)", "/healthz"),
        Target("home, visitor", "/"),
        Target("home, customer", "/", user=CUSTOMER),
        Target("profile", "/account", user=CUSTOMER),
        Target("topic, first page ({topic_posts} posts)", "{topic_path}"),
        Target("topic, last page (page {topic_pages})", "{topic_path}?page={topic_pages}"),
        Target("category list", "/community/c/{category_slug}"),
        Target("orders, customer", "/orders", user=CUSTOMER),
        Target("feedback, customer", "/feedback", user=CUSTOMER),
        Target("community search, word", "/community/search?q=delivery"),
        Target("community search, Chinese", "/community/search?q=%E5%BF%AB%E9%80%92"),
        Target("customer 360", "/staff/customers/{anna_id}", user=MANAGER),
        Target("staff dashboard", "/staff/", user=MANAGER),
        Target("survey answer via link (POST)", "/s/{token}", method="POST", survey=True),
    ]
    extra = ROOT / "bench" / "targets.py"
    if extra.exists():
        namespace: dict = {"Target": Target}
        exec(compile(extra.read_text(), str(extra), "exec"), namespace)
        targets.extend(namespace.get("TARGETS", []))
    return targets


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _secrets() -> dict[str, str]:
    """Secrets made once per data directory: the seeded passwords depend on the salt."""
    path = DATA / "secrets.json"
    if not path.exists():
        path.write_text(
            json.dumps(
                {
                    "SECRET_KEY": secrets.token_hex(32),
                    "SECURITY_PASSWORD_SALT": secrets.token_hex(16),
                    "TOTP_SECRET": secrets.token_hex(16),
                }
            )
        )
    return dict(json.loads(path.read_text()))


def environment(database_url: str, instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(_secrets())
    env.update(
        {
            "FLASK_APP": "wsgi.py",
            "PORTAL_CONFIG": "production",
            "PORTAL_INSTANCE_DIR": str(instance),
            "DATABASE_URL": database_url,
            "FORCE_HTTPS": "0",
            "SESSION_COOKIE_SECURE": "0",
            "PREFERRED_URL_SCHEME": "http",
            "MAIL_BACKEND": "null",
            # The load generator signs in from one address: lift the sign-in limit for the run.
            "LOGIN_RATE_LIMIT": "10000 per minute",
        }
    )
    return env


def prepare(env: dict[str, str], seed: str) -> None:
    def flask(*args: str) -> None:
        subprocess.run(
            [str(BIN / "flask"), *args], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
        )

    flask("db", "upgrade")
    flask("portal", "seed-demo")
    if seed != "demo":
        # seed-scale adds data each time it runs: once per database.
        marker = DATA / (
            "seeded-" + re.sub(r"[^A-Za-z0-9]+", "_", env["DATABASE_URL"]) + f"-{seed}"
        )
        if not marker.exists():
            flask("portal", "seed-scale", *(["--small"] if seed == "small" else []))
            flask("portal", "rebuild-rollups")
            marker.touch()


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def sign_in(base: str, email: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token on the sign-in page"
    data = urllib.parse.urlencode(
        {"email": email, "password": DEMO_PASSWORD, "csrf_token": token.group(1)}
    ).encode()
    response = opener.open(f"{base}/login", data=data)
    response.read()
    # A successful sign-in redirects away from the form.
    assert not response.url.rstrip("/").endswith("/login"), f"sign-in as {email} failed"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def run_wrk(
    url: str, cookie: str | None, duration: int, connections: int, script: Path | None = None
) -> dict[str, float]:
    command = [
        "wrk",
        f"-t{min(2, connections)}",
        f"-c{connections}",
        f"-d{duration}s",
        # Slow pages are measured, not dropped: wrk's default 2 s would count them as errors.
        "--timeout",
        "10s",
        "-s",
        str(script or ROOT / "bench" / "wrk_report.lua"),
        url,
    ]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    match = re.search(
        r"BENCH requests=(\d+) duration_us=(\d+) errors=(\d+) p50=(\d+) p95=(\d+) p99=(\d+)", output
    )
    assert match, output
    requests, duration_us, errors, p50, p95, p99 = (int(v) for v in match.groups())
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6),
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
    }


def count_queries(
    env: dict[str, str], targets: list[tuple[str, str, str, str | None, str, dict]]
) -> dict[str, int]:
    """Queries per request, counted in-process with the same configuration and database.

    Each target is (name, warm-up path, counted path, user, method, form data); a POST
    first reads the hidden fields of its form (a CSRF token, a language) from a GET of its
    warm-up path, as a browser posts them.
    """
    script = r"""
import json, os, re, sys
sys.path.insert(0, "bench")
from surveys import hidden_fields
from sqlalchemy import event
from portal import create_app
from portal.extensions import db
app = create_app(os.environ["PORTAL_CONFIG"], {"RATELIMIT_ENABLED": False})
targets = json.loads(sys.argv[1])
counts = {}
clients = {}
with app.app_context():
    engine = db.engine
def csrf(c, path):
    page = c.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
def client_for(user):
    if user not in clients:
        c = app.test_client()
        if user:
            token = csrf(c, "/login")
            r = c.post("/login", data={"email": user, "password": "portal-demo-2026", "csrf_token": token})
            assert r.status_code == 302, "sign-in failed for " + user
        clients[user] = c
    return clients[user]
n = [0]
def count(*a):
    n[0] += 1
event.listen(engine, "before_cursor_execute", count)
for name, warm, path, user, method, data in targets:
    c = client_for(user)
    if method == "POST":
        data = dict(hidden_fields(c.get(warm).get_data(as_text=True)), **data)
    c.open(warm, method=method, data=data)  # warm caches
    n[0] = 0
    r = c.open(path, method=method, data=data)
    assert r.status_code < 400, (path, r.status_code)
    counts[name] = n[0]
print(json.dumps(counts))
"""
    output = subprocess.run(
        [str(BIN / "python"), "-c", script, json.dumps(targets)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def worker_memory_mb(master_pid: int) -> float:
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            match = re.search(r"VmRSS:\s+(\d+) kB", status.read_text())
            if match:
                sizes.append(int(match.group(1)) / 1024)
    return max(sizes) if sizes else 0.0


def lookup_ids(env: dict[str, str]) -> dict[str, object]:
    """Ids and paths the targets need: the customer, the biggest topic and its category."""
    script = r"""
import json, os
from sqlalchemy import select
from portal import create_app
from portal.extensions import db
from portal.accounts.models import User
from portal.community.models import Category, Topic
from portal.community.services import POSTS_PER_PAGE
app = create_app(os.environ["PORTAL_CONFIG"])
with app.app_context():
    anna = db.session.scalar(select(User.id).where(User.email == "anna@example.com"))
    topic = db.session.scalars(
        select(Topic).where(Topic.state == "visible").order_by(Topic.last_position.desc(), Topic.id)
    ).first()
    category = db.session.get(Category, topic.category_id)
    print(json.dumps({
        "anna_id": anna,
        "topic_path": f"/community/t/{topic.id}-{topic.slug}",
        "topic_posts": topic.last_position,
        "topic_pages": max(1, (topic.last_position - 1) // POSTS_PER_PAGE + 1),
        "category_slug": category.slug,
    }))
"""
    output = subprocess.run(
        [str(BIN / "python"), "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(output.strip().splitlines()[-1]))


def survey_pool(env: dict[str, str], count: int) -> tuple[int, list[str]]:
    """``count`` fresh survey links (tokens) and the benchmark survey's question id."""
    out = DATA / "survey-tokens.txt"
    output = subprocess.run(
        [str(BIN / "python"), str(ROOT / "bench" / "survey_tokens.py"), str(count), str(out)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    _, question_id = (int(v) for v in output.split()[-2:])
    return question_id, out.read_text().split()


SURVEY_LUA = """
-- Each request answers through a fresh link: thread k takes every THREADS-th token.
local tokens, counter = {}, 1
local created = 0
function setup(thread)
  thread:set("thread_number", created)
  created = created + 1
end
function init(args)
  local n = 0
  for line in io.lines(%(tokens)s) do
    if n %% %(threads)d == thread_number then tokens[#tokens + 1] = line end
    n = n + 1
  end
end
function request()
  local token = tokens[counter] or "pool-exhausted"
  counter = counter + 1
  return wrk.format("POST", "/s/" .. token, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = %(cookie)s,
  }, %(body)s)
end
"""


def lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string of ASCII is a valid Lua string literal


def survey_script(base: str, tokens: list[str], question_id: int) -> tuple[Path, list[str]]:
    """A wrk script posting answers through the pool's links; returns it and the tokens
    left for other uses (the first token's GET gives the page's hidden fields, as a browser
    posts them, and its cookies)."""
    from surveys import hidden_fields

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/s/{tokens[0]}").read().decode()
    body = urllib.parse.urlencode({**hidden_fields(page), f"q{question_id}": "9", "submit": "Send"})
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    tokens_file = DATA / "survey-tokens-wrk.txt"
    tokens_file.write_text("\n".join(tokens[1:]) + "\n")
    script = DATA / "survey.lua"
    script.write_text(
        SURVEY_LUA
        % {
            "tokens": lua_string(str(tokens_file)),
            "threads": 2,
            "cookie": lua_string(cookie),
            "body": lua_string(body),
        }
        + (ROOT / "bench" / "wrk_report.lua").read_text()
    )
    return script, tokens[1:]


def answered_count(env: dict[str, str], tokens: list[str]) -> tuple[int, int]:
    """(responses, answered invitations) among the given links, read from the database."""
    script = r"""
import os, sys
from sqlalchemy import func, select
from portal import create_app
from portal.extensions import db
from portal.surveys.models import Invitation, Response
from portal.surveys.sending import hash_token
app = create_app(os.environ["PORTAL_CONFIG"])
hashes = [hash_token(t) for t in open(sys.argv[1]).read().split()]
responses = answered = 0
with app.app_context():
    for i in range(0, len(hashes), 500):
        ids = select(Invitation.id).where(Invitation.token_hash.in_(hashes[i:i + 500]))
        responses += db.session.scalar(select(func.count()).where(Response.invitation_id.in_(ids)))
        answered += db.session.scalar(
            select(func.count()).select_from(Invitation)
            .where(Invitation.id.in_(ids), Invitation.responded_at.is_not(None)))
print(responses, answered)
"""
    listing = DATA / "survey-tokens-check.txt"
    listing.write_text("\n".join(tokens))
    output = subprocess.run(
        [str(BIN / "python"), "-c", script, str(listing)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    responses, answered = (int(v) for v in output.split()[-2:])
    return responses, answered


def _workers_cpu_ticks(master_pid: int) -> tuple[int, int]:
    """How many workers the server has, and the CPU ticks they have used so far."""
    children = subprocess.run(
        ["pgrep", "-P", str(master_pid)], capture_output=True, text=True
    ).stdout.split()
    ticks = 0
    for pid in children:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return len(children), ticks


def wait_until_booted(master_pid: int, workers: int, timeout: float = 60) -> None:
    """Wait until every worker is up and idle: the restart is over, the first request may come.

    A worker answers as soon as it has booted, while the others are still importing the
    application on the same cores; a request then would measure the restart, not the page.
    """
    deadline = time.monotonic() + timeout
    previous = (-1, -1)
    while time.monotonic() < deadline:
        time.sleep(0.3)
        current = _workers_cpu_ticks(master_pid)
        if current[0] == workers and current[1] - previous[1] <= 1:
            return
        previous = current
    raise SystemExit("gunicorn's workers did not settle")


def cold_dashboard(env: dict[str, str], workers: int, cookie: str, runs: int) -> list[float]:
    """Milliseconds of the dashboard's first request after a restart of the server."""
    times = []
    for _ in range(runs):
        port = free_port()
        server = start_server(env, port, workers)
        try:
            wait_until_booted(server.pid, workers)
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/staff/", headers={"Cookie": cookie}
            )
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=60) as response:
                response.read()
                assert response.status == 200, response.status
            times.append((time.perf_counter() - started) * 1000)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", default="demo", help="demo, small or full (seed-scale preset)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--latency-connections",
        type=int,
        default=1,
        help="connections of the latency pass (0: no latency pass)",
    )
    parser.add_argument("--latency-duration", type=int, default=5)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument(
        "--only", default="", help="only targets whose name contains one of these (a,b,...)"
    )
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    parser.add_argument("--label", default="")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    DATA.mkdir(parents=True, exist_ok=True)
    instance = DATA / "instance"
    instance.mkdir(exist_ok=True)
    database_url = args.database_url or f"sqlite:///{DATA / ('bench-' + args.seed + '.db')}"
    env = environment(database_url, instance)
    prepare(env, args.seed)
    ids = lookup_ids(env)
    wanted = [part.strip() for part in args.only.split(",") if part.strip()]
    targets = [
        t
        for t in default_targets()
        if not wanted or any(part in t.name for part in wanted) or t.path == "/healthz"
    ]
    workers = 2 * (os.cpu_count() or 1) + 1
    port = free_port()
    # Enough links for the fastest answering rate seen, with room to spare; 3 for counting.
    question_id, tokens = survey_pool(env, args.duration * 2500 + 4)
    counting_tokens, tokens = tokens[:3], tokens[3:]
    server = start_server(env, port, workers)
    base = f"http://127.0.0.1:{port}"
    rows = []
    quiet: dict[str, dict[str, float]] = {}
    survey_check = ""
    cold: list[float] = []
    try:
        cookies = {t.user: sign_in(base, t.user) for t in targets if t.user}
        for target in targets:
            url = base + target.path.format(**ids, token="")
            script = None
            if target.survey:
                script, posted = survey_script(base, tokens, question_id)
            result = run_wrk(url, cookies.get(target.user), args.duration, args.connections, script)
            if target.survey:
                done, answered = answered_count(env, posted)
                sent = int(result["requests"])
                survey_check = (
                    f"Survey answers: wrk completed {sent} POSTs; the database holds {done} "
                    f"responses and {answered} answered invitations for those links "
                    f"(requests in flight when wrk stops are completed by the server but not "
                    f"counted by wrk)."
                )
            rows.append((target, result))
            line = (
                f"{target.name.format(**ids):<40} {result['rps']:>9.1f} req/s  "
                f"p95 {result['p95']:.1f} ms"
            )
            if args.latency_connections and not target.survey:
                # Each answer link works once: the survey's POST has no latency pass.
                quiet[target.name] = run_wrk(
                    url,
                    cookies.get(target.user),
                    args.latency_duration,
                    args.latency_connections,
                )
                line += (
                    f"  p95 at {args.latency_connections} conn. {quiet[target.name]['p95']:.1f} ms"
                )
            print(line, flush=True)
        memory = worker_memory_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    if args.cold_runs and any(t.path == "/staff/" for t in targets):
        cold = cold_dashboard(env, workers, cookies[MANAGER], args.cold_runs)
    queries = count_queries(
        env,
        [
            (
                t.name,
                t.path.format(**ids, token=counting_tokens[0]),
                t.path.format(**ids, token=counting_tokens[1]),
                t.user,
                t.method,
                {f"q{question_id}": "9", "submit": "Send"} if t.survey else {},
            )
            for t in targets
        ],
    )
    ceiling = rows[0][1]["rps"] or 1
    dialect = database_url.split(":", 1)[0].split("+")[0]
    lines = [
        f"### {args.label or dialect} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"gunicorn {workers} sync workers, wrk -t2 -c{args.connections} -d{args.duration}s on the same "
        f"machine ({os.cpu_count()} cores, load average before the run "
        f"{os.getloadavg()[0]:.1f}), database {dialect}, data: {args.seed}. "
        f"Largest worker: {memory:.0f} MB resident.",
    ]
    if quiet:
        c = args.latency_connections
        lines += [
            "",
            f"Throughput pass: {args.connections} connections, requests per second and their "
            f"ratio to hello-world; its latencies are mostly queueing. Latency pass: "
            f"{c} connection{'s' if c > 1 else ''} for {args.latency_duration} s, no request "
            f"waits for another: latency targets are judged there.",
            "",
            f"| page | req/s | ratio to hello-world | p50 ms at {args.connections} conn. | "
            f"p95 ms at {args.connections} conn. | p99 ms at {args.connections} conn. | "
            f"p50 ms at {c} conn. | p95 ms at {c} conn. | p99 ms at {c} conn. | "
            f"queries | errors (timeouts > 10 s, non-2xx/3xx) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
    else:
        lines += [
            "",
            "| page | req/s | ratio to hello-world | p50 ms | p95 ms | p99 ms | queries | errors (timeouts > 10 s, non-2xx/3xx) |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
    for target, result in rows:
        latency = ""
        if quiet:
            low = quiet.get(target.name)
            latency = (
                f" {low['p50']:.1f} | {low['p95']:.1f} | {low['p99']:.1f} |"
                if low
                else " n/a | n/a | n/a |"
            )
        errors = int(
            result["errors"] + (quiet[target.name]["errors"] if target.name in quiet else 0)
        )
        lines.append(
            f"| {target.name.format(**ids)} | {result['rps']:.0f} | {result['rps'] / ceiling:.2f} | "
            f"{result['p50']:.1f} | {result['p95']:.1f} | {result['p99']:.1f} |{latency} "
            f"{queries.get(target.name, '?')} | {errors} |"
        )
    if cold:
        lines += [
            "",
            f"Staff dashboard, cold (first request after a restart of gunicorn, {len(cold)} "
            f"runs): {', '.join(f'{t:.0f}' for t in cold)} ms; worst {max(cold):.0f} ms.",
        ]
    if survey_check:
        lines += ["", survey_check]
    output = Path(args.output)
    previous = output.read_text() if output.exists() else "# Benchmark results\n\nNewest first.\n"
    head, _, rest = previous.partition("\n### ")
    body = "\n".join(lines) + "\n"
    output.write_text(head.rstrip() + "\n\n" + body + ("\n### " + rest if rest else ""))
    print(f"written to {output}")


if __name__ == "__main__":
    sys.exit(main())
