"""A real ``drsctl sandbox`` process for the console's tests, started and stopped here."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import Request, urlopen

import pytest

from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
READY = "sandbox ready: "
START_TIMEOUT = PATIENCE


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        pytest.fail("the console's tests need npm (scripts/test.sh checks for it)")
    if not (FRONTEND / "node_modules" / ".package-lock.json").exists():
        subprocess.run([found, "ci", "--no-audit", "--no-fund"], cwd=FRONTEND, check=True)
    return found


@dataclass
class RunningSandbox:
    process: subprocess.Popen[str]
    urls: dict[str, str]
    workdir: Path
    output: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return next(iter(self.urls.values()))

    def get(self, path: str, token: str | None = None, stack: str | None = None) -> Any:
        """GET ``path`` from the first deployment's site, or from ``stack``'s."""
        headers = {"Authorization": token} if token else {}
        base = self.urls[stack] if stack else self.url
        request = Request(base + path, headers=headers)  # noqa: S310 - http://127.0.0.1
        with urlopen(request, timeout=30) as response:  # noqa: S310
            return json.loads(response.read())

    def token(self) -> str:
        return str(self.get("/config.json")["auth"]["token"])

    def stop(self, timeout: float = PATIENCE) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)


def shared_packages(workdir: Path) -> Path:
    """One directory of unpacked function packages for the whole run, beside the run's
    temporary directories (every xdist worker's among them): each package is unpacked and
    its bytecode compiled once, not once per sandbox and stack."""
    run_root = workdir.parent.parent if os.environ.get("PYTEST_XDIST_WORKER") else workdir.parent
    return run_root / "sandbox-packages"


def start_sandbox(workdir: Path, *args: str) -> RunningSandbox:
    """``drsctl sandbox`` on free ports; returns once it printed its ready line."""
    if "--no-console" not in args:
        npm()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "drsctl",
            "sandbox",
            "--port",
            "0",
            "--workdir",
            str(workdir),
            "--packages",
            str(shared_packages(workdir)),
            *args,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    output: list[str] = []
    ready: dict[str, str] = {}
    found = threading.Event()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            if line.startswith(READY):
                ready.update(json.loads(line[len(READY) :]))
                found.set()
        found.set()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT
    while not found.wait(1) and time.monotonic() < deadline:
        pass
    if not ready:
        process.kill()
        pytest.fail("the sandbox did not start:\n" + "\n".join(output[-40:]))
    return RunningSandbox(process, ready, workdir, output)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    # The comparison drills' pacing (one simulated minute a second, DRS phases of a second):
    # the browser drill waits on the same jobs, 3x sooner than at the default pacing.
    running = start_sandbox(
        tmp_path_factory.mktemp("sandbox"), "--time-scale", "60", "--drs-phase-seconds", "1"
    )
    yield running
    running.stop()
