"""Session-wide: the summary lines the closing notes quote.

Here, not beside the tests they describe: under pytest-xdist the controlling process collects
nothing, so only this top-level conftest's hooks run where the summary is printed. The
figures arrive on the test reports the workers send back.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from pathlib import Path


#: The seed of the run's sample of the whole-life fault matrix (tests/e2e/test_life_matrix.py).
FAULT_SEED = "DRS_FAULT_SEED"


def pytest_configure() -> None:
    """botocore and moto without the work that is not the test's, in every test process:
    one loader of service models, one client class per service and one TLS context for
    every client (``tests/fakes/quick_botocore.py``), and moto's costliest helpers rewritten
    (``tests/fakes/quick_moto.py``).

    A run draws its seed for the whole-life matrix's sample here, unless one is given: set
    in the controlling process before pytest-xdist starts its workers, it is every worker's
    (each collects the same cases), and the summary prints it."""
    import os
    import secrets

    from tests.fakes import quick_botocore, quick_moto

    os.environ.setdefault(FAULT_SEED, str(secrets.randbelow(1_000_000)))

    quick_botocore.install()
    quick_moto.install()


def pytest_collection_finish() -> None:
    """The garbage collector tuned for a process that holds every test module, moto and the
    sandbox in memory (``drsctl/collector.py``). With CPython's thresholds a fault-matrix
    case spent a quarter of its CPU in the collector (45 cases: 12 s of 46, two thirds of it
    in 47 full collections walking what never dies); with what collection imported frozen
    out of every collection and generations that fill before they are walked, 3.8 s."""
    from drsctl.collector import tune_collector

    tune_collector(freeze=True)


#: How a module says it starts a sandbox for its tests (one, module-scoped).
SANDBOX_MARK = "pytestmark = pytest.mark.sandbox"


def sandbox_modules(root: Path) -> frozenset[str]:
    """The test modules that start a sandbox, as their node ids begin."""
    return frozenset(
        path.relative_to(root).as_posix()
        for path in (root / "tests").rglob("test_*.py")
        if SANDBOX_MARK in path.read_text(encoding="utf-8")
    )


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist's: unknown without it
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadscope`` with a scope per sandbox module and one per test otherwise.

    A module that starts a sandbox runs on one worker, its tests one after another, and these
    modules are handed out first (xdist orders scopes by size): split across workers, or
    interleaved with other tests on one, each part started the module's sandbox again (a run
    with ``--dist worksteal`` started the two-deployment comparison sandbox twice and the
    targets sandbox twice). Every other test is a scope of its own, handed to whichever
    worker is free. Decided in the controlling process, which collects nothing: it reads
    which modules declare the ``sandbox`` marker. (xdist's ``loadgroup`` would do this from
    a marker, but its group suffix is lost under pytest 9's node ids.)"""
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    grouped = sandbox_modules(config.rootpath)

    class SandboxModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in grouped else nodeid

    return SandboxModuleScheduling(config, log)


def _reports(terminalreporter: Any) -> list[Any]:
    return [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])]


#: The user property a property test's teardown report carries: the examples it passed.
PROPERTY_EXAMPLES = "hypothesis_passing_examples"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    """A property test's examples, from Hypothesis's statistics, onto the report the
    worker sends back (xdist carries user properties, not Hypothesis's own summary)."""
    outcome = yield
    report = outcome.get_result()
    statistics = getattr(item, "hypothesis_statistics", None)
    if report.when == "teardown" and statistics:
        passing = sum(int(n) for n in re.findall(r"(\d+) passing\b", statistics))
        report.user_properties.append((PROPERTY_EXAMPLES, passing))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    reports = _reports(terminalreporter)
    _fault_matrix_line(terminalreporter, reports)
    _life_matrix_line(terminalreporter, reports)
    _api_fuzz_line(terminalreporter, reports)
    _property_tests_line(terminalreporter)


def _property_tests_line(terminalreporter: Any) -> None:
    """How many Hypothesis properties ran and the examples they passed, all together."""
    examples = [
        dict(report.user_properties)[PROPERTY_EXAMPLES]
        for reports in terminalreporter.stats.values()
        for report in reports
        if PROPERTY_EXAMPLES in dict(getattr(report, "user_properties", []))
    ]
    if examples:
        terminalreporter.write_line(
            f"property tests: {len(examples)} Hypothesis tests, {sum(examples)} passing examples"
        )


def _fault_matrix_line(terminalreporter: Any, reports: list[Any]) -> None:
    """How large the fault matrix was whenever it ran (docs/RELIABILITY.md)."""
    ran = [r for r in reports if "test_one_fault_at_one_call_site" in getattr(r, "nodeid", "")]
    if ran:
        from tests.e2e.test_fault_matrix import CALL_SITES, CASES, phases_covered

        occurrences = sum(len(o) for o in CALL_SITES.values())
        terminalreporter.write_line(
            f"fault matrix: {len(ran)} of {len(CASES)} cases run "
            f"({len(CALL_SITES)} call sites, {occurrences} occurrences, 5 fault kinds; "
            f"phases: {', '.join(phases_covered())})"
        )


def _life_matrix_line(terminalreporter: Any, reports: list[Any]) -> None:
    """The whole-life matrix's sample and the seed that drew it (docs/RELIABILITY.md)."""
    ran = [r for r in reports if "test_one_fault_in_a_life" in getattr(r, "nodeid", "")]
    if ran:
        from tests.e2e.faults import LIFE_KINDS
        from tests.e2e.test_life_matrix import ALL_CASES, LIFE_SITES, fault_seed, phases_covered

        terminalreporter.write_line(
            f"life matrix: {len(ran)} of {len(ALL_CASES)} cases run, seed {fault_seed()} "
            f"({len(LIFE_SITES)} call sites, {len(LIFE_KINDS)} fault kinds; phases: "
            f"{', '.join(phases_covered())}; {FAULT_SEED}=<seed> draws the same sample, "
            "DRS_LIFE_SAMPLE=all runs every case)"
        )


def _api_fuzz_line(terminalreporter: Any, reports: list[Any]) -> None:
    """What the API fuzz run did (``record_property`` in tests/api_fuzz)."""
    from tests.api_fuzz.test_schemathesis import FUZZ_RESULT

    for report in reports:
        result = dict(getattr(report, "user_properties", [])).get(FUZZ_RESULT)
        if result:
            cases = result["test_cases"]
            terminalreporter.write_line(
                f"api fuzz: {cases['generated']} Schemathesis test cases over "
                f"{result['operations']['tested']} operations (coverage, fuzzing, stateful), "
                f"{len(result['failures'])} failures, seed {result['seed']}, "
                f"{result['running_time']:.0f} s"
            )
