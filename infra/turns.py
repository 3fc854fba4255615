"""Processes taking turns at work they would otherwise do together.

Test workers, sandboxes and plans started at once all build the same console and the same
Lambda packages. Each build holds a lock file while it runs. The first process does the work;
the others wait, then find it done instead of doing it again into the same directory.
"""

from __future__ import annotations

import contextlib
import fcntl
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@contextlib.contextmanager
def taking_turns(lock_file: Path) -> Iterator[None]:
    """Hold ``lock_file`` (made if missing) exclusively while the block runs; closing the
    file at the end lets the next process in."""
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    with lock_file.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
