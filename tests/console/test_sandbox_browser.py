"""The sandbox as a newcomer runs it, and the console driven in headless Chromium against it.

The sandbox is a real ``drsctl sandbox`` process: it starts, serves the console and the API,
runs a whole drill for the browser test, and stops on Ctrl-C leaving nothing running.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
from typing import TYPE_CHECKING
from urllib.error import HTTPError

import pytest

from tests.console.conftest import FRONTEND, RunningSandbox, npm

if TYPE_CHECKING:
    from pathlib import Path


pytestmark = pytest.mark.sandbox


def test_sandbox_serves_the_console_config_and_the_seeded_api(sandbox: RunningSandbox) -> None:
    config = sandbox.get("/config.json")
    assert config["stack"] == "dev"
    assert config["deploymentName"] == "aws-elasticdrs-orchestrator-dev"
    assert config["apiUrl"] == sandbox.url + "/api"
    assert config["auth"]["mode"] == "sandbox"
    plans = sandbox.get("/api/recovery-plans", sandbox.token())["items"]
    assert [p["name"] for p in plans] == ["Orders three-tier"]
    with pytest.raises(HTTPError) as refused:
        sandbox.get("/api/recovery-plans", "sandbox-not-the-token")
    assert refused.value.code == 401


def test_browser_drill_in_headless_chromium(sandbox: RunningSandbox, tmp_path: Path) -> None:
    npm()
    result = subprocess.run(
        [npm(), "exec", "--", "playwright", "test", "--output", str(tmp_path / "artifacts")],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        env={**os.environ, "SANDBOX_URL": sandbox.url},
        timeout=600,
    )
    report = json.loads((FRONTEND / "test-results" / "report.json").read_text())
    assert result.returncode == 0, (
        result.stdout[-6000:] + "\nscreenshots: " + str(tmp_path / "artifacts")
    )
    assert report["stats"]["expected"] >= 1
    assert report["stats"]["unexpected"] == 0
    state = sandbox.get("/sandbox/state")
    assert state["drs"]["liveInstances"] == [], "the drill left recovery instances running"
    assert state["drs"]["violations"] == [], "a handler sent DRS a request its model rejects"


def test_ctrl_c_stops_everything(sandbox: RunningSandbox) -> None:
    state = sandbox.get("/sandbox/state")
    workers = state["workerPids"]
    assert workers, "the handlers ran in execution environments of their own"
    port = int(sandbox.url.rsplit(":", 1)[1])

    assert sandbox.stop() == 0
    assert "sandbox stopped" in sandbox.output
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    # Every execution environment ran from a package under the workdir: none is left.
    pgrep = shutil.which("pgrep") or "/usr/bin/pgrep"
    left = subprocess.run([pgrep, "-f", str(sandbox.workdir)], capture_output=True, text=True)
    assert left.stdout.strip() == ""
