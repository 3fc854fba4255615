"""What tells people the orchestrator itself is failing: the failed-invocations queue every
function's asynchronous invocations end in when they fail for good, CloudWatch alarms on
the notifications topic, and one dashboard.

The alarms read AWS's own metrics (Lambda, EventBridge, Step Functions, API Gateway, SQS)
and the orchestrator's (``drs_orchestrator.domain.metrics``, emitted as EMF with the
dimensions ``deployment`` and ``service``), so the names here and in the runtime are one.
Each alarm notifies when it goes into ALARM and when it is OK again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws
from drs_orchestrator.domain import metrics

from infra.settings import RATE_PATTERN

if TYPE_CHECKING:
    from infra.naming import Naming

#: Seconds in each unit of an EventBridge rate.
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
#: Functions of the deployment, by short name (their alarms and dashboard lines).
FUNCTIONS = ("execution-finder", "wave-runner", "api", "readiness")
#: A throttled answer is retried with backoff; this many in five minutes is sustained.
DRS_THROTTLES_PER_5_MINUTES = 20


def schedule_seconds(expression: str) -> int | None:
    """The interval of a ``rate(...)`` schedule in seconds; None for a cron expression."""
    rate = RATE_PATTERN.fullmatch(expression)
    if not rate:
        return None
    return int(rate["value"]) * _UNIT_SECONDS[rate["unit"].rstrip("s")]


def missed_schedule_window(expression: str) -> tuple[int, int]:
    """(period, periods) in which a healthy schedule runs the finder at least once: three
    intervals, at least 5 minutes each (an hour for a cron schedule)."""
    seconds = schedule_seconds(expression) or 3600
    period = max(300, -(-seconds // 60) * 60)
    return period, 3


class FailedInvocations(pulumi.ComponentResource):
    """The queue every function's failed asynchronous invocations are delivered to."""

    queue: aws.sqs.Queue

    def __init__(self, name: str, naming: Naming, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:observability:FailedInvocations", name, None, opts)
        self.queue = aws.sqs.Queue(
            "failed-invocations",
            name=naming.failure_queue(),
            sqs_managed_sse_enabled=True,
            message_retention_seconds=14 * 86400,  # SQS's longest: time to look and redrive
            tags=naming.tags(),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"queueArn": self.queue.arn, "queueName": self.queue.name})


@dataclass
class MonitoringArgs:
    naming: Naming
    topic_arn: pulumi.Input[str]
    """Where every alarm notifies (the deployment's notifications topic)."""
    poll_schedule: str
    """The finder's schedule expression (how often it must run)."""
    state_machine_arn: pulumi.Input[str]
    rest_api_name: str
    stage_name: str
    queue_name: pulumi.Input[str]
    function_names: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    """Function short name -> deployed name."""


@dataclass(frozen=True)
class _Alarm:
    short: str
    description: str
    namespace: str
    metric: str
    dimensions: dict[str, Any]
    statistic: str = "Sum"
    threshold: float = 1
    comparison: str = "GreaterThanOrEqualToThreshold"
    period: int = 300
    periods: int = 1
    missing: str = "notBreaching"


