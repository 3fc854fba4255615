"""Cold import of each function's handler from its own package, as Lambda imports it.

Each package is built (``infra/packaging.py``) and extracted; a fresh ``python -I -S`` whose
only import path is that directory imports the handler — what Lambda's init does, without
``.pyc`` files it cannot write — next to a bare ``import boto3`` from the same directory.
Goal: the handler within 1.3x of boto3.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from infra.functions import CATALOGUE
from infra.packaging import build_package, runtime_interpreter

RUNS = 7


def cold_seconds(interpreter: str, root: str, statement: str) -> float:
    code = (
        f"import sys; sys.path.insert(0, {root!r}); import time; t = time.perf_counter(); "
        f"{statement}; print(time.perf_counter() - t)"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter, fixed code
        [interpreter, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        check=True,
        # Lambda's /var/task is read-only: nothing compiled at import time is kept.
        env={
            "AWS_DEFAULT_REGION": "us-east-1",
            "PATH": "/usr/bin:/bin",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    return float(result.stdout.strip())


def main() -> None:
    print(f"cold import from the extracted package, median of {RUNS} fresh interpreters")
    with tempfile.TemporaryDirectory() as build:
        for name, spec in CATALOGUE.items():
            for bytecode in (False, True):
                package = build_package(spec, Path(build), compile_bytecode=bytecode)
                interpreter = package.interpreter or runtime_interpreter() or sys.executable
                root = Path(build) / f"{name}-{bytecode}"
                with zipfile.ZipFile(package.path) as archive:
                    archive.extractall(root)  # noqa: S202 - our own archive
                module = spec.handler.rpartition(".")[0]
                boto3 = statistics.median(
                    cold_seconds(interpreter, str(root), "import boto3") for _ in range(RUNS)
                )
                handler = statistics.median(
                    cold_seconds(interpreter, str(root), f"import {module}") for _ in range(RUNS)
                )
                label = "with .pyc" if package.bytecode else "sources  "
                print(
                    f"  {name:<18}{label}  {package.size / 1e6:5.2f} MB   import boto3 "
                    f"{boto3 * 1000:7.1f} ms   handler {handler * 1000:7.1f} ms   "
                    f"({handler / boto3:.2f}x boto3)"
                )
        print(f"  (interpreter: {runtime_interpreter() or sys.executable})")


if __name__ == "__main__":
    main()
