"""Say what the API fuzz run did whenever it ran (the closing notes quote this line)."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.api_fuzz.test_schemathesis import RESULT

    if RESULT:
        cases = RESULT["test_cases"]
        terminalreporter.write_line(
            f"api fuzz: {cases['generated']} Schemathesis test cases over "
            f"{RESULT['operations']['tested']} operations (coverage, fuzzing, stateful), "
            f"{len(RESULT['failures'])} failures, seed {RESULT['seed']}, "
            f"{RESULT['running_time']:.0f} s"
        )
