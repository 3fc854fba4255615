"""Mutation testing of the execution's core, its shell, the finder and the janitor (mutmut).

Each module is changed in small ways (a comparison turned round, a constant changed, a call's
argument dropped, a ``return`` emptied: one mutant each) and the unit tests that run the
mutated function are run against every mutant: a mutant the tests still pass *survived*, a
change of the code no test notices. Prints, per module, the mutants killed, survived, not
reached by any test and timed out, and the score (killed of all those tests reached); the
survivors are written to ``build/mutation/<scope>/survivors.txt`` (``mutmut show NAME``
in that folder prints one's change). ``docs/RELIABILITY.md`` says what survives and why.

    uv run --group mutation python benchmarks/mutation.py       # every scope
    uv run --group mutation python benchmarks/mutation.py core  # or shell, finder, janitor
    uv run --group mutation python benchmarks/mutation.py shell --sample 7  # a tenth

``--sample D`` tests only the mutants whose number ends in the digit ``D``: one in ten of
every function's mutants, the same ones each run. The shell's, the finder's and the
janitor's mutants are killed mostly by end-to-end tests (a state machine on moto per test):
a mutant that survives runs every one of them, so all of a scope's mutants is a night's
CPU, and a tenth of them is the score's estimate within a session.

Why a workspace: mutmut names a module after its file's path from the project's root (or
``src/``), and the runtime's package lives under ``lambdas/``; the workspace puts it under
``src/`` beside copies of the tests and the tools they import, so the names mutmut records
are the ones the tests import. Nothing in the tree is changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "build" / "mutation"
PACKAGE = "lambdas/drs_orchestrator"
#: What each scope mutates (under the package) and the tests that may kill its mutants
#: (mutmut runs, of these, the ones that reached the mutated function).
#: The end-to-end tests that reach the shell, the finder and the janitor, without the
#: large matrices (a drill per case, for every mutant a test does not kill sooner): the
#: Finalise matrix and the settle matrix are small, and the only ones reaching ``Finalise``
#: and the janitor's terminations.
E2E = tuple(
    f"tests/e2e/{name}.py"
    for name in (
        "test_drills",
        "test_durability",
        "test_event_driven_waves",
        "test_report_faults",
        "test_finalise_matrix",
        "test_targets",
        "test_api_races",
        "test_failback",
        "test_janitor",
        "test_point_in_time",
        "test_launch_settings",
        "test_recovery_time",
    )
)
SCOPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "core": (
        ("domain/runner.py", "domain/reasons.py"),
        ("tests/lambdas", "tests/test_invariants.py"),
    ),
    # The shell, the finder and the janitor act on AWS: their tests run the real state
    # machine on moto (tests/e2e), the matrices left out (a drill per case per mutant).
    "shell": (("services/wave_runner.py",), ("tests/lambdas", *E2E)),
    "finder": (("services/execution_finder.py",), ("tests/lambdas", *E2E)),
    "janitor": (("services/janitor.py", "services/executions.py"), ("tests/lambdas", *E2E)),
}
#: What the tests import beside the runtime.
COPIED = ("tests", "drsctl", "policy", "infra")
#: The tests of the test fakes hold moto's own caches to account, which mutmut's copy of the
#: tree (its trampolines in every function) changes: not a test of the runtime.
PYTEST_ARGUMENTS = ["-p", "no:cacheprovider", "-q", "--ignore=tests/lambdas/test_quick_moto.py"]
STATUS = re.compile(r"^\s*(\S+): (.+)$")


def workspace(scope: str) -> Path:
    """A copy of what the scope's tests need, the runtime's package under ``src/``."""
    mutated, tests = SCOPES[scope]
    place = WORK / scope
    shutil.rmtree(place, ignore_errors=True)
    place.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "node_modules", "*.pyc")
    shutil.copytree(ROOT / PACKAGE, place / "src" / "drs_orchestrator", ignore=ignore)
    for name in COPIED:
        shutil.copytree(ROOT / name, place / name, ignore=ignore)
    settings = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    settings = settings.replace(
        'pythonpath = [".", "lambdas", "policy"]', 'pythonpath = [".", "src", "policy"]'
    )
    sources = ", ".join(f'"src/drs_orchestrator/{path}"' for path in mutated)
    selection = ", ".join(f'"{path}"' for path in tests)
    copied = ", ".join(f'"{name}"' for name in (*COPIED, "src"))
    settings += (
        "\n[tool.mutmut]\n"
        f"source_paths = [{sources}]\n"
        f"also_copy = [{copied}]\n"
        f"pytest_add_cli_args = {json.dumps(PYTEST_ARGUMENTS)}\n"
        f"pytest_add_cli_args_test_selection = [{selection}]\n"
    )
    (place / "pyproject.toml").write_text(settings, encoding="utf-8")
    return place


def mutmut(place: Path, *arguments: str) -> str:
    """mutmut (this interpreter's) in the workspace; its output, also kept in the
    workspace's ``mutmut-<command>.log`` (a file, not a pipe: mutmut's forked workers share it)."""
    log = place / f"mutmut-{arguments[0]}.log"
    with log.open("w", encoding="utf-8") as output:
        subprocess.run(  # noqa: S603 - this interpreter's mutmut, our own arguments
            [sys.executable, "-m", "mutmut", *arguments],
            cwd=place,
            stdout=output,
            stderr=subprocess.STDOUT,
            check=False,
        )
    return log.read_text(encoding="utf-8", errors="replace")


def results(place: Path, sample: str | None) -> dict[str, str]:
    """Each mutant's name (of the sample, if one) and what became of it (killed, survived,
    no tests, timeout...)."""
    found = {}
    for line in mutmut(place, "results", "--all", "true").splitlines():
        match = STATUS.match(line)
        if match is None:
            continue
        name, status = match.group(1), match.group(2).strip()
        if "__mutmut_" in name and (sample is None or name.endswith(sample)):
            found[name] = status
    return found


def module_of(mutant: str) -> str:
    """``drs_orchestrator.domain.runner.xǁ_Tickǁrun__mutmut_3`` -> ``domain.runner``."""
    dotted = mutant.split("__mutmut_")[0].removeprefix("drs_orchestrator.")
    return ".".join(part for part in dotted.split(".") if not part.startswith("x"))


def run_scope(scope: str, sample: str | None = None) -> dict[str, Counter[str]]:
    place = workspace(scope)
    started = time.perf_counter()
    chosen = [f"drs_orchestrator.*__mutmut_*{sample}"] if sample is not None else []
    output = mutmut(place, "run", "--max-children", str(os.cpu_count() or 1), *chosen)
    elapsed = time.perf_counter() - started
    found = results(place, sample)
    if not found:
        print(output[-3000:])
        msg = f"mutmut reported no mutants for {scope}"
        raise SystemExit(msg)
    survivors = sorted(name for name, status in found.items() if status == "survived")
    (place / "survivors.txt").write_text("\n".join(survivors) + "\n", encoding="utf-8")
    by_module: dict[str, Counter[str]] = {}
    for name, status in found.items():
        by_module.setdefault(module_of(name), Counter())[status] += 1
    drawn = f" (those numbered ...{sample})" if sample is not None else ""
    print(f"\n{scope}: {len(found)} mutants{drawn} in {elapsed:.0f} s")
    for module, counts in sorted(by_module.items()):
        reached = counts["killed"] + counts["survived"] + counts["timeout"]
        score = (counts["killed"] + counts["timeout"]) / reached if reached else 0.0
        print(
            f"  {module:32} killed {counts['killed']:5}  survived {counts['survived']:5}  "
            f"no tests {counts['no tests']:4}  timeout {counts['timeout']:3}  "
            f"score {score:6.1%}"
        )
    print(f"  survivors: {place / 'survivors.txt'}")
    return by_module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("scopes", nargs="*", help=f"of {', '.join(SCOPES)} (default: all)")
    parser.add_argument(
        "--sample",
        choices=[str(d) for d in range(10)],
        help="only the mutants whose number ends in this digit (one in ten)",
    )
    arguments = parser.parse_args()
    scopes = arguments.scopes or list(SCOPES)
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        parser.error(f"unknown scope(s) {unknown}: choose from {', '.join(SCOPES)}")
    for scope in scopes:
        run_scope(scope, arguments.sample)


if __name__ == "__main__":
    main()
