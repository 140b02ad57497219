"""Lighthouse performance scores of the home page and the biggest topic's first page.

    .venv/bin/python bench/lighthouse.py [--database-url URL] [--seed demo|small|full]
        [--preset mobile|desktop] [--runs 3]

Starts the portal under gunicorn as bench/run.py does, runs Lighthouse from node_modules
(`npm ci`) with Debian's Chromium (CHROME_PATH, /usr/bin/chromium; no browser is
downloaded), keeps the median score of ``--runs`` runs per page, and appends a table to
bench/results.md: the score, the metrics it is made of, the bytes transferred, the requests
and the hosts asked, and the audits that failed.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import DATA, ROOT, environment, free_port, lookup_ids, prepare, start_server

LIGHTHOUSE = ROOT / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
METRICS = (
    ("first-contentful-paint", "FCP"),
    ("largest-contentful-paint", "LCP"),
    ("total-blocking-time", "TBT"),
    ("cumulative-layout-shift", "CLS"),
    ("speed-index", "SI"),
)


def lighthouse(url: str, preset: str) -> dict:
    with tempfile.TemporaryDirectory() as directory:
        report = Path(directory) / "report.json"
        command = [
            "node",
            str(LIGHTHOUSE),
            url,
            "--quiet",
            "--only-categories=performance",
            "--output=json",
            f"--output-path={report}",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ]
        if preset == "desktop":
            command.append("--preset=desktop")
        subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROMIUM}, cwd=ROOT)
        data = dict(json.loads(report.read_text()))
        if os.environ.get("LIGHTHOUSE_KEEP"):
            Path(os.environ["LIGHTHOUSE_KEEP"]).write_text(report.read_text())
        return data


def summary(report: dict) -> dict:
    audits = report["audits"]
    requests = audits["network-requests"]["details"]["items"]
    failed = sorted(
        audit["id"]
        for audit in audits.values()
        if audit.get("score") is not None
        and audit["score"] < 0.9
        and audit.get("scoreDisplayMode") in ("binary", "numeric", "metricSavings")
    )
    return {
        "score": report["categories"]["performance"]["score"],
        "metrics": {
            short: audits[name].get("displayValue", "").replace("\xa0", " ")
            for name, short in METRICS
        },
        "bytes": sum(item.get("transferSize", 0) for item in requests),
        "requests": len(requests),
        "hosts": sorted(
            {urlsplit(item["url"]).netloc for item in requests if item["url"].startswith("http")}
        ),
        "failed": failed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--seed", default="demo")
    parser.add_argument("--preset", choices=["mobile", "desktop"], default="mobile")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "bench" / "results.md"))
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        raise SystemExit("Lighthouse is needed: npm ci")

    DATA.mkdir(parents=True, exist_ok=True)
    instance = DATA / "instance"
    instance.mkdir(exist_ok=True)
    database_url = args.database_url or f"sqlite:///{DATA / ('bench-' + args.seed + '.db')}"
    env = environment(database_url, instance)
    prepare(env, args.seed)
    ids = lookup_ids(env)
    pages = [("home", "/"), (f"topic ({ids['topic_posts']} posts)", str(ids["topic_path"]))]
    port = free_port()
    server = start_server(env, port, 2 * (os.cpu_count() or 1) + 1)
    rows = []
    try:
        for name, path in pages:
            runs = [summary(lighthouse(f"http://127.0.0.1:{port}{path}", args.preset))]
            for _ in range(args.runs - 1):
                runs.append(summary(lighthouse(f"http://127.0.0.1:{port}{path}", args.preset)))
            runs.sort(key=lambda run: run["score"])
            median = runs[len(runs) // 2]
            scores = [run["score"] for run in runs]
            rows.append((name, median, scores))
            print(f"{name}: {median['score']:.2f} (runs: {scores})", flush=True)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    dialect = database_url.split(":", 1)[0].split("+")[0]
    lines = [
        f"### Lighthouse, {args.preset} · {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"Lighthouse {json.loads((LIGHTHOUSE.parent.parent / 'package.json').read_text())['version']} "
        f"(performance only, its default simulated throttling), Debian's Chromium, gunicorn on "
        f"{dialect} with the {args.seed} data; the median of {args.runs} runs per page (load "
        f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores). Target: 0.95.",
        "",
        "| page | score | runs | "
        + " | ".join(short for _, short in METRICS)
        + " | transferred | requests | hosts | audits below 0.9 |",
        "|---|---:|---|" + "---:|" * len(METRICS) + "---:|---:|---|---|",
    ]
    for name, run, scores in rows:
        lines.append(
            f"| {name} | {run['score']:.2f} | {', '.join(f'{s:.2f}' for s in scores)} | "
            + " | ".join(run["metrics"][short] for _, short in METRICS)
            + f" | {run['bytes'] / 1024:.1f} KB | {run['requests']} | "
            f"{', '.join(run['hosts'])} | {', '.join(run['failed']) or 'none'} |"
        )
    output = Path(args.output)
    previous = output.read_text() if output.exists() else "# Benchmark results\n\nNewest first.\n"
    head, _, rest = previous.partition("\n### ")
    body = "\n".join(lines) + "\n"
    output.write_text(head.rstrip() + "\n\n" + body + ("\n### " + rest if rest else ""))
    print(f"written to {output}")


if __name__ == "__main__":
    main()
