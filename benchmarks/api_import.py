"""Cold import time of the API handler, next to a bare ``import boto3``, in fresh processes."""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
RUNS = 7
SNIPPETS = {
    "import boto3": "import boto3",
    "import the API handler": "import drs_orchestrator.handlers.api",
    "import the wave runner handler": "import drs_orchestrator.handlers.wave_runner",
}


def cold_seconds(statement: str) -> float:
    code = "import time; t = time.perf_counter(); " + statement + "; print(time.perf_counter() - t)"
    result = subprocess.run(  # noqa: S603 - fixed interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT / "lambdas",
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    return float(result.stdout.strip())


def main() -> None:
    print(f"median of {RUNS} fresh interpreters each")
    baseline = None
    for label, statement in SNIPPETS.items():
        median = statistics.median(cold_seconds(statement) for _ in range(RUNS))
        baseline = baseline or median
        print(f"  {label:<32}{median * 1000:8.1f} ms  ({median / baseline:.1f}x boto3)")


if __name__ == "__main__":
    main()
