"""End to end without AWS: the real ASL run by moto's Step Functions interpreter, its Lambda
tasks dispatched in-process to the real wave-runner handler, moto DynamoDB, SNS and STS, and
the DRS fake on autopilot (each DescribeJobs moves a job one phase on) in the deployment's
own account and region and in two DRS targets (``TARGETS``: another account in another
region each), reached through roles assumed with moto's STS."""

from __future__ import annotations

import functools
import io
import json
import threading
import time
import uuid
import zipfile
from contextlib import contextmanager
from importlib import import_module
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from drs_orchestrator.adapters.clients import RETRY_CONFIG
from drs_orchestrator.adapters.dynamodb import ExecutionRecords, ServerHolds, from_item
from drs_orchestrator.adapters.reports import report_key
from drs_orchestrator.adapters.stepfunctions import StateMachines
from drs_orchestrator.domain.permissions import AUTOMATION_ACTIONS, RECOVERY_ACTIONS
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.handlers import wave_runner
from drs_orchestrator.services import executions
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend

from drsctl.sandbox.dynamodb_wire import send_dynamodb_results_as_json
from drsctl.sandbox.ec2 import MotoLaunchTemplates
from drsctl.sandbox.iam import PolicySimulator
from infra.iam import target_role_policy
from infra.naming import EXECUTIONS_STATUS_INDEX
from infra.statemachine import definition
from infra.tables import (
    AUDIT,
    EXECUTIONS,
    JOB_EVENTS,
    PROTECTION_GROUPS,
    READINESS,
    RECOVERY_PLANS,
    SERVER_HOLDS,
    create_table_request,
)
from tests.e2e.faults import SimulatedCrash, handler_action, in_handler
from tests.fakes import dynamodb as dynamodb_stand_in
from tests.fakes.drs import FakeDrs
from tests.fakes.lambda_context import LambdaContext
from tests.fakes.ssm import FakeSsm
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from drs_orchestrator.domain.plans import RecoveryPlan

REGION = "us-east-1"
DEPLOYMENT = "e2e-deployment"
#: The DRS targets every e2e deployment has besides home: key -> (account, region).
TARGETS = {
    "111122223333/us-west-2": ("111122223333", "us-west-2"),
    "444455556666/eu-west-1": ("444455556666", "eu-west-1"),
}
STAGING, RECOVERY = TARGETS
EXTERNAL_ID = "e2e-deployment-external-id"
EXECUTIONS_TABLE = "e2e-executions"
#: The deployment bucket, whose ``reports/`` the janitor writes.
REPORTS_BUCKET = "e2e-deployment-bucket"
AUDIT_TABLE = "e2e-audit"
#: ``handler_action`` of the scheduled finder (poll, then janitor).
FINDER_ACTION = "finder-schedule"
JOB_EVENTS_TABLE = "e2e-job-events"
SERVER_HOLDS_TABLE = "e2e-server-holds"
READINESS_TABLE = "e2e-readiness"
READINESS_FUNCTION = "e2e-readiness"


#: Asynchronous invocations not run yet: (handler, event, function name).
QUEUED: list[tuple[Any, dict[str, Any], str]] = []


def run_queued() -> None:
    """Run the queued asynchronous invocations, as Lambda would soon after they were queued
    (a failure is Lambda's to retry, not the caller's to see)."""
    while QUEUED:
        handler, event, name = QUEUED.pop(0)
        token = in_handler.set(True)
        try:
            handler(event, LambdaContext(name))
        except Exception:  # noqa: BLE001, S110 - an async invocation's failure is not the caller's
            pass
        finally:
            in_handler.reset(token)


