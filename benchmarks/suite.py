"""How long the test suite takes, and where the time goes.

Runs ``pytest`` as ``scripts/test.sh`` does (a worker per core and one more, ``loadscope``) with the
``benchmarks.suite_phases`` plugin, then prints the wall time, pytest's summary lines (the
fault matrix's and the fuzz run's counts among them), the time summed per phase (set-up,
call, teardown: what one process would spend), each worker's busy time, and the slowest
modules with their phases. Extra arguments go to pytest: ``-n 0`` measures one process,
``tests/e2e`` one directory. ``--json FILE`` also writes the figures for a later comparison.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWN = 20
PHASES = ("setup", "call", "teardown")
#: The lines of pytest's output worth repeating: the matrices' and the fuzz run's counts,
#: and the final tally (``-q`` prints it bare: "1432 passed, 2 warnings in 1282.31s").
SUMMARY = re.compile(
    r"^(fault matrix:|api fuzz:|property tests:|=+ .* in [0-9.]+s|\d+ (passed|failed))"
)


def module_of(nodeid: str) -> str:
    """``tests/e2e/test_drills.py::TestX::test_y[z]`` gives ``tests/e2e/test_drills.py``."""
    return nodeid.split("::", 1)[0]


def run_pytest(arguments: list[str], phases_file: Path) -> tuple[float, list[str]]:
    environment = {**os.environ, "DRS_SUITE_PHASES": str(phases_file)}
    # As scripts/test.sh: the suite's processes keep and share bytecode.
    environment.pop("PYTHONDONTWRITEBYTECODE", None)
    started = time.perf_counter()
    run = subprocess.run(  # noqa: S603 - this interpreter, pytest, the caller's arguments
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "benchmarks.suite_phases",
            "-n",
            # As scripts/test.sh: one worker more than the machine has cores.
            os.environ.get("DRS_TEST_WORKERS", str((os.cpu_count() or 1) + 1)),
            "--dist",
            "loadscope",
            *arguments,
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    lines = run.stdout.strip().splitlines() or run.stderr.strip().splitlines()
    if keep := os.environ.get("DRS_SUITE_OUTPUT"):
        Path(keep).write_text(run.stdout + run.stderr)
    summary = [line for line in lines[-60:] if SUMMARY.match(line)]
    return wall, summary


def main(arguments: list[str]) -> None:
    save_to = None
    if "--json" in arguments:
        at = arguments.index("--json")
        save_to = Path(arguments[at + 1])
        arguments = arguments[:at] + arguments[at + 2 :]
    with tempfile.TemporaryDirectory() as scratch:
        phases_file = Path(scratch) / "phases.jsonl"
        wall, summary = run_pytest(arguments, phases_file)
        records = [json.loads(line) for line in phases_file.read_text().splitlines() if line]
    per_phase: Counter[str] = Counter()
    cpu: Counter[str] = Counter()
    per_worker: Counter[str] = Counter()
    per_module: dict[str, Counter[str]] = defaultdict(Counter)
    tests: Counter[str] = Counter()
    for record in records:
        per_phase[record["when"]] += record["seconds"]
        per_worker[record["worker"] or "main"] += record["seconds"]
        per_module[module_of(record["nodeid"])][record["when"]] += record["seconds"]
        cpu[module_of(record["nodeid"])] += record.get("cpu", 0.0)
        if record["when"] == "call":
            tests[module_of(record["nodeid"])] += 1
    for line in summary:
        print(f"pytest: {line}")
    failed = sorted({r["nodeid"] for r in records if r["outcome"] == "failed"})
    if failed:
        print(f"failed ({len(failed)}): " + ", ".join(failed))
    total = sum(per_phase.values())
    print(f"wall time {wall:7.1f} s; tests' own time summed {total:7.1f} s")
    print("  by phase: " + ", ".join(f"{p} {per_phase[p]:.1f} s" for p in PHASES))
    print("  by worker: " + ", ".join(f"{w} {s:.1f} s" for w, s in sorted(per_worker.items())))
    print(f"CPU spent by the tests and the processes they waited for: {sum(cpu.values()):.1f} s")
    print(f"slowest {SHOWN} modules (summed seconds: all = set-up + call + teardown; CPU; tests):")
    ranked = sorted(per_module.items(), key=lambda item: -sum(item[1].values()))
    for module, spent in ranked[:SHOWN]:
        print(
            f"  {sum(spent.values()):7.1f} = {spent['setup']:6.1f} + {spent['call']:6.1f} + "
            f"{spent['teardown']:5.1f}  {cpu[module]:6.1f}  {tests[module]:4d}  {module}"
        )
    print(f"most CPU, {SHOWN} modules:")
    for module, spent_cpu in cpu.most_common(SHOWN):
        print(f"  {spent_cpu:7.1f}  {module}")
    if save_to:
        save_to.write_text(
            json.dumps(
                {
                    "wall": wall,
                    "summary": summary,
                    "phases": per_phase,
                    "modules": {m: dict(s) for m, s in per_module.items()},
                    "cpu": cpu,
                    "tests": tests,
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    main(sys.argv[1:])
