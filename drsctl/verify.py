"""``drsctl verify <stack>``: prove that what runs in AWS is what was built.

Reads the stack's outputs (``pulumi stack output --json``, or a file) and checks the live
deployment through boto3, one row per check. The check that matters most downloads each
function's deployed code and imports its handler in a fresh interpreter whose only import
path is that code, the same proof the program runs before deploying: a package missing its
handler module (``No module named 'execution_finder'``) fails here too.

Statuses: PASS, FAIL, WAIT (not yet observable, e.g. the finder has not run on a fresh
deploy) and SKIP (the stack does not deploy that part). Any FAIL makes the exit status 1.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess  # nosec B404
import sys
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from drsctl.tables import table_lines
from infra.packaging import HandlerProofError, prove_archive_once
from infra.runtime_python import LAMBDA_RUNTIME, runtime_interpreter

PASS, FAIL, WAIT, SKIP = "PASS", "FAIL", "WAIT", "SKIP"
#: How long after a deploy a silent finder is "not yet" rather than broken.
FIRST_POLL_GRACE = timedelta(minutes=10)
#: Window in which the finder must have run.
RECENT_WINDOW = timedelta(minutes=15)
HTTP_TIMEOUT_SECONDS = 20

Fetch = Callable[[str], tuple[int, bytes]]


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str


def http_fetch(url: str) -> tuple[int, bytes]:
    """GET ``url``; (status, body). HTTP errors are answers, not exceptions."""
    if not url.startswith("https://"):
        return 0, b"refusing a non-HTTPS URL"
    request = urllib.request.Request(url, headers={"User-Agent": "drsctl-verify"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@dataclass
class AwsClients:
    """The boto3 clients verify uses; tests pass moto-backed or stubbed ones."""

    lambda_: Any
    events: Any
    cloudwatch: Any
    dynamodb: Any
    stepfunctions: Any

    @classmethod
    def for_region(cls, region: str) -> AwsClients:
        import boto3

        session = boto3.session.Session(region_name=region)
        return cls(
            lambda_=session.client("lambda"),
            events=session.client("events"),
            cloudwatch=session.client("cloudwatch"),
            dynamodb=session.client("dynamodb"),
            stepfunctions=session.client("stepfunctions"),
        )


def _functions(outputs: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(output prefix, function name, expected handler) for every function in the outputs."""
    found = []
    for key, name in sorted(outputs.items()):
        match = re.fullmatch(r"(\w+)FunctionName", key)
        if match:
            found.append((match[1], str(name), str(outputs.get(f"{match[1]}Handler", ""))))
    return found


