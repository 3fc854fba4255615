"""The Lambda runtime's Python on this machine: found, and used to compile a package's
bytecode, so packages are proven (and compiled) by the version Lambda runs."""

from __future__ import annotations

import json
import os
import shutil

# subprocess runs only interpreters found on this machine, with fixed statements.
import subprocess  # nosec B404
import sys
import tempfile
from functools import cache
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The Lambda runtime every function runs on, and its Python version.
LAMBDA_RUNTIME = "python3.12"
LAMBDA_PYTHON_VERSION = LAMBDA_RUNTIME.removeprefix("python")
#: The runtime's interpreter, when it is not found by itself (``uv python find``, pyenv's
#: versions, ``python3.12`` on PATH).
LAMBDA_PYTHON_ENV = "DRS_LAMBDA_PYTHON"
COMPILE_TIMEOUT_SECONDS = 120


class BytecodeError(RuntimeError):
    """Raised when the runtime's interpreter cannot compile a package."""


def _reports_version(candidate: str, version: str) -> bool:
    try:
        # The candidate is an interpreter found on this machine, run with a fixed statement.
        result = subprocess.run(  # noqa: S603  # nosec B603
            [candidate, "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return result.returncode == 0 and result.stdout.strip() == version


def _candidates(version: str) -> Iterator[str]:
    """Interpreters that may be ``version``, cheapest to find first: a file that is there
    costs one version check (~20 ms); asking uv (~0.5-1 s) is left for last."""
    if os.environ.get(LAMBDA_PYTHON_ENV):
        yield os.environ[LAMBDA_PYTHON_ENV]
        return
    if f"{sys.version_info[0]}.{sys.version_info[1]}" == version:
        yield sys.executable
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found_there = sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)
    yield from (str(p) for p in found_there)
    on_path = shutil.which(f"python{version}")
    if on_path:
        yield on_path
    uv = shutil.which("uv")
    if uv:
        found = subprocess.run(  # noqa: S603  # nosec B603 - uv from PATH, fixed arguments
            [uv, "python", "find", "--no-project", version],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if found.returncode == 0 and found.stdout.strip():
            yield found.stdout.strip()


@cache
def runtime_interpreter(version: str = LAMBDA_PYTHON_VERSION) -> str | None:
    """An interpreter of the Lambda runtime's Python version on this machine, or None.

    With one, packages are proven (and, when asked, compiled) with the runtime's version;
    without, they are proven with the interpreter at hand."""
    return next((c for c in _candidates(version) if _reports_version(c, version)), None)


_COMPILE_SCRIPT = r"""
import importlib.util, json, py_compile, sys
sources, out = json.loads(sys.stdin.read()), sys.argv[1]
for index, (arcname, path) in enumerate(sources):
    py_compile.compile(
        path,
        cfile=f"{out}/{index}.pyc",
        dfile=arcname,
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
print(sys.implementation.cache_tag)
"""


def bytecode(files: dict[str, Path], interpreter: str) -> dict[str, bytes]:
    """``.pyc`` files for every module of the package, compiled by ``interpreter`` (the
    runtime's version), keyed by their place in the zip. Reproducible: the hash-based
    form checks nothing against the source's mtime (Lambda runs what it was given), the
    names in the code objects are the zip's, and hashing is seeded."""
    sources = sorted((a, str(p)) for a, p in files.items() if a.endswith(".py"))
    with tempfile.TemporaryDirectory(prefix="pyc-") as out:
        result = subprocess.run(  # noqa: S603  # nosec B603 - the runtime's interpreter
            [interpreter, "-I", "-c", _COMPILE_SCRIPT, out],
            input=json.dumps(sources),
            capture_output=True,
            text=True,
            timeout=COMPILE_TIMEOUT_SECONDS,
            env={"PYTHONHASHSEED": "0", "PATH": "/usr/bin:/bin"},
            check=False,
        )
        if result.returncode != 0:
            msg = f"compiling the package with {interpreter} failed: {result.stderr[-2000:]}"
            raise BytecodeError(msg)
        tag = result.stdout.strip().splitlines()[-1]
        compiled = {}
        for index, (arcname, _path) in enumerate(sources):
            where = PurePosixPath(arcname)
            name = where.parent / "__pycache__" / f"{where.stem}.{tag}.pyc"
            compiled[str(name)] = Path(out, f"{index}.pyc").read_bytes()
    return compiled


def interpreter_identity(interpreter: str | None) -> str:
    if not interpreter:
        return "sources only"
    return f"{interpreter} {Path(interpreter).resolve().stat().st_mtime_ns}"
