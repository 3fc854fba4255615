"""The one place where physical names and tags are derived.

Two deployments may share an AWS account, so every name a resource gets in AWS starts with
the deployment name and comes from here. ``infra/settings.py`` asks this module for every
name the program will derive, so a deployment name that would break an AWS limit fails
before any resource is declared, and the policy pack checks the same rules on the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

#: Tag key that marks every taggable resource with the deployment it belongs to.
DEPLOYMENT_TAG_KEY = "drs-orchestrator:deployment"
PROJECT_TAG_KEY = "pulumi:project"
STACK_TAG_KEY = "pulumi:stack"

#: The Lambda functions of one deployment, by short name. Adding one here makes the
#: settings check its derived names before anything else happens.
FUNCTION_SHORT_NAMES: tuple[str, ...] = ("execution-finder", "wave-runner", "api", "readiness")
#: The DynamoDB tables of one deployment, by short name.
TABLE_SHORT_NAMES: tuple[str, ...] = (
    "executions",
    "job-events",
    "protection-groups",
    "recovery-plans",
    "server-holds",
    "readiness",
)

#: The Step Functions state machines of one deployment (declared by the recovery
#: orchestration; their names are checked from the start so no deployment name that would
#: break them is ever accepted).
STATE_MACHINE_SHORT_NAMES: tuple[str, ...] = ("recovery",)

#: What the bootstrap program's CI roles are for: deploy (main, environment) and preview (PRs).
CI_ROLE_PURPOSES: tuple[str, ...] = ("deploy", "preview")

#: GSI on the executions table that the finder queries instead of scanning history.
EXECUTIONS_STATUS_INDEX = "status-index"
#: Sparse index of the executions the finder follows (``watch`` set); the runtime names it
#: too (``drs_orchestrator.adapters.dynamodb.EXECUTIONS_WATCH_INDEX``), a test keeps the two equal.
EXECUTIONS_WATCH_INDEX = "watch-index"
#: A plan's executions, newest first, with what its recovery-time trend needs
#: (``drs_orchestrator.adapters.dynamodb.EXECUTIONS_PLAN_INDEX``; a test keeps the two equal).
EXECUTIONS_PLAN_INDEX = "plan-index"
#: Indexes of the audit trail (``drs_orchestrator.adapters.audit``; a test keeps them equal):
#: by user, by object (group, plan or execution), by plan (a plan and its executions).
AUDIT_ACTOR_INDEX = "actor-index"
AUDIT_OBJECT_INDEX = "object-index"
AUDIT_PLAN_INDEX = "plan-index"
#: Where each finished execution's report is kept in the deployment bucket; the finder
#: writes and the API reads only under it, and the bootstrap's bucket policy lets this
#: deployment's functions in there and nowhere else
#: (``drs_orchestrator.adapters.reports.REPORTS_PREFIX``; a test keeps the two equal).
REPORTS_PREFIX = "reports/"
#: The attributes the plan index carries besides its keys: an execution's summary.
EXECUTIONS_PLAN_INDEX_ATTRIBUTES = (
    "endedAt",
    "mode",
    "planName",
    "recoveryTime",
    "recoveryTimeObjectiveMinutes",
    "status",
)

#: Documented short forms of deployment names, for names AWS limits too tightly to hold the
#: full deployment name (deployment -> short form). None is needed by the current names; the
#: policy pack accepts a name starting with a short form only if it is listed here.
SHORT_FORMS: dict[str, str] = {}

DEPLOYMENT_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class NameRule:
    """An AWS naming rule for one kind of physical name."""

    kind: str
    max_length: int
    pattern: re.Pattern[str]
    description: str

    def violations(self, name: str) -> list[str]:
        """The ways ``name`` breaks this rule; empty when it is valid."""
        problems = []
        if len(name) > self.max_length:
            problems.append(
                f"{self.kind} name '{name}' is {len(name)} characters; "
                f"AWS allows at most {self.max_length}"
            )
        if not self.pattern.fullmatch(name):
            problems.append(f"{self.kind} name '{name}' {self.description}")
        return problems


LAMBDA_FUNCTION = NameRule(
    "Lambda function", 64, re.compile(r"[A-Za-z0-9_-]+"), "may contain only A-Z a-z 0-9 _ -"
)
IAM_ROLE = NameRule("IAM role", 64, re.compile(r"[\w+=,.@-]+"), "may contain only \\w+=,.@-")
IAM_POLICY = NameRule("IAM policy", 128, re.compile(r"[\w+=,.@-]+"), "may contain only \\w+=,.@-")
DYNAMODB_TABLE = NameRule(
    "DynamoDB table", 255, re.compile(r"[A-Za-z0-9_.-]{3,}"), "may contain only A-Z a-z 0-9 _ . -"
)
LOG_GROUP = NameRule(
    "CloudWatch log group", 512, re.compile(r"[A-Za-z0-9_/.#-]+"), "may contain only A-Za-z0-9_/.#-"
)
EVENT_RULE = NameRule(
    "EventBridge rule", 64, re.compile(r"[A-Za-z0-9_.-]+"), "may contain only A-Z a-z 0-9 _ . -"
)
EVENT_BUS = NameRule(
    "EventBridge event bus",
    256,
    re.compile(r"[A-Za-z0-9_.-]+"),
    "may contain only A-Z a-z 0-9 _ . -",
)
#: The deployment's bus for the DRS events its targets forward, and the purposes of the rules
#: on it (``infra/components/forwarded_events.py``).
DRS_EVENTS_BUS = "drs-events"
FORWARDED_LAUNCHES = "target-launches"
FORWARDED_STALLS = "target-stalls"
STATE_MACHINE = NameRule(
    "Step Functions state machine",
    80,
    re.compile(r"[A-Za-z0-9_-]+"),
    "may contain only A-Z a-z 0-9 _ -",
)


CLOUDFRONT_OAC = NameRule(
    "CloudFront origin access control",
    64,
    re.compile(r"[A-Za-z0-9_.-]+"),
    "may contain only A-Z a-z 0-9 _ . -",
)

SNS_TOPIC = NameRule(
    "SNS topic", 256, re.compile(r"[A-Za-z0-9_-]+"), "may contain only A-Z a-z 0-9 _ -"
)
CLOUDWATCH_ALARM = NameRule(
    "CloudWatch alarm", 255, re.compile(r"[A-Za-z0-9_.-]+"), "may contain only A-Z a-z 0-9 _ . -"
)
CLOUDWATCH_DASHBOARD = NameRule(
    "CloudWatch dashboard", 255, re.compile(r"[A-Za-z0-9_-]+"), "may contain only A-Z a-z 0-9 _ -"
)
SQS_QUEUE = NameRule(
    "SQS queue", 80, re.compile(r"[A-Za-z0-9_-]+"), "may contain only A-Z a-z 0-9 _ -"
)
#: The deployment's alarms, by what each watches (``infra/components/observability.py``).
ALARM_SHORT_NAMES: tuple[str, ...] = (
    "api-errors",
    "api-5xx",
    "drs-throttling",
    "execution-finder-errors",
    "execution-finder-missed-schedule",
    "execution-finder-schedule-failed",
    "executions-healed",
    "failed-invocations",
    "readiness-errors",
    "state-machine-failed",
    "state-machine-timed-out",
    "wave-runner-errors",
)
REST_API = NameRule(
    "API Gateway REST API", 1024, re.compile(r"[\w .:/=+@-]+"), "may contain only \\w .:/=+@-"
)
COGNITO_USER_POOL = NameRule(
    "Cognito user pool", 128, re.compile(r"[\w\s+=,.@-]+"), "may contain only \\w\\s+=,.@-"
)
COGNITO_CLIENT = NameRule(
    "Cognito user pool client", 128, re.compile(r"[\w\s+=,.@-]+"), "may contain only \\w\\s+=,.@-"
)


def s3_bucket_violations(name: str) -> list[str]:
    """The S3 general purpose bucket naming rules ``name`` breaks (empty when valid)."""
    rules: list[tuple[bool, str]] = [
        (3 <= len(name) <= 63, f"is {len(name)} characters; S3 allows 3 to 63"),
        (bool(re.fullmatch(r"[a-z0-9.-]+", name)), "may contain only a-z 0-9 . -"),
        (
            bool(re.fullmatch(r"[a-z0-9].*[a-z0-9]", name)),
            "must begin and end with a letter or digit",
        ),
        (".." not in name, "must not contain two adjacent periods"),
        (not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name), "must not be formatted as an IP address"),
        (
            not name.startswith(("xn--", "sthree-", "amzn-s3-demo-")),
            "must not use a reserved prefix",
        ),
        (
            not name.endswith(("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")),
            "must not use a reserved suffix",
        ),
    ]
    return [f"S3 bucket name '{name}' {message}" for ok, message in rules if not ok]


def console_bucket_name(deployment: str) -> str:
    """The console bucket of ``deployment`` (the CI role's policy needs it without Naming)."""
    return f"{deployment}-console"


@dataclass(frozen=True)
class DerivedName:
    """A physical name the program will give a resource, with the rule it must satisfy."""

    name: str
    check: Callable[[str], list[str]]

    def violations(self) -> list[str]:
        return self.check(self.name)


@dataclass(frozen=True)
class Naming:
    """Derives every physical name and tag of one deployment."""

    deployment: str
    project: str = "drs-orchestrator"
    stack: str = ""

    def function(self, short: str) -> str:
        return f"{self.deployment}-{short}"

    def function_role(self, short: str) -> str:
        return f"{self.deployment}-{short}-role"

    def function_policy(self, short: str) -> str:
        return f"{self.deployment}-{short}-policy"

    def function_run_policy(self, short: str) -> str:
        """The wave runner's second policy: what it may do with its own state machine,
        declared after the machine (which itself names the runner)."""
        return f"{self.deployment}-{short}-run-policy"

    def function_log_group(self, short: str) -> str:
        # Lambda writes to a custom log group (logging_config), so the group can carry the
        # deployment prefix instead of the shared /aws/lambda/ namespace.
        return f"{self.deployment}/lambda/{short}"

    def table(self, short: str) -> str:
        return f"{self.deployment}-{short}"

    def schedule_rule(self, short: str) -> str:
        return f"{self.deployment}-{short}-schedule"

    def event_rule(self, short: str, purpose: str) -> str:
        """A rule that runs function ``short`` on events of a kind (``purpose``)."""
        return f"{self.deployment}-{short}-{purpose}"

    def state_machine(self, short: str) -> str:
        return f"{self.deployment}-{short}"

    def ci_role(self, purpose: str) -> str:
        """Role GitHub Actions assumes for ``purpose`` (deploy, preview) of this deployment."""
        return f"{self.deployment}-ci-{purpose}"

    def ci_role_policy(self, purpose: str) -> str:
        return f"{self.deployment}-ci-{purpose}-policy"

    def state_machine_role(self, short: str) -> str:
        return f"{self.deployment}-{short}-states-role"

    def state_machine_policy(self, short: str) -> str:
        return f"{self.deployment}-{short}-states-policy"

    def state_machine_log_group(self, short: str) -> str:
        return f"{self.deployment}/states/{short}"

    def topic(self, short: str) -> str:
        return f"{self.deployment}-{short}"

    def deployment_bucket(self) -> str:
        return f"{self.deployment}-bucket"

    def console_bucket(self) -> str:
        """The operator console's static files (one bucket per deployment)."""
        return console_bucket_name(self.deployment)

    def console_access_control(self) -> str:
        """CloudFront's origin access control for the console bucket."""
        return f"{self.deployment}-console"

    def rest_api(self) -> str:
        return f"{self.deployment}-api"

    def alarm(self, short: str) -> str:
        return f"{self.deployment}-{short}"

    def dashboard(self) -> str:
        """The deployment's one CloudWatch dashboard."""
        return f"{self.deployment}-operations"

    def failure_queue(self) -> str:
        """Where every asynchronous invocation that failed for good is kept (on-failure
        destination of every function)."""
        return f"{self.deployment}-failed-invocations"

    def api_access_log_group(self) -> str:
        return f"{self.deployment}/api/access"

    def user_pool(self) -> str:
        return f"{self.deployment}-users"

    def user_pool_client(self) -> str:
        """The console's app client of the user pool."""
        return f"{self.deployment}-console"

    def apigateway_logs_role(self) -> str:
        """API Gateway's account-level role for access logs (the bootstrap program's)."""
        return f"{self.deployment}-apigateway-logs"

    def target_role(self) -> str:
        """The role a DRS target account holds for this deployment alone (``drsTargets``):
        the same name in every target account, so a deployment never assumes another's."""
        return f"{self.deployment}-drs-target"

    def event_bus(self, purpose: str) -> str:
        """An EventBridge bus of the deployment's own (``drs-events``: what its DRS targets
        forward)."""
        return f"{self.deployment}-{purpose}"

    def event_forwarder_role(self) -> str:
        """The role EventBridge uses in each DRS target account to put that target's DRS
        events on the deployment's bus (the target program's)."""
        return f"{self.deployment}-drs-events-forwarder"

    def event_forward_rule(self, region: str) -> str:
        """The rule in DRS target region ``region`` that forwards DRS's events to the
        deployment's bus (target program). Named by its region: rule names are regional,
        and one account's target program declares one per region."""
        return f"{self.deployment}-drs-events-{region}"

    def target_role_policy(self, role: str = "") -> str:
        """The inline policy of the target role ``role`` (default: ``target_role()``)."""
        return f"{role or self.target_role()}-policy"

    def package_key(self, function_short: str, sha256: str) -> str:
        """Content-addressed S3 key of a Lambda package: same bytes, same key, no diff."""
        return f"lambda/{function_short}/{sha256}.zip"

    def tags(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """The tags every taggable resource of this deployment carries."""
        tags = {
            DEPLOYMENT_TAG_KEY: self.deployment,
            PROJECT_TAG_KEY: self.project,
            STACK_TAG_KEY: self.stack,
        }
        tags.update(extra or {})
        return tags

    def derived_names(self) -> Iterator[DerivedName]:
        """Every physical name the program derives, for validation before declaring."""
        for short in FUNCTION_SHORT_NAMES:
            yield DerivedName(self.function(short), LAMBDA_FUNCTION.violations)
            yield DerivedName(self.function_role(short), IAM_ROLE.violations)
            yield DerivedName(self.function_policy(short), IAM_POLICY.violations)
            yield DerivedName(self.function_log_group(short), LOG_GROUP.violations)
        yield DerivedName(self.schedule_rule("execution-finder"), EVENT_RULE.violations)
        yield DerivedName(self.schedule_rule("readiness"), EVENT_RULE.violations)
        yield DerivedName(self.event_rule("readiness", "drs-events"), EVENT_RULE.violations)
        yield DerivedName(self.event_rule("wave-runner", "launch-events"), EVENT_RULE.violations)
        yield DerivedName(self.event_rule("readiness", FORWARDED_STALLS), EVENT_RULE.violations)
        yield DerivedName(self.event_rule("wave-runner", FORWARDED_LAUNCHES), EVENT_RULE.violations)
        yield DerivedName(self.event_bus(DRS_EVENTS_BUS), EVENT_BUS.violations)
        yield DerivedName(self.event_forwarder_role(), IAM_ROLE.violations)
        for short in STATE_MACHINE_SHORT_NAMES:
            yield DerivedName(self.state_machine(short), STATE_MACHINE.violations)
            yield DerivedName(self.state_machine_role(short), IAM_ROLE.violations)
            yield DerivedName(self.state_machine_log_group(short), LOG_GROUP.violations)
        yield DerivedName(self.function_run_policy("wave-runner"), IAM_POLICY.violations)
        yield DerivedName(self.topic("notifications"), SNS_TOPIC.violations)
        for short in TABLE_SHORT_NAMES:
            yield DerivedName(self.table(short), DYNAMODB_TABLE.violations)
        for purpose in CI_ROLE_PURPOSES:
            yield DerivedName(self.ci_role(purpose), IAM_ROLE.violations)
            yield DerivedName(self.ci_role_policy(purpose), IAM_POLICY.violations)
        yield DerivedName(self.deployment_bucket(), s3_bucket_violations)
        yield DerivedName(self.console_bucket(), s3_bucket_violations)
        yield DerivedName(self.console_access_control(), CLOUDFRONT_OAC.violations)
        yield DerivedName(self.rest_api(), REST_API.violations)
        yield DerivedName(self.api_access_log_group(), LOG_GROUP.violations)
        yield DerivedName(self.user_pool(), COGNITO_USER_POOL.violations)
        yield DerivedName(self.user_pool_client(), COGNITO_CLIENT.violations)
        yield DerivedName(self.apigateway_logs_role(), IAM_ROLE.violations)
        yield DerivedName(self.target_role(), IAM_ROLE.violations)
        yield DerivedName(self.target_role_policy(), IAM_POLICY.violations)
        for short in ALARM_SHORT_NAMES:
            yield DerivedName(self.alarm(short), CLOUDWATCH_ALARM.violations)
        yield DerivedName(self.dashboard(), CLOUDWATCH_DASHBOARD.violations)
        yield DerivedName(self.failure_queue(), SQS_QUEUE.violations)


#: For each resource type the program creates, the input that holds its physical name.
#: Resources absent from this map have no name of their own in AWS (targets, permissions,
#: policy attachments), and are identified through the resource they belong to.
PHYSICAL_NAME_INPUTS: dict[str, str] = {
    "aws:lambda/function:Function": "name",
    "aws:iam/role:Role": "name",
    "aws:iam/rolePolicy:RolePolicy": "name",
    "aws:dynamodb/table:Table": "name",
    "aws:cloudwatch/logGroup:LogGroup": "name",
    "aws:cloudwatch/eventRule:EventRule": "name",
    "aws:sfn/stateMachine:StateMachine": "name",
    "aws:s3/bucket:Bucket": "bucket",
    "aws:s3/bucketV2:BucketV2": "bucket",
    "aws:sns/topic:Topic": "name",
    "aws:apigateway/restApi:RestApi": "name",
    "aws:cognito/userPool:UserPool": "name",
    "aws:cognito/userPoolClient:UserPoolClient": "name",
    "aws:cloudfront/originAccessControl:OriginAccessControl": "name",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "name",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:sqs/queue:Queue": "name",
}


def physical_name(resource_type: str, inputs: Mapping[str, object]) -> str | None:
    """The physical name a resource of ``resource_type`` gets from ``inputs``, if any.

    A bucket object is named by ``bucket/key``: the key is unique only inside its bucket.
    """
    if resource_type == "aws:s3/bucketObjectv2:BucketObjectv2":
        return f"{inputs.get('bucket')}/{inputs.get('key')}"
    prop = PHYSICAL_NAME_INPUTS.get(resource_type)
    if prop is None:
        return None
    value = inputs.get(prop)
    return value if isinstance(value, str) else None
