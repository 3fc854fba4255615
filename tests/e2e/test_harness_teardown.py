"""The harness's teardown waits for every state machine thread a test left, even one that
was started and listed but not yet running when the test ended."""

from __future__ import annotations

import threading
import time

import pytest

from tests.e2e.conftest import _join


class ListedBeforeItRuns(threading.Thread):
    """A thread whose first join meets what a thread not yet running answers."""

    joins = 0

    def join(self, timeout: float | None = None) -> None:
        type(self).joins += 1
        if type(self).joins == 1:
            raise RuntimeError("cannot join thread before it is started")
        super().join(timeout)


def test_a_thread_listed_before_it_runs_is_joined_once_it_runs() -> None:
    release = threading.Event()
    thread = ListedBeforeItRuns(target=release.wait, daemon=True)
    thread.start()
    release.set()
    _join(thread, time.monotonic() + 60)
    assert ListedBeforeItRuns.joins == 2
    assert not thread.is_alive()


def test_a_thread_that_never_runs_fails_the_teardown_at_its_deadline() -> None:
    never = threading.Thread(target=lambda: None)  # never started
    with pytest.raises(RuntimeError, match="before it is started"):
        _join(never, time.monotonic() + 0.05)
