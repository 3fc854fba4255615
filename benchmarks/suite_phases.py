"""A pytest plugin for ``benchmarks/suite.py``: every test's set-up, call and teardown time,
and the CPU each spent.

Loaded with ``-p benchmarks.suite_phases``. Under pytest-xdist the workers' reports reach the
controlling process, so the hook below sees every test once per phase wherever it ran. The
file named by ``DRS_SUITE_PHASES`` receives one JSON line per phase.

The CPU of a phase is the worker's own (every thread) plus that of the processes it waited
for in the phase (a sandbox's processes count when its fixture stops them, Schemathesis's
and npm's when they end): on a machine whose cores are all busy, the time a test took says
little about what it costs, its CPU does.
"""

from __future__ import annotations

import json
import os
import resource
from typing import Any

import pytest

_lines: list[str] = []
#: The user property a phase's report carries: the CPU seconds the phase spent.
CPU = "suite_phases_cpu"


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    waited = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + waited.ru_utime + waited.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """The phase's CPU onto its report: it ran since the mark, and the next starts now."""
    now = _cpu_seconds()
    started = getattr(item, "_suite_phases_cpu_mark", None)
    outcome = yield
    if started is not None:
        outcome.get_result().user_properties.append((CPU, now - started))
    item._suite_phases_cpu_mark = now  # the next phase starts here


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: Any) -> None:
    """The set-up phase starts here (before any fixture is made)."""
    item._suite_phases_cpu_mark = _cpu_seconds()


def pytest_runtest_logreport(report: Any) -> None:
    _lines.append(
        json.dumps(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "seconds": report.duration,
                "outcome": report.outcome,
                "cpu": dict(report.user_properties).get(CPU, 0.0),
                "worker": getattr(report, "node", None) and report.node.gateway.id,
            }
        )
    )


def pytest_sessionfinish(session: Any) -> None:
    target = os.environ.get("DRS_SUITE_PHASES")
    if target and not hasattr(session.config, "workerinput"):
        with open(target, "w", encoding="utf-8") as out:
            out.write("\n".join(_lines) + "\n")