class Verifier:
    """Runs every check against one deployed stack."""

    def __init__(
        self,
        outputs: dict[str, Any],
        clients: AwsClients,
        fetch: Fetch = http_fetch,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.outputs = outputs
        self.clients = clients
        self.fetch = fetch
        self.now = now
        self.region = str(outputs.get("region", ""))

    def run(self) -> list[Check]:
        checks: list[Check] = []
        for prefix, name, handler in _functions(self.outputs):
            checks += self._function(prefix, name, handler)
        checks.append(self._schedule())
        checks.append(self._finder_ran())
        for key, table in sorted(self.outputs.items()):
            if key.endswith("TableName"):
                checks.append(self._table(str(table)))
        checks.append(self._state_machine())
        checks.append(self._alarms())
        checks.append(self._dashboard())
        checks.append(self._api_requires_auth())
        checks.append(self._console())
        checks.append(self._console_config())
        return checks

    # -- functions -----------------------------------------------------------------------

    def _function(self, prefix: str, name: str, handler: str) -> list[Check]:
        label = f"function {name}"
        try:
            function = self.clients.lambda_.get_function(FunctionName=name)
        except Exception as exc:  # noqa: BLE001 - any failure to read it is the finding
            return [Check(label, FAIL, f"cannot read it: {exc}")]
        config = function["Configuration"]
        problems = []
        if config.get("Handler") != handler:
            problems.append(f"handler is '{config.get('Handler')}', expected '{handler}'")
        if config.get("Runtime") != LAMBDA_RUNTIME:
            problems.append(f"runtime is '{config.get('Runtime')}', expected '{LAMBDA_RUNTIME}'")
        if config.get("State", "Active") != "Active":
            problems.append(f"state is {config.get('State')}")
        result = [
            Check(
                label,
                FAIL if problems else PASS,
                "; ".join(problems) or f"{handler} on {LAMBDA_RUNTIME}",
            )
        ]
        result.append(self._deployed_code(name, handler, function))
        return result

    def _deployed_code(self, name: str, handler: str, function: dict) -> Check:
        label = f"deployed code of {name} imports its handler"
        location = (function.get("Code") or {}).get("Location")
        if not location:
            return Check(label, FAIL, "Lambda returned no code location")
        status, body = self.fetch(location)
        if status != 200:
            return Check(label, FAIL, f"downloading the code answered HTTP {status}")
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        expected = function["Configuration"].get("CodeSha256")
        if expected and digest != expected:
            return Check(label, FAIL, f"downloaded code hashes to {digest}, Lambda says {expected}")
        with tempfile.TemporaryDirectory(prefix="verify-") as folder:
            archive = Path(folder) / f"{name}.zip"
            archive.write_bytes(body)
            try:
                prove_archive_once(
                    archive,
                    name,
                    handler,
                    region=self.region or "us-east-1",
                    interpreter=runtime_interpreter(),
                )
            except HandlerProofError as exc:
                return Check(label, FAIL, str(exc))
            except Exception as exc:  # noqa: BLE001 - e.g. not a zip at all
                return Check(label, FAIL, f"the deployed code is not a usable package: {exc}")
        return Check(label, PASS, f"{len(body):,} bytes, sha256 matches, handler imports")

    # -- schedule and recent runs --------------------------------------------------------

    def _schedule(self) -> Check:
        rule = self.outputs.get("pollScheduleRuleName")
        finder = self.outputs.get("executionFinderFunctionArn")
        label = f"schedule {rule}"
        if not rule:
            return Check("schedule", SKIP, "the stack exports no schedule rule")
        try:
            described = self.clients.events.describe_rule(Name=rule)
            targets = self.clients.events.list_targets_by_rule(Rule=rule)["Targets"]
        except Exception as exc:  # noqa: BLE001
            return Check(label, FAIL, f"cannot read it: {exc}")
        if described.get("State") != "ENABLED":
            return Check(label, FAIL, f"rule is {described.get('State')}")
        arns = [t["Arn"] for t in targets]
        if arns != [finder]:
            return Check(label, FAIL, f"targets {arns or 'nothing'}, expected [{finder}]")
        return Check(
            label, PASS, f"enabled, {described.get('ScheduleExpression')}, targets the finder"
        )

    def _metric_sum(self, metric: str, function: str) -> float | None:
        end = self.now()
        datapoints = self.clients.cloudwatch.get_metric_statistics(
            Namespace="AWS/Lambda",
            MetricName=metric,
            Dimensions=[{"Name": "FunctionName", "Value": function}],
            StartTime=end - RECENT_WINDOW,
            EndTime=end,
            Period=60,
            Statistics=["Sum"],
        )["Datapoints"]
        return sum(d["Sum"] for d in datapoints) if datapoints else None

    def _finder_ran(self) -> Check:
        function = self.outputs.get("executionFinderFunctionName")
        label = "execution finder ran recently without errors"
        if not function:
            return Check(label, SKIP, "the stack exports no execution finder")
        try:
            invocations = self._metric_sum("Invocations", str(function))
            errors = self._metric_sum("Errors", str(function))
            modified = self.clients.lambda_.get_function_configuration(FunctionName=function)[
                "LastModified"
            ]
        except Exception as exc:  # noqa: BLE001
            return Check(label, FAIL, f"cannot read its metrics: {exc}")
        if errors:
            return Check(label, FAIL, f"{errors:.0f} errors in the last 15 minutes")
        if invocations:
            return Check(label, PASS, f"{invocations:.0f} invocations, no errors, last 15 minutes")
        age = self.now() - _parse_lambda_time(modified)
        if age < FIRST_POLL_GRACE:
            return Check(
                label,
                WAIT,
                f"not yet: deployed {age.seconds // 60} min ago, no invocation recorded so far",
            )
        return Check(label, FAIL, "no invocation in the last 15 minutes")

    # -- alarms and dashboard ------------------------------------------------------------

    def _alarms(self) -> Check:
        """Every alarm the stack declares exists and notifies the deployment's topic. One in
        ALARM is reported, not failed: a fresh deployment's missed-schedule alarm is in
        ALARM until the finder has run for a while."""
        raw = self.outputs.get("alarmNames")
        if not raw:
            return Check("alarms", SKIP, "the stack exports no alarms")
        wanted = json.loads(raw) if isinstance(raw, str) else list(raw)
        topic = self.outputs.get("topicArn")
        try:
            found = {
                alarm["AlarmName"]: alarm
                for start in range(0, len(wanted), 100)
                for page in self.clients.cloudwatch.get_paginator("describe_alarms").paginate(
                    AlarmNames=wanted[start : start + 100]
                )
                for alarm in page.get("MetricAlarms", [])
            }
        except Exception as exc:  # noqa: BLE001
            return Check("alarms", FAIL, f"cannot read them: {exc}")
        missing = sorted(set(wanted) - set(found))
        if missing:
            return Check("alarms", FAIL, f"missing: {', '.join(missing)}")
        silent = sorted(
            name for name, alarm in found.items() if topic not in alarm.get("AlarmActions", [])
        )
        if silent:
            return Check("alarms", FAIL, f"not notifying {topic}: {', '.join(silent)}")
        firing = sorted(n for n, a in found.items() if a.get("StateValue") == "ALARM")
        state = f"; in ALARM now: {', '.join(firing)}" if firing else ""
        return Check("alarms", PASS, f"{len(found)} alarms notify the topic{state}")

    def _dashboard(self) -> Check:
        name = self.outputs.get("dashboardName")
        if not name:
            return Check("dashboard", SKIP, "the stack exports no dashboard")
        try:
            body = self.clients.cloudwatch.get_dashboard(DashboardName=name)["DashboardBody"]
        except Exception as exc:  # noqa: BLE001
            return Check("dashboard", FAIL, f"{name} cannot be read: {exc}")
        widgets = json.loads(body).get("widgets") or []
        if not widgets:
            return Check("dashboard", FAIL, f"{name} has no widgets")
        return Check("dashboard", PASS, f"{name}, {len(widgets)} widgets")

    # -- data, orchestration, entry points -----------------------------------------------

    def _table(self, table: str) -> Check:
        label = f"table {table}"
        try:
            status = self.clients.dynamodb.describe_table(TableName=table)["Table"]["TableStatus"]
            backups = self.clients.dynamodb.describe_continuous_backups(TableName=table)
        except Exception as exc:  # noqa: BLE001
            return Check(label, FAIL, f"cannot read it: {exc}")
        pitr = (
            backups["ContinuousBackupsDescription"]
            .get("PointInTimeRecoveryDescription", {})
            .get("PointInTimeRecoveryStatus")
        )
        problems = []
        if status != "ACTIVE":
            problems.append(f"status {status}")
        if pitr != "ENABLED":
            problems.append(f"point-in-time recovery {pitr or 'DISABLED'}")
        return Check(
            label,
            FAIL if problems else PASS,
            "; ".join(problems) or "ACTIVE, point-in-time recovery on",
        )

    def _state_machine(self) -> Check:
        arn = self.outputs.get("stateMachineArn")
        if not arn:
            return Check("state machine", SKIP, "the stack exports no state machine yet")
        try:
            status = self.clients.stepfunctions.describe_state_machine(stateMachineArn=arn).get(
                "status"
            )
        except Exception as exc:  # noqa: BLE001
            return Check(f"state machine {arn}", FAIL, f"cannot read it: {exc}")
        return Check(
            f"state machine {arn}", PASS if status == "ACTIVE" else FAIL, f"status {status}"
        )

    def _api_requires_auth(self) -> Check:
        url = self.outputs.get("apiUrl")
        if not url:
            return Check("API", SKIP, "the stack exports no API yet")
        status, _ = self.fetch(f"{str(url).rstrip('/')}/executions")
        return Check(
            f"API {url}",
            PASS if status == 401 else FAIL,
            f"unauthenticated request answered {status} (expected 401)",
        )

    def _console(self) -> Check:
        url = self.outputs.get("consoleUrl")
        if not url:
            return Check("console", SKIP, "the stack exports no console yet")
        status, body = self.fetch(f"{str(url).rstrip('/')}/index.html")
        ok = status == 200 and b"<html" in body.lower()
        return Check(
            f"console {url}",
            PASS if ok else FAIL,
            f"index.html answered {status}" + ("" if ok else ", not an HTML page"),
        )

    def _console_config(self) -> Check:
        """The console's config.json names this stack's API and user pool, and asks for
        Cognito sign-in (a deployed console must never offer the sandbox's sign-in)."""
        url = self.outputs.get("consoleUrl")
        if not url:
            return Check("console config", SKIP, "the stack exports no console yet")
        status, body = self.fetch(f"{str(url).rstrip('/')}/config.json")
        try:
            config = json.loads(body) if status == 200 else None
        except ValueError:
            config = None
        if not isinstance(config, dict):
            return Check("console config", FAIL, f"config.json answered {status}, not JSON")
        auth = config.get("auth") or {}
        expected = {
            "auth.mode": ("cognito", auth.get("mode")),
            "apiUrl": (self.outputs.get("apiUrl"), config.get("apiUrl")),
            "auth.userPoolId": (self.outputs.get("userPoolId"), auth.get("userPoolId")),
            "auth.userPoolClientId": (
                self.outputs.get("userPoolClientId"),
                auth.get("userPoolClientId"),
            ),
        }
        wrong = [
            f"{k} is {got!r}, not {want!r}" for k, (want, got) in expected.items() if want != got
        ]
        if wrong:
            return Check("console config", FAIL, "; ".join(wrong))
        return Check("console config", PASS, "Cognito sign-in against this stack's API")


def _parse_lambda_time(value: str) -> datetime:
    """Lambda's LastModified: ``2026-11-25T18:12:50.238+0000`` (or with ``Z``)."""
    text = value.replace("Z", "+00:00")
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    text = re.sub(r"\.(\d{6})\d+", r".\1", text)
    return datetime.fromisoformat(text).astimezone(UTC)


def stack_outputs(stack: str, outputs_file: Path | None) -> dict[str, Any]:
    """The stack's outputs from ``outputs_file``, else from the Pulumi CLI."""
    if outputs_file is not None:
        return json.loads(outputs_file.read_text())
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        msg = "the Pulumi CLI is not on PATH; pass the outputs with --outputs FILE"
        raise RuntimeError(msg)
    result = subprocess.run(  # noqa: S603  # nosec B603
        [pulumi, "stack", "output", "--json", "--stack", stack],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        msg = f"pulumi stack output failed for '{stack}': {result.stderr.strip()}"
        raise RuntimeError(msg)
    return json.loads(result.stdout)


def print_checks(checks: list[Check], out: TextIO) -> None:
    lines = table_lines([(c.status, c.name, c.detail) for c in checks], widths=(4,))
    out.write("".join(line + "\n" for line in lines))
    counts = {s: sum(c.status == s for c in checks) for s in (PASS, FAIL, WAIT, SKIP)}
    out.write(", ".join(f"{n} {s.lower()}" for s, n in counts.items()) + "\n")


def run_verify(
    stack: str,
    outputs_file: Path | None,
    out: TextIO | None = None,
    clients: AwsClients | None = None,
    fetch: Fetch = http_fetch,
    *,
    as_json: bool = False,
) -> int:
    out = out or sys.stdout
    outputs = stack_outputs(stack, outputs_file)
    clients = clients or AwsClients.for_region(str(outputs.get("region", "")))
    checks = Verifier(outputs, clients, fetch).run()
    if as_json:
        rows = [{"check": c.name, "status": c.status, "detail": c.detail} for c in checks]
        out.write(json.dumps({"stack": stack, "checks": rows}, indent=2) + "\n")
    else:
        print_checks(checks, out)
    return 1 if any(c.status == FAIL for c in checks) else 0
