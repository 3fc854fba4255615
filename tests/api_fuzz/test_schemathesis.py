"""The OpenAPI document fed to Schemathesis, stateless and stateful, against a sandbox.

The sandbox plays API Gateway in front of the real API function (its deployment package, in
its own process) with moto and the DRS simulator behind it. Every response must be no 5xx,
match the document (status, schema, Content-Type), and a request refused with a 4xx must
have written nothing (``hooks.no_writes_after_4xx``); invalid data must be refused.
The run is bounded by examples per operation (``FUZZ_MAX_EXAMPLES``, default 10) and seeded
(``FUZZ_SEED``) so a failure can be replayed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from urllib.request import Request, urlopen

import pytest
from drs_orchestrator.api.schemas import routes

from tests.console.conftest import ROOT, RunningSandbox, start_sandbox

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.sandbox

DOCUMENT = ROOT / "lambdas" / "drs_orchestrator" / "api" / "openapi.json"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "no_writes_after_4xx",
)
#: The report's parts the session's summary line quotes (``conftest.py``).
FUZZ_RESULT = "api_fuzz_result"
SUMMARY_KEYS = ("test_cases", "operations", "failures", "seed", "running_time")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    running = start_sandbox(tmp_path_factory.mktemp("fuzz-sandbox"), "--no-console")
    yield running
    running.stop()


def _request(
    sandbox: RunningSandbox, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = Request(  # noqa: S310 - the local sandbox
        sandbox.url + path, data=body, method=method, headers={"Authorization": sandbox.token()}
    )
    try:
        with urlopen(request, timeout=30) as answer:  # noqa: S310
            return answer.status, dict(answer.headers), answer.read()
    except Exception as error:  # urllib raises HTTPError for 4xx/5xx; it carries the answer
        from urllib.error import HTTPError

        if not isinstance(error, HTTPError):
            raise
        return error.code, dict(error.headers), error.read()


@pytest.mark.parametrize("method", ["PATCH", "TRACE"])
def test_methods_the_api_does_not_define_get_api_gateways_json_403(
    sandbox: RunningSandbox, method: str
) -> None:
    status, headers, body = _request(sandbox, method, "/api/executions")
    assert status == 403
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {"message": "Missing Authentication Token"}


def test_a_body_that_is_not_utf8_is_a_400_naming_the_body(sandbox: RunningSandbox) -> None:
    status, headers, body = _request(sandbox, "POST", "/api/protection-groups", b'{"name": "\xff')
    assert status == 400 and headers["Content-Type"] == "application/json"
    assert json.loads(body)["errors"][0]["field"] == "body"


def test_every_api_answer_carries_its_content_type(sandbox: RunningSandbox) -> None:
    status, headers, _ = _request(sandbox, "GET", "/api/protection-groups?limit=")
    assert status == 400, "a blank limit reaches the handler, which refuses it"
    assert headers["Content-Type"] == "application/json"


def test_schemathesis_finds_nothing(
    sandbox: RunningSandbox, tmp_path: Path, record_property: Any
) -> None:
    report = tmp_path / "schemathesis.json"
    token = sandbox.token()
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        str(DOCUMENT),
        "--url",
        f"{sandbox.url}/api",
        "--header",
        f"Authorization: {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "coverage,fuzzing,stateful",
        "--max-examples",
        os.environ.get("FUZZ_MAX_EXAMPLES", "10"),
        "--seed",
        os.environ.get("FUZZ_SEED", "20261130"),
        "--workers",
        "1",
        "--request-timeout",
        "60",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api_fuzz.hooks",
        "FUZZ_SANDBOX_URL": sandbox.url,
        "FUZZ_TOKEN": token,
        "PYTHONPATH": str(ROOT),
        "NO_COLOR": "1",
    }
    # In a directory of its own: Schemathesis keeps a cache of past crashes where it runs.
    run = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200, check=False
    )
    assert report.exists(), run.stdout[-4000:] + run.stderr[-4000:]
    result = json.loads(report.read_text())
    # On the report, so the session's summary line (conftest.py) has it from any xdist worker.
    record_property(FUZZ_RESULT, {k: result[k] for k in SUMMARY_KEYS})
    assert run.returncode == 0 and not result["failures"] and not result["errors"], run.stdout[
        -8000:
    ]
    # Every operation the document declares was reached (24: the readiness, launch-settings
    # and plan-history routes included).
    assert result["operations"]["tested"] == result["operations"]["total"] == len(routes()) == 28
    assert {p: v["status"] for p, v in result["phases"].items() if p != "examples"} == {
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }
    assert result["test_cases"]["generated"] >= 500, "the run was cut short"
    # Writes that can succeed were reached, so the stateful phase had ids to follow.
    accepted = {
        route: sum(v.get("accepted", 0) for v in phases.values())
        for route, phases in result["valid_rates"].items()
    }
    assert accepted["POST /protection-groups"] > 0 and accepted["POST /recovery-plans"] > 0
