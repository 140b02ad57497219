"""Starting the background worker beside the development server."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

from flask import current_app

log = logging.getLogger(__name__)


@contextlib.contextmanager
def background_worker() -> Iterator[subprocess.Popen | None]:
    """Run `flask portal worker` as a child process for as long as the block runs.

    Ctrl-C reaches both processes (same process group); the worker finishes the message
    it is sending and stops. Whatever it had not started stays in the queue and outbox.
    """
    if current_app.config.get("JOBS_IMMEDIATE"):
        yield None
        return
    env = dict(os.environ)
    env.setdefault("FLASK_APP", "wsgi.py")
    process = subprocess.Popen([sys.executable, "-m", "flask", "portal", "worker"], env=env)
    log.info("Background worker started (pid %s)", process.pid)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
