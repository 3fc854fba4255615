"""The sandbox as a newcomer meets it: time to ready, one drill of the seeded plan through the
API (the paused wave approved at once), and what it cost in invocations and DRS calls; plus
the console's build size. Prints figures; asserts nothing."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[1]


def call(url: str, token: str | None = None, method: str = "GET", body: object = None) -> dict:
    headers = {"Authorization": token} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    request = Request(url, data=data, headers=headers, method=method)  # noqa: S310 - 127.0.0.1
    with urlopen(request, timeout=30) as response:  # noqa: S310
        return json.loads(response.read() or b"{}")


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-bench-"))
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "drsctl", "sandbox", "--port", "0", "--workdir", str(workdir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith("sandbox ready: "):
            url = next(iter(json.loads(line.removeprefix("sandbox ready: ")).values()))
            break
    ready = time.perf_counter() - started
    try:
        token = call(f"{url}/config.json")["auth"]["token"]
        plan = call(f"{url}/api/recovery-plans", token)["items"][0]
        began = time.perf_counter()
        execution = call(
            f"{url}/api/recovery-plans/{plan['planId']}/executions",
            token,
            "POST",
            {"mode": "DRILL"},
        )
        path = f"{url}/api/executions/{execution['executionId']}"
        paused_for = 0.0
        while True:
            item = call(path, token)
            if item["status"] == "PAUSED":
                paused_at = time.perf_counter()
                call(f"{path}/resume", token, "POST")
                paused_for += time.perf_counter() - paused_at
            if item["status"] in ("COMPLETED", "FAILED", "CANCELLED"):
                break
            time.sleep(0.25)
        drill = time.perf_counter() - began
        state = call(f"{url}/sandbox/state")
        events = call(f"{path}/job-events?limit=100", token)["items"]
        call(f"{path}/terminate-instances", token, "POST")
    finally:
        process.send_signal(signal.SIGINT)
        stopped_at = time.perf_counter()
        process.wait(timeout=60)
        stop = time.perf_counter() - stopped_at

    servers = sum(len(w["servers"]) for w in item["waves"])
    calls = {}
    for job in state["drs"]["jobs"]:
        calls[job["type"]] = calls.get(job["type"], 0) + 1
    print(f"sandbox ready in {ready:.1f} s (offline evaluation, deploy into moto, seed)")
    print(
        f"drill of '{plan['name']}': {len(item['waves'])} waves, {servers} servers, "
        f"{item['status']} in {drill:.1f} s wall ({paused_for:.2f} s approving)"
    )
    print(f"  DRS jobs: {calls}; job events recorded: {len(events)}")
    for function, count in sorted(state["invocations"].items()):
        print(f"  {function}: {count} invocations")
    drs = state["drs"]
    print(f"  DRS simulator: {drs['throttled']} throttled, {len(drs['violations'])} violations")
    print(f"sandbox stopped in {stop:.1f} s")
    dist = ROOT / "frontend" / "dist"
    files = [p for p in dist.rglob("*") if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    zipped = sum(len(gzip.compress(p.read_bytes())) for p in files)
    print(f"console build: {len(files)} files, {raw / 1e6:.2f} MB, {zipped / 1e6:.2f} MB gzipped")


if __name__ == "__main__":
    main()
