"""Benchmark harness: the portal under gunicorn, wrk against each page, results as a table.

    .venv/bin/python bench/run.py [--database-url URL] [--duration 10] [--connections 16]

It starts gunicorn (2 x cores + 1 workers) on 127.0.0.1 against the given database (default:
a SQLite file under bench/data/ built with the migrations and the demo or scale data), signs
in the accounts the pages need, runs wrk against each target for the same duration, counts
the SQL queries each page needs (in-process), reads the workers' resident memory, and writes
bench/results.md. Ratios to the hello-world ceiling measured in the same run are the figures
that compare across machines.
"""

from __future__ import annotations

import argparse
import http.cookiejar
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


def default_targets() -> list[Target]:
    targets = [
        Target("hello-world (ceiling)", "/healthz"),
        Target("home, visitor", "/"),
        Target("home, customer", "/", user="anna@example.com"),
        Target("profile", "/account", user="anna@example.com"),
        Target("customer 360", "/staff/customers/{anna_id}", user="manager@example.com"),
        Target("staff dashboard", "/staff/", user="manager@example.com"),
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
    import json

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
            flask("portal", "seed-scale", f"--{seed}")
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


def run_wrk(url: str, cookie: str | None, duration: int, connections: int) -> dict[str, float]:
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "-s",
        str(ROOT / "bench" / "wrk_report.lua"),
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
        "rps": requests / (duration_us / 1e6),
        "errors": errors + (int(non2xx.group(1)) if non2xx else 0),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
    }


def count_queries(
    env: dict[str, str], targets: list[Target], ids: dict[str, object]
) -> dict[str, int]:
    """Queries per request, counted in-process with the same configuration and database."""
    script = r"""
import json, os, re, sys
from sqlalchemy import event
from portal import create_app
from portal.extensions import db
app = create_app(os.environ["PORTAL_CONFIG"], {"RATELIMIT_ENABLED": False})
targets = json.loads(sys.argv[1])
counts = {}
clients = {}
with app.app_context():
    engine = db.engine
def client_for(user):
    if user not in clients:
        c = app.test_client()
        if user:
            page = c.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            r = c.post("/login", data={"email": user, "password": "portal-demo-2026", "csrf_token": token})
            assert r.status_code == 302, "sign-in failed for " + user
        clients[user] = c
    return clients[user]
n = [0]
def count(*a):
    n[0] += 1
event.listen(engine, "before_cursor_execute", count)
for name, path, user, method in targets:
    c = client_for(user)
    c.open(path, method=method)  # warm caches
    n[0] = 0
    r = c.open(path, method=method)
    assert r.status_code < 300, (path, r.status_code)
    counts[name] = n[0]
print(json.dumps(counts))
"""
    import json

    payload = json.dumps([(t.name, t.path.format(**ids), t.user, t.method) for t in targets])
    output = subprocess.run(
        [str(BIN / "python"), "-c", script, payload],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


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
    script = (
        "from portal import create_app\nfrom portal.extensions import db\n"
        "from portal.accounts.models import User\nfrom sqlalchemy import select\n"
        "import os\napp = create_app(os.environ['PORTAL_CONFIG'])\n"
        "with app.app_context():\n"
        "    print(db.session.scalar(select(User.id).where(User.email == 'anna@example.com')))\n"
    )
    output = subprocess.run(
        [str(BIN / "python"), "-c", script],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {"anna_id": int(output.strip().splitlines()[-1])}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", default="demo", help="demo, small or full (seed-scale preset)")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
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
    targets = default_targets()
    workers = 2 * (os.cpu_count() or 1) + 1
    port = free_port()
    server = start_server(env, port, workers)
    base = f"http://127.0.0.1:{port}"
    rows = []
    try:
        cookies = {t.user: sign_in(base, t.user) for t in targets if t.user}
        for target in targets:
            url = base + target.path.format(**ids)
            result = run_wrk(url, cookies.get(target.user), args.duration, args.connections)
            rows.append((target, result))
            print(
                f"{target.name:<32} {result['rps']:>9.1f} req/s  p95 {result['p95']:.1f} ms",
                flush=True,
            )
        memory = worker_memory_mb(server.pid)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    queries = count_queries(env, targets, ids)
    ceiling = rows[0][1]["rps"] or 1
    dialect = database_url.split(":", 1)[0].split("+")[0]
    lines = [
        f"### {args.label or dialect} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"gunicorn {workers} sync workers, wrk -t2 -c{args.connections} -d{args.duration}s on the same "
        f"machine ({os.cpu_count()} cores), database {dialect}, data: {args.seed}. Largest worker: "
        f"{memory:.0f} MB resident.",
        "",
        "| page | req/s | ratio to hello-world | p50 ms | p95 ms | p99 ms | queries | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for target, result in rows:
        lines.append(
            f"| {target.name} | {result['rps']:.0f} | {result['rps'] / ceiling:.2f} | {result['p50']:.1f} | "
            f"{result['p95']:.1f} | {result['p99']:.1f} | {queries.get(target.name, '?')} | {int(result['errors'])} |"
        )
    output = Path(args.output)
    previous = output.read_text() if output.exists() else "# Benchmark results\n\nNewest first.\n"
    head, _, rest = previous.partition("\n### ")
    body = "\n".join(lines) + "\n"
    output.write_text(head.rstrip() + "\n\n" + body + ("\n### " + rest if rest else ""))
    print(f"written to {output}")


if __name__ == "__main__":
    sys.exit(main())
