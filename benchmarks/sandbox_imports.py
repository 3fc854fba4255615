"""Execution environments of one fresh package starting together, as in the sandbox.

A sandbox unpacks each function's package once, into a directory its environments share;
the first environment to import a module compiles it and leaves the bytecode there. When
several start at once (a sandbox's first drill, the test suite's four sandboxes starting
together) they used to compile the same modules side by side. ``drsctl/sandbox/worker.py``
now has them import the handler in turn. This starts ``worker.py`` (the sandbox's own
runtime) on a freshly unpacked finder package, once alone and then four at once, and
prints the CPU they spent and the wall time until all four had imported their handler.
Run it on a busy machine too: the point is the CPU, not the wall time.
"""

from __future__ import annotations

import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from infra.functions import EXECUTION_FINDER
from infra.packaging import build_package

WORKER = Path(__file__).resolve().parents[1] / "drsctl" / "sandbox" / "worker.py"
RUNS = 3


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def environments_at_once(package: Path, count: int) -> tuple[float, float]:
    """(CPU, wall) of ``count`` environments importing the handler from a fresh directory."""
    directory = Path(tempfile.mkdtemp(prefix="sandbox-imports-"))
    try:
        with zipfile.ZipFile(package) as archive:
            archive.extractall(directory)  # noqa: S202 - the package built just now
        cpu, started = _children_cpu(), time.perf_counter()
        workers = [
            subprocess.Popen(  # noqa: S603 - this interpreter, the sandbox's worker
                [sys.executable, "-I", "-S", str(WORKER), str(directory), EXECUTION_FINDER.handler],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(count)
        ]
        for worker in workers:  # no invocation: each imports its handler, reads EOF, ends
            assert worker.stdin is not None
            worker.stdin.close()
            worker.wait()
        return _children_cpu() - cpu, time.perf_counter() - started
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    package = build_package(EXECUTION_FINDER).path
    for count in (1, 4):
        figures = [environments_at_once(package, count) for _ in range(RUNS)]
        cpu = sorted(f[0] for f in figures)[RUNS // 2]
        wall = sorted(f[1] for f in figures)[RUNS // 2]
        print(f"{count} environment(s) of a fresh package: {cpu:.2f} s CPU, {wall:.2f} s wall")


if __name__ == "__main__":
    main()
