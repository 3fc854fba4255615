"""How long the test suite takes, and where the time goes.

Runs ``pytest`` as ``scripts/test.sh`` does (every core, worksteal) with a JUnit report, then
prints the wall time, the summed test time (what one process would take), and the slowest
groups of tests by module. Extra arguments go to pytest: ``-n 0`` measures one process,
``tests/e2e`` one directory.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree  # noqa: S405 - our own report
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOWN = 15


def module_of(classname: str) -> str:
    """``tests.e2e.test_drills.TestX`` and ``tests.e2e.test_drills`` both give the module."""
    parts = classname.split(".")
    return ".".join(parts[:-1]) if parts[-1][:1].isupper() else classname


def main(arguments: list[str]) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "junit.xml"
        started = time.perf_counter()
        run = subprocess.run(  # noqa: S603 - this interpreter, pytest, the caller's arguments
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                "auto",
                "--dist",
                "worksteal",
                f"--junitxml={report}",
                *arguments,
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        summary = run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr
        cases = ElementTree.parse(report).getroot().iter("testcase")  # noqa: S314
        seconds: Counter[str] = Counter()
        counts: Counter[str] = Counter()
        for case in cases:
            module = module_of(case.get("classname", ""))
            seconds[module] += float(case.get("time", "0"))
            counts[module] += 1
    print(f"pytest: {summary}")
    print(f"wall time {wall:7.1f} s; tests' own time summed {sum(seconds.values()):7.1f} s")
    print(f"slowest {SHOWN} modules (summed seconds, tests):")
    for module, total in seconds.most_common(SHOWN):
        print(f"  {total:7.1f} s  {counts[module]:4d}  {module}")


if __name__ == "__main__":
    main(sys.argv[1:])
