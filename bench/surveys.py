"""Survey throughput on a fresh SQLite file: count an audience, send to it, store answers,
compute the results; then answers through e-mail links from several processes at once on one
SQLite file, checked against the database afterwards (none lost, none duplicated).

    PYTHONPATH=. .venv/bin/python bench/surveys.py [customers] [--processes 4] [--answers 8000]
        [--via service|http|both] [--skip-single]

"http" posts each answer through the link's page (`POST /s/<token>` with the page's hidden
fields, as a browser would; the whole Flask stack); "service" calls what the view calls
(answering.submit_by_token: one write transaction that claims the invitation by its token's
hash, checks the answers against the survey's cached questions and stores them)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select


def main(customers: int) -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.extensions import db

    directory = Path(tempfile.mkdtemp())
    app = create_app(
        "development",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory / 'bench.db'}",
            "MAIL_BACKEND": "null",
            "MAIL_DELIVER_INLINE": False,
        },
    )
    with app.app_context():
        upgrade()
        from portal.accounts.models import User
        from portal.accounts.services import ensure_reference_data, get_role
        from portal.surveys import answering, sending, services
        from portal.surveys.models import Invitation, Survey
        from portal.surveys.results import survey_results

        ensure_reference_data()
        role = get_role("customer")
        for n in range(customers):
            user = User(
                email=f"c{n}@example.com",
                password="-",  # noqa: S106 - never used to sign in
                fs_uniquifier=f"bench-{n}",
                active=True,
                newsletter_consent=True,
                locale=("en", "lv", "ru")[n % 3],
            )
            user.roles.append(role)
            db.session.add(user)
        survey = services.create_survey(title="Bench")
        question = services.add_question(survey, type="nps", text="Score?", required=True)
        survey.status = "active"
        db.session.commit()

        started = time.perf_counter()
        audience = sending.count_audience(sending.Audience(), survey)
        counted = time.perf_counter() - started
        started = time.perf_counter()
        sent = sending.send_survey(survey, sending.Audience())
        db.session.commit()
        sending_time = time.perf_counter() - started
        invitation_ids = list(db.session.scalars(select(Invitation.id)))
        question_id, survey_id = question.id, survey.id
        db.session.expunge_all()  # each answer commits: keep the session as small as a request's
        started = time.perf_counter()
        for invitation_id in invitation_ids:
            invitation = db.session.get(Invitation, invitation_id)
            assert invitation is not None
            answering.submit_response(invitation, {question_id: invitation_id % 11}, locale="en")
        answering_time = time.perf_counter() - started
        started = time.perf_counter()
        outcome = survey_results(db.session.get(Survey, survey_id))
        results_time = time.perf_counter() - started

    print("| step | amount | time |")
    print("|---|---:|---:|")
    print(f"| count the audience | {audience} | {counted * 1000:.1f} ms |")
    print(f"| send (invitation + mail into the outbox) | {sent} | {sending_time:.2f} s |")
    print(f"| store responses | {len(invitation_ids)} | {answering_time:.2f} s |")
    print(
        f"| compute results (NPS {outcome.nps}) | {outcome.responses} | {results_time * 1000:.0f} ms |"
    )


# --- answers through links from several processes ------------------------------------------


def _answer_worker(
    database: str, tokens: list[str], question_id: int, start: Any, results: Any, via: str
) -> None:
    """One process: answer every link in ``tokens`` (through the view or the service)."""
    from portal import create_app

    app = create_app("production", _overrides(database))
    outcome = {"answered": 0, "already": 0, "other": 0}
    if via == "http":
        client = app.test_client()
        page = client.get(f"/s/{tokens[0]}", base_url="https://localhost").get_data(as_text=True)
        data = {**hidden_fields(page), f"q{question_id}": "9", "submit": "Send"}
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        for token in tokens:
            # Posted from the link's own page, as a browser would (HTTPS checks the referrer).
            referrer = {"Referer": f"https://localhost/s/{token}"}
            status = client.post(
                f"/s/{token}", data=data, headers=referrer, base_url="https://localhost"
            ).status_code
            key = {302: "answered", 410: "already"}.get(status, "other")
            outcome[key] += 1
    else:
        from werkzeug.datastructures import MultiDict

        from portal.core.db import write_intent
        from portal.surveys import answering

        form = MultiDict({f"q{question_id}": "9", "submit": "Send"})
        start.wait()
        began, cpu = time.perf_counter(), time.process_time()
        with app.app_context():
            for token in tokens:
                # What the link's view does: one write that claims the invitation by the
                # token's hash, checks the answers against the cached questions, stores them.
                write_intent.set(False)
                try:
                    answering.submit_by_token(token, form, locale="en")
                    outcome["answered"] += 1
                except answering.NotOpen:
                    outcome["already"] += 1
    outcome["cpu"] = time.process_time() - cpu  # type: ignore[assignment]
    wall = time.perf_counter() - began
    if via == "http":
        # The floor of the same stack in the same process and moment: CPU per hello-world.
        hello = time.process_time()
        for _ in range(HELLO_REQUESTS):
            client.get("/healthz", base_url="https://localhost")
        outcome["hello_cpu"] = (time.process_time() - hello) / HELLO_REQUESTS  # type: ignore[assignment]
    results.put((wall, outcome))


HELLO_REQUESTS = 300


def hidden_fields(page: str) -> dict[str, str]:
    """The hidden fields of the answer page's form (its language; a CSRF token where the
    page has one), which a browser posts with the answers."""
    import re

    fields = dict(
        re.findall(r'<input[^>]*\bname="([^"]+)"[^>]*\btype="hidden"[^>]*\bvalue="([^"]*)"', page)
    )
    fields.update(
        re.findall(r'<input[^>]*\btype="hidden"[^>]*\bname="([^"]+)"[^>]*\bvalue="([^"]*)"', page)
    )
    assert "locale" in fields or "csrf_token" in fields, "no hidden fields on the survey page"
    return fields


def _overrides(database: str) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database,
        "SECRET_KEY": "bench-only-secret-key-0123456789",
        "SECURITY_PASSWORD_SALT": "bench-only-salt",
        "SECURITY_TOTP_SECRETS": {"1": "bench-only-totp-secret"},
        "MAIL_BACKEND": "null",
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "FORCE_HTTPS": False,
    }


def concurrent(processes: int, answers: int, via: str, overlap: float) -> dict[str, Any]:
    """``answers`` links answered from ``processes`` processes on one SQLite file; a share
    ``overlap`` of the links is also posted by a second process, to race double submits.
    Returns throughput and the counts read back from the database."""
    import multiprocessing

    from flask_migrate import upgrade
    from sqlalchemy import func

    from portal import create_app
    from portal.extensions import db

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from survey_tokens import make_pool

    directory = Path(tempfile.mkdtemp())
    database = f"sqlite:///{directory / 'answers.db'}"
    app = create_app("production", _overrides(database))
    with app.app_context():
        upgrade()
        from portal.accounts.models import User
        from portal.accounts.services import ensure_reference_data, get_role

        ensure_reference_data()
        role = get_role("customer")
        for n in range(100):
            user = User(
                email=f"c{n}@example.com",
                password="-",  # noqa: S106 - never used to sign in
                fs_uniquifier=f"bench-{n}",
                active=True,
            )
            user.roles.append(role)
            db.session.add(user)
        db.session.commit()
        survey_id, question_id, tokens = make_pool(answers + processes)
        db.session.remove()
        db.engine.dispose()
    # The first link of each process opens its session (GET) and is answered too.
    shares = [tokens[n::processes] for n in range(processes)]
    raced = int(len(tokens) * overlap / processes)
    for n in range(processes):
        # Also post some of the next process's links, at the same point in its run.
        neighbour = shares[(n + 1) % processes]
        mixed = list(shares[n])
        for k, token in enumerate(neighbour[1 : raced + 1]):
            mixed.insert(min(len(mixed), 2 * k + 2), token)
        shares[n] = mixed
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_answer_worker, args=(database, share, question_id, start, results, via)
        )
        for share in shares
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    outcomes = [results.get(timeout=600) for _ in workers]
    wall = time.perf_counter() - began
    for worker in workers:
        worker.join()
    from portal.surveys.models import Answer, Invitation, Response

    with app.app_context():
        responses = db.session.scalar(
            select(func.count()).select_from(Response).where(Response.survey_id == survey_id)
        )
        answered = db.session.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.survey_id == survey_id, Invitation.responded_at.is_not(None))
        )
        answer_rows = db.session.scalar(
            select(func.count())
            .select_from(Answer)
            .join(Response, Response.id == Answer.response_id)
            .where(Response.survey_id == survey_id)
        )
        duplicated = db.session.scalar(
            select(func.count()).select_from(
                select(Response.invitation_id)
                .where(Response.survey_id == survey_id)
                .group_by(Response.invitation_id)
                .having(func.count() > 1)
                .subquery()
            )
        )
    cpu = sum(o.pop("cpu") for _, o in outcomes)
    hello = [o.pop("hello_cpu") for _, o in outcomes if "hello_cpu" in o]
    posted = sum(sum(o.values()) for _, o in outcomes)
    ok = sum(o["answered"] for _, o in outcomes)
    return {
        "via": via,
        "processes": processes,
        "links": len(tokens),
        "posted": posted,
        "answered_ok": ok,
        "already": sum(o["already"] for _, o in outcomes),
        "other": sum(o["other"] for _, o in outcomes),
        "wall": wall,
        "cpu_ms": cpu * 1000 / posted,
        "hello_ms": sum(hello) * 1000 / len(hello) if hello else None,
        # What the same work gives on idle cores, one process per core: the machine's load
        # from other jobs is left out; the write lock is not (time spent waiting for it
        # is not CPU time, so it shows in the measured rate, not here).
        "projected": min(processes, os.cpu_count() or 1) * 1000 / (cpu * 1000 / posted),
        "rate": ok / wall,
        "responses": responses,
        "answered": answered,
        "answer_rows": answer_rows,
        "duplicated": duplicated,
        "lost": len(tokens) - answered,
    }


def report_concurrent(result: dict[str, Any]) -> str:
    verdict = (
        "none lost, none duplicated"
        if result["lost"] == 0
        and result["duplicated"] == 0
        and result["responses"] == result["links"] == result["answer_rows"] == result["answered_ok"]
        else "MISMATCH"
    )
    hello = (
        f"{result['hello_ms']:.2f} ({result['cpu_ms'] / result['hello_ms']:.1f}x)"
        if result["hello_ms"]
        else "-"
    )
    return (
        f"| {result['via']} | {result['processes']} | {result['links']} | {result['posted']} | "
        f"{result['already']} | {result['wall']:.2f} s | {result['rate']:.0f} | "
        f"{result['cpu_ms']:.2f} | {hello} | {result['projected']:.0f} | "
        f"{result['responses']} | {result['answer_rows']} | {result['duplicated']} | "
        f"{result['lost']} | {verdict} |"
    )


def run() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("customers", nargs="?", type=int, default=1000)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--answers", type=int, default=8000)
    parser.add_argument("--overlap", type=float, default=0.05)
    parser.add_argument("--via", choices=["service", "http", "both"], default="both")
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--output", default="", help="also add the table to this results file")
    args = parser.parse_args()
    if not args.skip_single:
        main(args.customers)
        print()
    from datetime import UTC, datetime

    lines = [
        f"### Survey answers through links, SQLite, {args.processes} processes · "
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "",
        f"`bench/surveys.py --answers {args.answers} --processes {args.processes}`: one SQLite "
        f"file (WAL), {args.overlap:.0%} of the links posted twice by two processes; counts read "
        f"back from the database afterwards. Load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores. Target: 1,000 answers a second, none lost, none duplicated.",
        "",
        "| path | processes | links | posts | refused as answered | time | answers/s "
        "| CPU ms per post | CPU ms per hello-world (post / hello) | answers/s on idle cores "
        "| responses | answer rows | duplicated | lost | check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for line in lines:
        print(line)
    for via in ("service", "http") if args.via == "both" else (args.via,):
        lines.append(report_concurrent(concurrent(args.processes, args.answers, via, args.overlap)))
        print(lines[-1], flush=True)
    lines += ["", f"Load average after the runs: {os.getloadavg()[0]:.1f}."]
    print("\n".join(lines[-2:]))
    if args.output:
        output = Path(args.output)
        previous = output.read_text() if output.exists() else "# Benchmark results\n"
        head, _, rest = previous.partition("\n### ")
        body = "\n".join(lines) + "\n"
        output.write_text(head.rstrip() + "\n\n" + body + ("\n### " + rest if rest else ""))


if __name__ == "__main__":
    run()