def invoke_in_process(
    self: LambdaSimpleBackend,
    function_name: str,
    qualifier: str | None,
    body: Any,
    headers: Any,
    response_headers: Any,
) -> bytes:
    """moto's Docker-less Lambda invoke, replaced: import the handler here and call it.

    An asynchronous invocation (``InvocationType=Event``) is queued, as Lambda queues it,
    and run once the caller's request is over (``run_queued``): run inside it, its threads
    would wait for the moto lock the caller's request holds."""
    function = self.get_function(function_name, qualifier)
    event = json.loads(body) if body else {}
    module_name, _, attribute = function.handler.rpartition(".")
    handler = getattr(import_module(module_name), attribute)
    if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
        QUEUED.append((handler, event, function.function_name))
        return b""
    token = in_handler.set(True)
    doing = handler_action.set(event.get("action"))
    try:
        result = handler(event, LambdaContext(function.function_name))
    except SimulatedCrash as crash:  # the function died: Lambda reports an exit error
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": "Runtime.ExitError", "errorMessage": str(crash)}).encode()
    except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports it
        response_headers["x-amz-function-error"] = "Unhandled"
        return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
    finally:
        handler_action.reset(doing)
        in_handler.reset(token)
    return json.dumps(result).encode()


def role_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{DEPLOYMENT}-drs-target"


def targets_json() -> str:
    """``DRS_TARGETS`` as the infrastructure sets it for these targets."""
    return json.dumps(
        [
            {"account": a, "region": r, "roleArn": role_arn(a), "externalId": EXTERNAL_ID}
            for a, r in TARGETS.values()
        ]
    )


#: The wave runner's permissions as the deployment grants them (``infra/components/
#: orchestrator.py``; ``tests/infra`` holds the planned policy to the same needs).
RUNNER_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": list(RECOVERY_ACTIONS), "Resource": "*"},
        {"Effect": "Allow", "Action": list(AUTOMATION_ACTIONS), "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [role_arn(a) for a, _r in TARGETS.values()],
        },
    ],
}


def iam_in(account: str) -> Any:
    """An IAM client acting in ``account`` (moto tells accounts apart by credentials)."""
    credentials = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/e2e-setup", RoleSessionName="e2e-setup"
    )["Credentials"]
    return boto3.client(
        "iam",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )


def create_roles() -> str:
    """The wave runner's role at home and the deployment's role in each target account, as
    the stacks create them; returns the wave runner's role ARN. Made in moto's IAM of each
    account directly: an IAM client per target account (through an assumed role) was a
    fifth of building a world."""
    from moto.iam.models import iam_backends

    def role(account: str, name: str, policy: dict[str, Any]) -> str:
        backend = iam_backends[account]["global"]
        made = backend.create_role(name, "{}", "/", None, "", [], None)
        backend.put_role_policy(name, "runtime", json.dumps(policy))
        return str(made.arn)

    runner = role("123456789012", f"{DEPLOYMENT}-wave-runner-role", RUNNER_POLICY)
    for account in sorted({a for a, _r in TARGETS.values()}):
        arn = role_arn(account)
        regions = sorted(r for a, r in TARGETS.values() if a == account)
        role(account, arn.rsplit("/", 1)[-1], target_role_policy(regions, arn))
    return runner


@functools.cache
def test_client(service: str) -> Any:
    """The test's own client of ``service`` at home, made once per test process: boto3's
    default session is kept from world to world, and moto answers whichever client asks."""
    return boto3.client(service, region_name=REGION)


