"""How long ``drsctl plan`` takes, as a user runs it: a fresh process per run.

Cold: the package caches under ``build/lambda`` emptied (every zip compressed again, every
handler proven again). Warm: nothing changed since the last run (zips and proofs reused).
Also each stack's evaluation inside one process, for comparison with earlier figures.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHES = (ROOT / "build" / "lambda" / "proofs", ROOT / "build" / "lambda" / "inputs")
RUNS = 3


def plan_seconds() -> float:
    started = time.perf_counter()
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "drsctl", "plan", "--all"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    cold = []
    for _ in range(RUNS):
        for cache in CACHES:
            shutil.rmtree(cache, ignore_errors=True)
        cold.append(plan_seconds())
    warm = [plan_seconds() for _ in range(RUNS)]
    print(f"drsctl plan --all, median of {RUNS} fresh processes")
    print(f"  cold (zips built, handlers proven)  {statistics.median(cold):6.2f} s")
    print(f"  warm (nothing changed)              {statistics.median(warm):6.2f} s")

    from infra.offline import evaluate, stack_files

    print(f"{'stack':<16}{'seconds':>10}{'resources':>11}  (one process, warm caches)")
    for stack in stack_files():
        started = time.perf_counter()
        evaluation = evaluate(stack)
        seconds = time.perf_counter() - started
        print(f"{stack:<16}{seconds:>10.2f}{len(evaluation.custom_resources):>11}")


if __name__ == "__main__":
    main()