class Monitoring(pulumi.ComponentResource):
    """The deployment's alarms and its operations dashboard."""

    alarms: dict[str, aws.cloudwatch.MetricAlarm]
    dashboard: aws.cloudwatch.Dashboard

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("drs-orchestrator:observability:Monitoring", name, None, opts)
        names = args.naming
        child = pulumi.ResourceOptions(parent=self)
        self.alarms = {}
        for spec in self._specs(args):
            self.alarms[spec.short] = aws.cloudwatch.MetricAlarm(
                spec.short,
                name=names.alarm(spec.short),
                alarm_description=spec.description,
                namespace=spec.namespace,
                metric_name=spec.metric,
                dimensions=spec.dimensions,
                statistic=spec.statistic,
                period=spec.period,
                evaluation_periods=spec.periods,
                threshold=spec.threshold,
                comparison_operator=spec.comparison,
                treat_missing_data=spec.missing,
                alarm_actions=[args.topic_arn],
                ok_actions=[args.topic_arn],
                tags=names.tags(),
                opts=child,
            )
        self.alarms["drs-throttling"] = self._throttling(args, child)
        self.dashboard = aws.cloudwatch.Dashboard(
            "dashboard",
            dashboard_name=names.dashboard(),
            dashboard_body=pulumi.Output.all(args.state_machine_arn, args.queue_name).apply(
                lambda values: dashboard_body(names, args, values[0], values[1])
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=list(self.alarms.values())),
        )
        self.register_outputs(
            {
                "dashboardName": self.dashboard.dashboard_name,
                "alarmNames": [a.name for a in self.alarms.values()],
            }
        )

    def _specs(self, args: MonitoringArgs) -> list[_Alarm]:
        deployment = args.naming.deployment
        period, periods = missed_schedule_window(args.poll_schedule)
        finder = args.function_names["execution-finder"]
        specs = [
            _Alarm(
                f"{short}-errors",
                f"The {short} function failed (an error or a time-out) in the last 5 minutes.",
                "AWS/Lambda",
                "Errors",
                {"FunctionName": args.function_names[short]},
            )
            for short in FUNCTIONS
        ]
        specs += [
            _Alarm(
                "execution-finder-missed-schedule",
                f"The execution finder did not run for {periods * period // 60} minutes: "
                "executions are not followed (its schedule disabled, or EventBridge failing).",
                "AWS/Lambda",
                "Invocations",
                {"FunctionName": finder},
                threshold=1,
                comparison="LessThanThreshold",
                period=period,
                periods=periods,
                missing="breaching",
            ),
            _Alarm(
                "execution-finder-schedule-failed",
                "EventBridge could not invoke the execution finder on its schedule.",
                "AWS/Events",
                "FailedInvocations",
                {"RuleName": args.naming.schedule_rule("execution-finder")},
            ),
            _Alarm(
                "state-machine-failed",
                "A recovery state machine run failed: its execution was ended with the reason.",
                "AWS/States",
                "ExecutionsFailed",
                {"StateMachineArn": args.state_machine_arn},
            ),
            _Alarm(
                "state-machine-timed-out",
                "A recovery state machine run timed out.",
                "AWS/States",
                "ExecutionsTimedOut",
                {"StateMachineArn": args.state_machine_arn},
            ),
            _Alarm(
                "executions-healed",
                "The janitor ended an execution its state machine could no longer end.",
                metrics.NAMESPACE,
                metrics.EXECUTIONS_HEALED,
                {"deployment": deployment, "service": "execution-finder"},
            ),
            _Alarm(
                "api-5xx",
                "The REST API answered 5xx.",
                "AWS/ApiGateway",
                "5XXError",
                {"ApiName": args.rest_api_name, "Stage": args.stage_name},
            ),
            _Alarm(
                "failed-invocations",
                "An asynchronous invocation failed for good: it waits in the failed-invocations "
                "queue.",
                "AWS/SQS",
                "ApproximateNumberOfMessagesVisible",
                {"QueueName": args.queue_name},
                statistic="Maximum",
            ),
        ]
        return specs

    def _throttling(
        self, args: MonitoringArgs, opts: pulumi.ResourceOptions
    ) -> aws.cloudwatch.MetricAlarm:
        """DRS's throttled answers, summed over every function that calls DRS."""
        names = args.naming
        queries = [
            aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=f"m{index}",
                return_data=False,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace=metrics.NAMESPACE,
                    metric_name=metrics.AWS_THROTTLED,
                    dimensions={"deployment": names.deployment, "service": short, "Service": "drs"},
                    period=300,
                    stat="Sum",
                ),
            )
            for index, short in enumerate(FUNCTIONS)
        ]
        total = aws.cloudwatch.MetricAlarmMetricQueryArgs(
            id="throttled",
            expression="SUM(METRICS())",
            label="DRS throttled answers",
            return_data=True,
        )
        return aws.cloudwatch.MetricAlarm(
            "drs-throttling",
            name=names.alarm("drs-throttling"),
            alarm_description=(
                f"DRS throttled at least {DRS_THROTTLES_PER_5_MINUTES} answers in 5 minutes: "
                "launches and polls are slowed (check the account's DRS quotas)."
            ),
            metric_queries=[*queries, total],
            evaluation_periods=1,
            threshold=DRS_THROTTLES_PER_5_MINUTES,
            comparison_operator="GreaterThanOrEqualToThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[args.topic_arn],
            ok_actions=[args.topic_arn],
            tags=names.tags(),
            opts=opts,
        )