class Harness:
    def __init__(self, drs: FakeDrs, ssm: FakeSsm, targets: dict[str, FakeDrs]) -> None:
        self.drs = drs
        #: DRS's EventBridge events (launch results) home's DRS sent, until delivered.
        self.drs_events: list[dict[str, Any]] = []
        drs.on_event = self.drs_events.append
        #: The DRS of each target, by key; ``self.drs`` is home's.
        self.targets = targets
        #: The identity (assumed-role ARN, from STS) of every client made in a target.
        self.identities: list[str] = []
        #: IAM's policy simulation (moto has none): a test may add an SCP's denial.
        self.policies = PolicySimulator()
        self.ssm = ssm
        self.dynamodb = test_client("dynamodb")
        self.sfn = test_client("stepfunctions")
        self.sns = test_client("sns")
        self.records = ExecutionRecords(EXECUTIONS_TABLE, client=self.dynamodb)
        self.topic_arn = self.sns.create_topic(Name="e2e-notifications")["TopicArn"]
        self.s3 = test_client("s3")
        self.s3.create_bucket(Bucket=REPORTS_BUCKET)  # us-east-1: no location constraint
        for layout, name in (
            (EXECUTIONS, EXECUTIONS_TABLE),
            (JOB_EVENTS, JOB_EVENTS_TABLE),
            (PROTECTION_GROUPS, "e2e-groups"),
            (RECOVERY_PLANS, "e2e-plans"),
            (SERVER_HOLDS, SERVER_HOLDS_TABLE),
            (READINESS, READINESS_TABLE),
            (AUDIT, AUDIT_TABLE),
        ):
            self.dynamodb.create_table(**create_table_request(layout, name))
        role = test_client("iam").create_role(RoleName="e2e", AssumeRolePolicyDocument="{}")
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("placeholder.py", "")
        function = test_client("lambda").create_function(
            FunctionName="e2e-wave-runner",
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="drs_orchestrator.handlers.wave_runner.handler",
            Code={"ZipFile": code.getvalue()},
        )
        # The API asks it to evaluate a plan after a change (asynchronously on Lambda; here
        # moto's invoke runs it in process before the API answers).
        test_client("lambda").create_function(
            FunctionName=READINESS_FUNCTION,
            Runtime="python3.12",
            Role=role["Role"]["Arn"],
            Handler="drs_orchestrator.handlers.readiness.handler",
            Code={"ZipFile": code.getvalue()},
        )
        machine = self.sfn.create_state_machine(
            name="e2e-recovery",
            definition=definition(function["FunctionArn"]),
            roleArn=role["Role"]["Arn"],
        )
        self.machines = StateMachines(machine["stateMachineArn"], client=self.sfn)

    def drs_of(self, key: str | None) -> FakeDrs:
        """The DRS of a target key (None: home)."""
        return self.drs if key is None else self.targets[key]

    def all_drs(self) -> list[FakeDrs]:
        return [self.drs, *self.targets.values()]

    def drs_jobs(self) -> list[dict[str, Any]]:
        """Every DRS job of every account and region."""
        return [job for drs in self.all_drs() for job in drs.jobs.values()]

    def job_log(self, job_id: str) -> list[dict[str, Any]]:
        return next(drs.logs[job_id] for drs in self.all_drs() if job_id in drs.jobs)

    def run(
        self,
        plan: RecoveryPlan,
        groups: dict[str, list[str]],
        mode: str = "DRILL",
        targets: dict[str, str] | None = None,
        *,
        hold: bool = False,
    ) -> str:
        """Start an execution of ``plan`` directly (not through the API); ``targets``
        binds groups to DRS targets (group -> key), the others are at home; ``hold``
        holds its servers first, as the API's start does."""
        execution_id = f"exec-{uuid.uuid4().hex[:12]}"
        item = executions.new_execution(
            execution_id,
            "plan-1",
            plan,
            groups,
            mode,
            to_iso(__import__("datetime").datetime.now(__import__("datetime").UTC)),
            group_targets=targets,
        )
        if hold:
            holds = ServerHolds(SERVER_HOLDS_TABLE, client=self.dynamodb)
            for server in sorted({s for servers in groups.values() for s in servers}):
                assert holds.take(execution_id, server, item["startedAt"])
        self.records.create(item)
        self.machines.start(execution_id)
        return execution_id

    def api(
        self,
        method: str,
        resource: str,
        groups: str = "operator",
        body: str | None = None,
        query: dict[str, str] | None = None,
        action: str | None = None,
        **path: str,
    ) -> tuple[int, Any]:
        """Call the real API handler as API Gateway would, as a user in ``groups``;
        ``action`` names the request for the fault injector (``handler_action``: None, the
        API's calls are one site per call point).

        The servers a protection group names are put in DRS's inventory first: the API
        refuses servers DRS does not have, and these tests make their servers up."""
        from drs_orchestrator.handlers import api

        if resource.startswith("/protection-groups") and body:
            parsed = json.loads(body)
            key = f"{parsed.get('accountId')}/{parsed.get('region')}"
            drs = self.targets.get(key, self.drs)
            known = {s["sourceServerID"] for s in drs.source_servers}
            for server in parsed.get("sourceServerIds") or []:
                if server not in known:
                    drs.add_source_server(server, {})

        concrete = resource
        for name, value in path.items():
            concrete = concrete.replace("{" + name + "}", value)
        event = {
            "resource": resource,
            "path": concrete,
            "httpMethod": method,
            "headers": {},
            "queryStringParameters": query,
            "pathParameters": path,
            "body": body,
            "isBase64Encoded": False,
            "requestContext": {
                "resourcePath": resource,
                "httpMethod": method,
                "stage": "v1",
                "requestId": str(uuid.uuid4()),
                "authorizer": {"claims": {"cognito:groups": groups}},
            },
        }
        token, doing = in_handler.set(True), handler_action.set(action)
        try:
            response = api.handler(event, LambdaContext("e2e-api"))
        except SimulatedCrash:  # the function died: API Gateway answers 502
            return 502, None
        finally:
            handler_action.reset(doing)
            in_handler.reset(token)
        run_queued()
        answer = response.get("body")
        return response["statusCode"], json.loads(answer) if answer else None

    def deliver_drs_events(self) -> list[dict[str, Any]]:
        """Hand the events home's DRS sent since the last call to the wave runner, as the
        deployment's launch-events rule does; returns the runner's answers (a function
        that died or failed answers ``crashed``/``error``: EventBridge's retries are not
        simulated, the event is lost)."""
        from drs_orchestrator.handlers import wave_runner

        answers = []
        while self.drs_events:
            event = self.drs_events.pop(0)
            token, doing = in_handler.set(True), handler_action.set("drs-event")
            try:
                answers.append(wave_runner.handler(event, LambdaContext("e2e-wave-runner")))
            except SimulatedCrash:
                answers.append({"crashed": True})
            except Exception as exc:  # noqa: BLE001 - a failed invocation, as Lambda reports it
                answers.append({"error": str(exc)})
            finally:
                handler_action.reset(doing)
                in_handler.reset(token)
        return answers

    def run_finder(self) -> dict[str, Any]:
        """One scheduled invocation of the execution finder (poll, then janitor)."""
        from drs_orchestrator.handlers import execution_finder

        token, action = in_handler.set(True), handler_action.set(FINDER_ACTION)
        try:
            return execution_finder.handler({"source": "aws.events"}, LambdaContext("finder"))
        except SimulatedCrash:
            return {"crashed": True}
        except Exception as exc:  # noqa: BLE001 - a failed invocation; the next one goes on
            return {"error": str(exc)}
        finally:
            handler_action.reset(action)
            in_handler.reset(token)

    def execution(self, execution_id: str) -> dict[str, Any]:
        # moto is not thread-safe: a read racing the state machine's write to the same item
        # can fail inside moto ("dictionary changed size"); such a read is simply retried.
        for _ in range(20):
            try:
                item = self.records.get(execution_id)
            except RuntimeError:
                time.sleep(0.05)
                continue
            assert item is not None
            return item
        msg = f"could not read {execution_id} while the state machine was writing it"
        raise AssertionError(msg)

    def one_wave_plan(self, servers: list[str], group: str, wave: str) -> dict[str, Any]:
        """A protection group of ``servers`` and a plan of one wave over it, made through
        the API by an admin (201 asserted): what ``start_plan`` starts."""
        body = {"name": group, "region": REGION, "sourceServerIds": servers}
        status, _ = self.api("POST", "/protection-groups", groups="admin", body=json.dumps(body))
        assert status == 201
        plan = {"name": f"{group}-plan", "waves": [{"name": wave, "protectionGroups": [group]}]}
        status, created = self.api("POST", "/recovery-plans", groups="admin", body=json.dumps(plan))
        assert status == 201, created
        return dict(created)

    def start_plan(self, plan_id: str, mode: str = "DRILL") -> tuple[int, Any]:
        """``POST /recovery-plans/{planId}/executions``, as an operator: status and body."""
        return self.api(
            "POST",
            "/recovery-plans/{planId}/executions",
            body=json.dumps({"mode": mode}),
            planId=plan_id,
        )

    def wait_for(
        self, execution_id: str, *statuses: str, timeout: float = PATIENCE
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        previous: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            item = self.execution(execution_id)
            # moto's DynamoDB is not thread-safe: a read racing the state machine's write can
            # see half an update, so an item counts only once two reads agree.
            if item["status"] in statuses and item == previous:
                return item
            previous = item
            time.sleep(0.1)
        msg = f"{execution_id} is {self.execution(execution_id)['status']}, not {statuses}"
        raise AssertionError(msg)

    def machine_status(self, execution_id: str, timeout: float = PATIENCE) -> str:
        arn = self.machines._arn.replace(":stateMachine:", ":execution:") + f":{execution_id}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING":
                return status
            time.sleep(0.05)
        return "RUNNING"

    def machine_runs(self, execution_id: str) -> list[dict[str, Any]]:
        """The state machine runs of an execution (its first, and those handed over to)."""
        pages = self.sfn.get_paginator("list_executions").paginate(
            stateMachineArn=self.machines._arn
        )
        return [
            run
            for page in pages
            for run in page["executions"]
            if run["name"] == execution_id or run["name"].startswith(f"{execution_id}-r")
        ]

    def holds(self) -> dict[str, str]:
        """The server-holds table: each held source server and the execution holding it."""
        pages = self.dynamodb.get_paginator("scan").paginate(TableName=SERVER_HOLDS_TABLE)
        rows = [from_item(i) for page in pages for i in page["Items"]]
        return {row["sourceServerId"]: row["executionId"] for row in rows}

    def events(self, execution_id: str) -> list[dict[str, Any]]:
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=JOB_EVENTS_TABLE,
            KeyConditionExpression="executionId = :e",
            ExpressionAttributeValues={":e": {"S": execution_id}},
        )
        return [from_item(i) for page in pages for i in page["Items"]]

    def stored_report(self, execution_id: str) -> tuple[dict[str, Any], str] | None:
        """The execution's report as the janitor stored it (JSON, HTML), or None."""
        try:
            document, html = (
                self.s3.get_object(Bucket=REPORTS_BUCKET, Key=report_key(execution_id, kind))[
                    "Body"
                ].read()
                for kind in ("json", "html")
            )
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(document), html.decode()

    def notifications(self) -> list[dict[str, Any]]:
        from moto.sns.models import sns_backends

        topic = sns_backends["123456789012"][REGION].topics[self.topic_arn]
        return [json.loads(message) for _id, message, *_ in topic.sent_notifications]


