"""A pytest plugin for ``benchmarks/suite.py``: every test's set-up, call and teardown time.

Loaded with ``-p benchmarks.suite_phases``. Under pytest-xdist the workers' reports reach the
controlling process, so the hook below sees every test once per phase wherever it ran. The
file named by ``DRS_SUITE_PHASES`` receives one JSON line per phase.
"""

from __future__ import annotations

import json
import os
from typing import Any

_lines: list[str] = []


def pytest_runtest_logreport(report: Any) -> None:
    _lines.append(
        json.dumps(
            {
                "nodeid": report.nodeid,
                "when": report.when,
                "seconds": report.duration,
                "outcome": report.outcome,
                "worker": getattr(report, "node", None) and report.node.gateway.id,
            }
        )
    )


def pytest_sessionfinish(session: Any) -> None:
    target = os.environ.get("DRS_SUITE_PHASES")
    if target and not hasattr(session.config, "workerinput"):
        with open(target, "w", encoding="utf-8") as out:
            out.write("\n".join(_lines) + "\n")
