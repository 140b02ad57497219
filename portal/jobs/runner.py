"""Starting the background worker beside the development server."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def background_worker() -> Iterator[None]:
    """Run the job worker for as long as the block runs (a no-op until jobs exist)."""
    yield
