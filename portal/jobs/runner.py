"""Starting the background worker beside the development server."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)


def _exit_on_sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(0)


@contextlib.contextmanager
def background_worker(public_base_url: str | None = None) -> Iterator[subprocess.Popen | None]:
    """Run `flask portal worker` as a child process for as long as the block runs.

    Ctrl-C reaches both processes (same process group); the worker finishes the message
    it is sending and stops. Whatever it had not started stays in the queue and outbox.
    """
    if current_app.config.get("JOBS_IMMEDIATE"):
        yield None
        return
    env = dict(os.environ)
    env.setdefault("FLASK_APP", "wsgi.py")
    if public_base_url:
        # Links in mail the worker renders point at this server unless configured otherwise.
        env.setdefault("PUBLIC_BASE_URL", public_base_url)
    process = subprocess.Popen([sys.executable, "-m", "flask", "portal", "worker"], env=env)
    log.info("Background worker started (pid %s)", process.pid)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # A plain `kill` of the server stops the worker too, not only Ctrl-C.
        previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        yield process
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
