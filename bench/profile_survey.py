"""Where the time of one survey answer through a link goes: pyinstrument over N POSTs.

    PYTHONPATH=. .venv/bin/python bench/profile_survey.py [answers] [output]

Answers ``answers`` fresh links (POST /s/<token>, through the whole Flask stack, on a fresh
SQLite file) under pyinstrument and writes the call tree to ``output`` (default
bench/profiles/survey-answer.txt), with the wall and CPU milliseconds per answer on top; first
the same number of answers and of hello-world requests without the profiler, for the CPU
time per answer and its ratio to hello-world in the same process and moment.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from pyinstrument import Profiler

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(answers: int, output: Path) -> None:
    from flask_migrate import upgrade
    from survey_tokens import make_pool
    from surveys import _overrides, hidden_fields

    from portal import create_app
    from portal.extensions import db

    directory = Path(tempfile.mkdtemp())
    app = create_app("production", _overrides(f"sqlite:///{directory / 'profile.db'}"))
    with app.app_context():
        upgrade()
        from portal.accounts.models import User
        from portal.accounts.services import ensure_reference_data, get_role

        ensure_reference_data()
        user = User(email="p@example.com", password="-", fs_uniquifier="p", active=True)  # noqa: S106
        user.roles.append(get_role("customer"))
        db.session.add(user)
        db.session.commit()
        _survey, question_id, tokens = make_pool(2 * answers + 51)
    client = app.test_client()
    page = client.get(f"/s/{tokens[0]}", base_url="https://localhost").get_data(as_text=True)
    data = {**hidden_fields(page), f"q{question_id}": "9", "submit": "Send"}

    def post(token: str) -> None:
        response = client.post(
            f"/s/{token}",
            data=data,
            headers={"Referer": f"https://localhost/s/{token}"},
            base_url="https://localhost",
        )
        assert response.status_code == 302, response.status_code

    for token in tokens[1:51]:  # warm up: templates, statement caches
        post(token)
    plain = time.process_time()
    for token in tokens[51 : 51 + answers]:
        post(token)
    plain = time.process_time() - plain
    hello = time.process_time()
    for _ in range(answers):
        client.get("/healthz", base_url="https://localhost")
    hello = time.process_time() - hello
    profiler = Profiler(interval=0.001)
    began, cpu = time.perf_counter(), time.process_time()
    profiler.start()
    for token in tokens[51 + answers :]:
        post(token)
    profiler.stop()
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        f"{answers} survey answers through links (POST /s/<token>), one process, SQLite: "
        f"{wall * 1000 / answers:.2f} ms wall, {cpu * 1000 / answers:.2f} ms CPU per answer "
        f"(with the profiler running).\nWithout the profiler: {plain * 1000 / answers:.2f} ms CPU "
        f"per answer, {hello * 1000 / answers:.2f} ms per hello-world (/healthz), ratio "
        f"{plain / hello:.1f}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores."
        f"\n\n" + profiler.output_text(unicode=False, color=False, show_all=False)
    )
    print(f"written to {output}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 500,
        Path(sys.argv[2]) if len(sys.argv) > 2 else HERE / "profiles" / "survey-answer.txt",
    )