@pytest.fixture
def harness(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    with harness_world(monkeypatch) as built:
        yield built


@contextmanager
def harness_world(monkeypatch: pytest.MonkeyPatch, *, on_moto: bool = False) -> Iterator[Harness]:
    """The world of ``harness``: a test may build two in turn (each with its own
    ``monkeypatch`` context), to run one case on two configurations and compare.

    DynamoDB is the stand-in (``tests/fakes/dynamodb.py``), unless ``on_moto``: moto's, as
    every other service is."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "DEPLOYMENT_NAME": DEPLOYMENT,
        "DRS_TARGETS": targets_json(),
        "EXECUTIONS_TABLE": EXECUTIONS_TABLE,
        "EXECUTIONS_STATUS_INDEX": EXECUTIONS_STATUS_INDEX,
        "JOB_EVENTS_TABLE": JOB_EVENTS_TABLE,
        "JOB_EVENTS_RETENTION_DAYS": "30",
        "POLL_SECONDS": "0",
        "SERVER_HOLDS_TABLE": SERVER_HOLDS_TABLE,
        "REPORTS_BUCKET": REPORTS_BUCKET,
        "AUDIT_TABLE": AUDIT_TABLE,
        "AUDIT_RETENTION_DAYS": "400",
    }.items():
        monkeypatch.setenv(name, value)
    drs = FakeDrs(region=REGION)
    drs.autopilot = True
    drs.templates = MotoLaunchTemplates(drs.account, REGION)
    # One client per service, as the runtime's own ``clients.client`` shares one per process.
    drs_client = drs.client()
    monkeypatch.setattr("drs_orchestrator.adapters.drs.make_client", lambda _s: drs_client)
    targets = {key: FakeDrs(region=r, account=a) for key, (a, r) in TARGETS.items()}
    for target in targets.values():
        target.autopilot = True
        target.templates = MotoLaunchTemplates(target.account, target.region)
    # A reverse replication puts its reversed server in the origin's DRS, as DRS does.
    drs.origin_drs = lambda region, account: targets.get(f"{account}/{region}")
    identities: list[str] = []
    identity_of: dict[str, str] = {}

    def in_target(service: str, target: Any, credentials: dict[str, Any]) -> Any:
        """A client in a target, made with the credentials STS (moto) gave: DRS is the
        target's simulator, EC2 moto's in the target's account (the credentials say which);
        the identity the credentials carry is noted (asked of STS once per credentials)."""
        key = credentials["AccessKeyId"]
        if key not in identity_of:
            sts = boto3.client(
                "sts",
                region_name=target.region,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
            token = in_handler.set(False)  # the test's look, not a call of the runtime
            try:
                identity_of[key] = sts.get_caller_identity()["Arn"]
            finally:
                in_handler.reset(token)
        identities.append(identity_of[key])
        assert service in {"drs", "ec2", "iam"}, f"the runtime asked for {service} in a target"
        if service == "iam":  # the target role simulates itself
            return policies.install(
                boto3.client(
                    "iam",
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                    config=RETRY_CONFIG,
                )
            )
        if service == "ec2":
            return boto3.client(
                "ec2",
                region_name=target.region,
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
                config=RETRY_CONFIG,
            )
        return targets[target.key].client()

    monkeypatch.setattr("drs_orchestrator.adapters.targets.assumed_client", in_target)
    # IAM's policy simulation, which moto lacks, over the roles moto holds.
    policies = PolicySimulator()
    monkeypatch.setattr(
        "drs_orchestrator.adapters.iam.make_client",
        lambda service: policies.install(boto3.client(service, config=RETRY_CONFIG)),
    )
    ssm = FakeSsm(region=REGION)
    ssm_client = ssm.client()
    monkeypatch.setattr("drs_orchestrator.adapters.ssm.make_client", lambda _s: ssm_client)
    monkeypatch.setattr(LambdaSimpleBackend, "invoke", invoke_in_process)
    monkeypatch.setattr("botocore.endpoint.time.sleep", lambda _s: None)
    # Step Functions' retry intervals are real waits in moto's interpreter: skip them.
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    monkeypatch.setattr(retrier_decl, "time", SimpleNamespace(sleep=lambda _s: None))
    # moto is not thread-safe and the state machine runs in a thread of its own: one lock
    # around every request moto answers keeps the two threads from corrupting each other.
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    answer = BotocoreStubber.__call__

    def serialised(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return answer(self, *args, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", serialised)
    if on_moto:
        # moto's DynamoDB answers sent as the JSON they are, as the sandbox sends them
        # (drsctl/sandbox/dynamodb_wire.py); moto's serializer is put back on undo.
        from moto.dynamodb.responses import DynamoResult

        monkeypatch.setattr(DynamoResult, "execute_result", DynamoResult.execute_result)
        send_dynamodb_results_as_json()
    else:
        dynamodb_stand_in.install(monkeypatch, dynamodb_stand_in.DynamoDb(lock))
    # boto3's default session kept from world to world (moto starts each mock with a new
    # one by default): the runtime's clients, made once per session, are made once per
    # test process, as in a warm Lambda environment.
    with mock_aws(
        config={
            "core": {"reset_boto3_session": False},
            "stepfunctions": {"execute_state_machine": True},
            "lambda": {"use_docker": False},
        }
    ):
        QUEUED.clear()
        built = Harness(drs, ssm, targets)
        built.identities = identities
        built.policies = policies
        monkeypatch.setenv("WAVE_RUNNER_ROLE_ARN", create_roles())
        monkeypatch.setenv("TOPIC_ARN", built.topic_arn)
        monkeypatch.setenv("STATE_MACHINE_ARN", built.machines._arn)
        monkeypatch.setenv("PROTECTION_GROUPS_TABLE", "e2e-groups")
        monkeypatch.setenv("RECOVERY_PLANS_TABLE", "e2e-plans")
        monkeypatch.setenv("READINESS_TABLE", READINESS_TABLE)
        monkeypatch.setenv("READINESS_FUNCTION", READINESS_FUNCTION)
        # The janitor asks after every live execution's run at once (deployed: after 5 min
        # of silence), so its call points are reached in every drill.
        monkeypatch.setenv("JANITOR_AFTER_SECONDS", "0")
        drop_warm_objects(clients_too=False)
        threads_before = set(threading.enumerate())
        yield built
        stop_every_run(built, threads_before)
        drop_warm_objects(clients_too=False)


def drop_warm_objects(*, clients_too: bool = True) -> None:
    """Forget what the functions keep warm between invocations (their services and stores,
    and with ``clients_too`` their boto3 clients), as a new execution environment starts
    without them: a crash takes its environment's objects with it (``crash-cold``,
    tests/e2e/faults.py). Between worlds each test's functions start without services or
    stores; their clients are kept (moto answers the session they belong to, and making
    them again for every test would cost the suite its time)."""
    from drs_orchestrator.adapters import clients
    from drs_orchestrator.handlers import api, execution_finder, readiness

    for cache in (
        api._catalog,
        api._audit,
        api._trail,
        api._readiness_requests,
        readiness._readiness,
        wave_runner._runner,
        wave_runner._waker,
        wave_runner._machines,
        execution_finder._finder,
        execution_finder._janitor,
    ):
        cache.cache_clear()
    if clients_too:
        with clients._making:
            clients._made.clear()


def stop_every_run(harness: Harness, threads_before: set[threading.Thread]) -> None:
    """Stop the runs a test left going and wait for their interpreter threads.

    moto's interpreter threads outlive ``mock_aws``: a run left waiting would go on in
    the next test's backend (whose function has the same name), ticking executions that
    test never made and competing for its lock and its time."""
    pages = harness.sfn.get_paginator("list_executions").paginate(
        stateMachineArn=harness.machines._arn, statusFilter="RUNNING"
    )
    for page in pages:
        for run in page["executions"]:
            harness.sfn.stop_execution(executionArn=run["executionArn"])
    deadline = time.monotonic() + PATIENCE
    for thread in set(threading.enumerate()) - threads_before:
        _join(thread, deadline)
        if thread.is_alive():
            msg = f"a state machine thread ({thread.name}) did not stop after its test"
            raise AssertionError(msg)


def _join(thread: threading.Thread, deadline: float) -> None:
    """Join ``thread`` by ``deadline``. A thread just started is listed before it runs, and
    joining it then raises ("cannot join thread before it is started"): seen once, when a
    test's last request started a run as the test ended."""
    while True:
        try:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        except RuntimeError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.01)
        else:
            return


def now_iso() -> str:
    from datetime import UTC, datetime

    return to_iso(datetime.now(UTC))


def wait_until(predicate: Any, timeout: float = PATIENCE, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")
