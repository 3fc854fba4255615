"""Schemathesis hooks for the fuzz run against a sandbox (``SCHEMATHESIS_HOOKS``).

Realistic data: a protection group the schema allows is almost never one the deployment
accepts (random source server ids are not in DRS, random regions are not the deployment's),
and a plan's random group names name no group — so every write would stop at its first
check and the stateful phase would never get an id to follow. ``map_case`` therefore turns
part of the positive cases into requests that can succeed: the deployment's region, servers
DRS knows, groups that exist. Negative cases are left as generated.

One custom check: a request answered 4xx wrote nothing. Before every write request the
stored records are read straight from the sandbox's emulated DynamoDB, as digests the sandbox
makes of its items (``/sandbox/records``; protection groups and recovery plans whole,
executions by id — the finder and the wave runner keep executions moving on their own);
after a 4xx they must be the same. What was read after a refused write
is the next write's "before" when no request was sent between them (the fuzzing and coverage
phases send an operation's cases one after another, most refused): the same records, read
once instead of twice. ``FUZZ_SANDBOX_URL`` names the deployment's site; its
``/sandbox/state`` says how to reach the emulated AWS.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from typing import Any
from urllib.request import Request, urlopen

import schemathesis
from drs_orchestrator.adapters.dynamodb import SLEEP_SUFFIX

from drsctl.collector import tune_collector

# Schemathesis's process, which loads this module as it starts (``SCHEMATHESIS_HOOKS``
# names it): its collector tuned as the test processes' (``drsctl/collector.py``; 2.1 s of
# its 24 s of CPU collected). A test process importing it tunes its own after collection.
if os.environ.get("SCHEMATHESIS_HOOKS") == __name__:
    tune_collector(freeze=True)

WRITES = {"POST", "PUT", "DELETE", "PATCH"}
GROUP_WRITES = {("POST", "/protection-groups"), ("PUT", "/protection-groups/{groupId}")}
PLAN_WRITES = {("POST", "/recovery-plans"), ("PUT", "/recovery-plans/{planId}")}
_before: dict[str, str] = {}
#: The records read after the last refused write, while no request has been sent since
#: (``_forget`` drops them as soon as one is).
_last_read: list[str] = []


def _forget() -> None:
    _last_read.clear()


def _api(path: str) -> Any:
    _forget()
    request = Request(  # noqa: S310 - the local sandbox
        os.environ["FUZZ_SANDBOX_URL"] + "/api" + path,
        headers={"Authorization": os.environ["FUZZ_TOKEN"]},
    )
    with urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())


@schemathesis.hook
def map_case(context: Any, case: Any) -> Any:
    """Make a positive group or plan write one the deployment can accept (see above)."""
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative or not isinstance(case.body, dict):
        return case
    route = (case.method.upper(), case.operation.path)
    seed = len(json.dumps(case.body, sort_keys=True, default=str))
    if seed % 2:  # half of them stay as generated
        return case
    body = dict(case.body)
    if route in GROUP_WRITES:
        body["region"] = _region()
        items = _api("/source-servers?limit=100")["items"]
        servers = [s for s in items if not s.get("protectionGroup")]
        if body.get("tagSelectors") or not servers:
            body.pop("sourceServerIds", None)
        else:
            body["sourceServerIds"] = [servers[seed % len(servers)]["sourceServerID"]]
    elif route in PLAN_WRITES and isinstance(body.get("waves"), list):
        names = [g["name"] for g in _api("/protection-groups?limit=100")["items"]]
        waves = [w for w in body["waves"] if isinstance(w, dict)][: len(names)]
        if names and waves:
            earlier: list[str] = []
            mapped = []
            for i, wave in enumerate(waves):
                depends = [d for d in wave.get("dependsOn") or [] if d in earlier]
                mapped.append(
                    {
                        **wave,
                        "protectionGroups": [names[(seed + i) % len(names)]],
                        "dependsOn": depends,
                    }
                )
                earlier.append(wave.get("name"))
            body["waves"] = mapped
    else:
        return case
    case.body = body
    return case


@cache
def _region() -> str:
    with urlopen(os.environ["FUZZ_SANDBOX_URL"] + "/config.json", timeout=30) as answer:  # noqa: S310
        return str(json.loads(answer.read())["region"])


#: The tables whose records an API write could change, by the end of their names.
TABLES = (
    ("groups", "-protection-groups"),
    ("plans", "-recovery-plans"),
    ("executions", "-executions"),
)


def _sandbox_records() -> dict[str, list[dict[str, Any]]]:
    """The deployment's stored items as keys and digests (``drsctl/sandbox/records.py``):
    read inside the sandbox, not scanned over DynamoDB's API. Not a request to the API, so
    it does not ``_forget``."""
    tables = "&".join(f"table={suffix.lstrip('-')}" for _kind, suffix in TABLES)
    url = f"{os.environ['FUZZ_SANDBOX_URL']}/sandbox/records?{tables}"
    with urlopen(url, timeout=30) as answer:  # noqa: S310
        return dict(json.loads(answer.read()))


def stored_records() -> str:
    """A digest of what an API write could change."""
    tables = _sandbox_records()
    seen: dict[str, Any] = {}
    for kind, suffix in TABLES:
        rows = next(rows for name, rows in tables.items() if name.endswith(suffix))
        if kind == "executions":
            # An execution's sleep item is the state machine's, written as it sleeps
            # between ticks, never by the API: not a record a request could change. The
            # others change as the finder and the wave runner move them: their ids count.
            seen[kind] = sorted(
                row["key"]["executionId"]["S"]
                for row in rows
                if not row["key"]["executionId"]["S"].endswith(SLEEP_SUFFIX)
            )
        else:
            seen[kind] = sorted(row["digest"] for row in rows)
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    if case.method.upper() in WRITES:
        _before[case.id] = _last_read[0] if _last_read else stored_records()
    _forget()  # a request is on its way: what it meets may differ


@schemathesis.check
def no_writes_after_4xx(ctx: Any, response: Any, case: Any) -> bool | None:
    """A request refused with a 4xx changed no stored record."""
    before = _before.pop(case.id, None)
    if before is None or not 400 <= response.status_code < 500:  # noqa: PLR2004
        return None
    after = stored_records()
    _last_read[:] = [after]
    if after != before:
        msg = (
            f"{case.method} {case.formatted_path} was answered {response.status_code} "
            "but changed stored records"
        )
        raise AssertionError(msg)
    return True