def dashboard_body(
    names: Naming, args: MonitoringArgs, state_machine_arn: str, queue_name: str
) -> str:
    """The operations dashboard: executions by status, wave start delays, recovery times,
    errors, DRS calls, and every alarm."""
    deployment = names.deployment
    ours = f'{{{metrics.NAMESPACE},Mode,Status,deployment,service}} deployment="{deployment}"'

    def search(query: str, stat: str, label: str = "") -> dict[str, Any]:
        return {"expression": f"SEARCH('{query}', '{stat}', 3600)", "label": label}

    def graph(title: str, items: list[Any], x: int, y: int, stat: str = "Sum") -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "metrics": items,
                "stat": stat,
                "period": 3600,
                "view": "timeSeries",
                "region": "${AWS::Region}",
            },
        }

    per_function = [
        [
            "AWS/Lambda",
            "Errors",
            "FunctionName",
            names.function(short),
            {"label": f"{short} errors"},
        ]
        for short in FUNCTIONS
    ]
    widgets = [
        graph(
            "Executions ended, by status",
            [[search(f'{ours} MetricName="{metrics.EXECUTIONS_ENDED}"', "Sum")]],
            0,
            0,
        ),
        graph(
            "Wave start delay (seconds after it could start)",
            [
                [
                    metrics.NAMESPACE,
                    metrics.WAVE_START_DELAY,
                    "deployment",
                    deployment,
                    "service",
                    "wave-runner",
                    {"stat": "p50", "label": "median"},
                ],
                ["...", {"stat": "Maximum", "label": "worst"}],
            ],
            12,
            0,
        ),
        graph(
            "Recovery time (seconds)",
            [
                [
                    metrics.NAMESPACE,
                    metrics.RECOVERY_TIME,
                    "deployment",
                    deployment,
                    "service",
                    "wave-runner",
                    {"stat": "Maximum"},
                ]
            ],
            0,
            6,
        ),
        graph(
            "Errors",
            [
                *per_function,
                ["AWS/States", "ExecutionsFailed", "StateMachineArn", state_machine_arn],
                ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queue_name],
            ],
            12,
            6,
        ),
        graph(
            "DRS calls and throttled answers",
            [
                [
                    search(
                        f"{{{metrics.NAMESPACE},Service,deployment,service}} "
                        f'deployment="{deployment}" Service="drs"',
                        "Sum",
                    )
                ]
            ],
            0,
            12,
        ),
        {
            "type": "alarm",
            "x": 12,
            "y": 12,
            "width": 12,
            "height": 6,
            "properties": {
                "title": "Alarms",
                "alarms": [
                    f"arn:{_partition(state_machine_arn)}:cloudwatch:{_region(state_machine_arn)}:"
                    f"{_account(state_machine_arn)}:alarm:{names.alarm(short)}"
                    for short in _alarm_shorts()
                ],
            },
        },
    ]
    region = _region(state_machine_arn)
    body = json.dumps({"widgets": widgets}, sort_keys=True)
    return body.replace("${AWS::Region}", region)


def _alarm_shorts() -> tuple[str, ...]:
    from infra.naming import ALARM_SHORT_NAMES

    return ALARM_SHORT_NAMES


def _arn_part(arn: str, index: int) -> str:
    parts = str(arn).split(":")
    return parts[index] if len(parts) > index else ""


def _partition(arn: str) -> str:
    return _arn_part(arn, 1)


def _region(arn: str) -> str:
    return _arn_part(arn, 3)


def _account(arn: str) -> str:
    return _arn_part(arn, 4)
