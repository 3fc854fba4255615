"""Recovery plan validation time for 50-wave plans of several shapes (target: < 50 ms each).

Validation runs on every plan save and every start; its costly part is the heaviest set of
waves that may run at once (``domain/concurrency.py``). Before the flow algorithm, k
independent two-wave chains took 3.4 s at 30 waves and 30 s at 36 (exponential search).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "lambdas"))

from drs_orchestrator.domain.plans import MAX_WAVES, RecoveryPlan, Wave, validate_plan  # noqa: E402

RUNS = 20


def _plan(depends: dict[int, list[int]]) -> tuple[RecoveryPlan, dict[str, list[str]]]:
    waves = tuple(
        Wave(f"w{i}", (f"g{i}",), tuple(f"w{d}" for d in depends.get(i, ())))
        for i in range(MAX_WAVES)
    )
    groups = {f"g{i}": [f"s-{i:05d}{n:012d}" for n in range(1 + i % 9)] for i in range(MAX_WAVES)}
    return RecoveryPlan("benchmark", waves), groups


def shapes() -> dict[str, dict[int, list[int]]]:
    rng = random.Random(7)  # noqa: S311 - a fixed, reproducible shape
    return {
        "50 independent waves": {},
        "one chain of 50": {i: [i - 1] for i in range(1, MAX_WAVES)},
        "25 independent two-wave chains": {i: [i - 1] for i in range(1, MAX_WAVES, 2)},
        "5 layers of 10, each on all of the last": {
            i: [j for j in range(i // 10 * 10 - 10, i // 10 * 10)] for i in range(10, MAX_WAVES)
        },
        "binary tree": {i: [(i - 1) // 2] for i in range(1, MAX_WAVES)},
        "random DAG (p=0.1)": {
            i: [j for j in range(i) if rng.random() < 0.1] for i in range(MAX_WAVES)
        },
    }


def main() -> None:
    print(f"validate_plan on {MAX_WAVES}-wave plans, median and worst of {RUNS} runs")
    for label, depends in shapes().items():
        plan, groups = _plan(depends)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            problems = validate_plan(plan, groups)
            times.append(time.perf_counter() - started)
        verdict = "valid" if not problems else f"{len(problems)} problem(s)"
        print(
            f"  {label:<42}{statistics.median(times) * 1000:7.2f} ms  "
            f"(worst {max(times) * 1000:6.2f} ms, {verdict})"
        )


if __name__ == "__main__":
    main()
