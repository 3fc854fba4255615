"""The fuzz run's own check, ``no_writes_after_4xx``, and how often it reads the records.

The records are read before every write and after every refused one; a reading taken after a
refused write serves as the next write's "before" only while no request was sent in between.
Here ``stored_records`` is a counter of reads over a record store the test changes.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace
from typing import Any

import pytest

from tests.api_fuzz import hooks

_ids = itertools.count()


class Records:
    """Stands for the sandbox's tables: a version that a write bumps, and reads counted."""

    def __init__(self) -> None:
        self.version = 0
        self.reads = 0

    def read(self) -> str:
        self.reads += 1
        return f"records-{self.version}"


@pytest.fixture
def records(monkeypatch: pytest.MonkeyPatch) -> Records:
    store = Records()
    monkeypatch.setattr(hooks, "stored_records", store.read)
    monkeypatch.setattr(hooks, "_before", {})
    monkeypatch.setattr(hooks, "_last_read", [])
    return store


def send(method: str, status: int, *, writes: bool = False, store: Records) -> Any:
    """One request as Schemathesis sends it: the hook, the call, then the check."""
    case = SimpleNamespace(id=str(next(_ids)), method=method, formatted_path="/protection-groups")
    hooks.before_call(None, case, {})
    if writes:
        store.version += 1
    return hooks.no_writes_after_4xx(None, SimpleNamespace(status_code=status), case)


def test_a_refused_write_that_changed_records_fails(records: Records) -> None:
    with pytest.raises(AssertionError, match="answered 400 but changed stored records"):
        send("POST", 400, writes=True, store=records)


def test_a_refused_write_that_changed_nothing_passes(records: Records) -> None:
    assert send("PUT", 409, store=records) is True
    assert records.reads == 2  # before and after


def test_an_accepted_write_is_not_compared(records: Records) -> None:
    assert send("POST", 201, writes=True, store=records) is None
    assert records.reads == 1


def test_refused_writes_in_a_row_read_once_each(records: Records) -> None:
    for _ in range(5):
        assert send("POST", 400, store=records) is True
    assert records.reads == 6  # the first "before", then one "after" per write


def test_a_request_between_two_writes_makes_the_next_write_read_again(records: Records) -> None:
    send("POST", 400, store=records)
    send("GET", 200, store=records)
    send("POST", 400, store=records)
    assert records.reads == 4


def test_a_write_by_the_request_between_is_not_blamed_on_the_next(records: Records) -> None:
    send("POST", 400, store=records)
    send("POST", 201, writes=True, store=records)  # accepted: it may write
    assert send("DELETE", 404, store=records) is True  # read afresh: nothing changed since


def test_the_check_is_caught_even_after_a_reused_reading(records: Records) -> None:
    send("POST", 400, store=records)
    with pytest.raises(AssertionError, match="changed stored records"):
        send("PUT", 422, writes=True, store=records)


def test_the_sites_own_reads_between_writes_make_the_next_write_read_again(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([{"items": []}])
    monkeypatch.setattr(hooks, "urlopen", lambda *_a, **_k: _Answer(next(answers)))
    monkeypatch.setenv("FUZZ_SANDBOX_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("FUZZ_TOKEN", "token")
    send("POST", 400, store=records)
    hooks._api("/protection-groups?limit=100")
    send("POST", 400, store=records)
    assert records.reads == 4


class _Answer:
    def __init__(self, body: Any) -> None:
        import json

        self._body = json.dumps(body).encode()

    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *_: object) -> None:
        return None

    def read(self) -> bytes:
        return self._body


def _reading(plans: list[str], executions: list[tuple[str, str]]) -> dict[str, Any]:
    """A ``/sandbox/records`` answer: plan digests, and executions as (id, digest)."""
    name = "aws-elasticdrs-orchestrator-dev"
    return {
        f"{name}-protection-groups": [],
        f"{name}-recovery-plans": [{"key": {"planId": {"S": d}}, "digest": d} for d in plans],
        f"{name}-executions": [
            {"key": {"executionId": {"S": i}}, "digest": d} for i, d in executions
        ],
        f"{name}-job-events": [{"key": {"executionId": {"S": "x"}}, "digest": "any"}],
    }


def test_the_digest_follows_plans_whole_and_executions_by_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readings: list[dict[str, Any]] = []
    monkeypatch.setattr(hooks, "_sandbox_records", lambda: readings[-1])

    def digest(plans: list[str], executions: list[tuple[str, str]]) -> str:
        readings.append(_reading(plans, executions))
        return hooks.stored_records()

    first = digest(["a", "b"], [("ex-1", "v1")])
    assert digest(["b", "a"], [("ex-1", "v1")]) == first  # order is not a change
    assert digest(["a", "c"], [("ex-1", "v1")]) != first  # a plan changed
    assert digest(["a", "b"], [("ex-1", "v2")]) == first  # the runner moved an execution
    assert digest(["a", "b"], [("ex-1", "v1"), ("ex-2", "v1")]) != first  # one was started
    sleeping = "ex-1" + hooks.SLEEP_SUFFIX
    assert digest(["a", "b"], [("ex-1", "v1"), (sleeping, "s")]) == first  # its sleep item
