"""What tells people the orchestrator itself fails: every function traced and its failed
asynchronous invocations kept; an alarm on the notifications topic for each way it can
fail; one dashboard reading the metrics the runtime emits."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from drs_orchestrator.domain import metrics

from infra.components.observability import missed_schedule_window, schedule_seconds
from infra.naming import ALARM_SHORT_NAMES

if TYPE_CHECKING:
    from infra.offline import Evaluation


def test_every_function_is_traced_and_keeps_its_failed_async_invocations(
    stack: Evaluation,
) -> None:
    queue = stack.one("aws:sqs/queue:Queue")
    assert queue.inputs["sqsManagedSseEnabled"] is True
    functions = stack.of_type("aws:lambda/function:Function")
    assert {f.inputs["tracingConfig"]["mode"] for f in functions} == {"Active"}
    configs = stack.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert sorted(c.inputs["functionName"] for c in configs) == sorted(
        f.inputs["name"] for f in functions
    )
    for config in configs:
        destination = config.inputs["destinationConfig"]["onFailure"]["destination"]
        assert destination == queue.state["arn"]
        assert config.inputs["maximumRetryAttempts"] == 2


def test_every_alarm_notifies_the_topic_and_watches_what_it_says(stack: Evaluation) -> None:
    deployment = stack.config["drs-orchestrator:deploymentName"]
    topic = stack.one("aws:sns/topic:Topic").state["arn"]
    alarms = {
        a.inputs["name"]: a.inputs for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    }
    assert sorted(alarms) == sorted(f"{deployment}-{short}" for short in ALARM_SHORT_NAMES)
    for alarm in alarms.values():
        assert alarm["alarmActions"] == [topic] and alarm["okActions"] == [topic]
        assert alarm["alarmDescription"].endswith(".")
    healed = alarms[f"{deployment}-executions-healed"]
    assert (healed["namespace"], healed["metricName"]) == (metrics.NAMESPACE, "ExecutionsHealed")
    assert healed["dimensions"] == {"deployment": deployment, "service": "execution-finder"}
    missed = alarms[f"{deployment}-execution-finder-missed-schedule"]
    assert (missed["metricName"], missed["comparisonOperator"]) == (
        "Invocations",
        "LessThanThreshold",
    )
    assert missed["treatMissingData"] == "breaching", "no invocation at all is the alarm"
    assert missed["dimensions"] == {"FunctionName": f"{deployment}-execution-finder"}
    machine = stack.one("aws:sfn/stateMachine:StateMachine").state["arn"]
    assert alarms[f"{deployment}-state-machine-failed"]["dimensions"] == {
        "StateMachineArn": machine
    }
    throttling = alarms[f"{deployment}-drs-throttling"]
    series = [q["metric"] for q in throttling["metricQueries"] if q.get("metric")]
    assert {m["dimensions"]["service"] for m in series} == {
        "execution-finder",
        "wave-runner",
        "api",
        "readiness",
    }
    assert all(
        m["dimensions"]["Service"] == "drs" and m["metricName"] == "AwsThrottled" for m in series
    )
    assert alarms[f"{deployment}-api-5xx"]["dimensions"] == {
        "ApiName": f"{deployment}-api",
        "Stage": "v1",
    }


def test_the_dashboard_reads_the_runtimes_metrics_and_shows_every_alarm(stack: Evaluation) -> None:
    deployment = stack.config["drs-orchestrator:deploymentName"]
    dashboard = stack.one("aws:cloudwatch/dashboard:Dashboard").inputs
    assert dashboard["dashboardName"] == f"{deployment}-operations"
    body = json.loads(dashboard["dashboardBody"])
    titles = [w["properties"]["title"] for w in body["widgets"]]
    assert titles == [
        "Executions ended, by status",
        "Wave start delay (seconds after it could start)",
        "Recovery time (seconds)",
        "Errors",
        "DRS calls and throttled answers",
        "Alarms",
    ]
    text = dashboard["dashboardBody"]
    for name in (metrics.EXECUTIONS_ENDED, metrics.WAVE_START_DELAY, metrics.RECOVERY_TIME):
        assert name in text
    assert "${AWS::Region}" not in text
    [alarms] = [w for w in body["widgets"] if w["type"] == "alarm"]
    assert len(alarms["properties"]["alarms"]) == len(ALARM_SHORT_NAMES)
    assert stack.outputs["dashboardName"] == f"{deployment}-operations"
    assert len(json.loads(stack.outputs["alarmNames"])) == len(ALARM_SHORT_NAMES)


@pytest.mark.parametrize(
    ("expression", "seconds", "window"),
    [
        ("rate(1 minute)", 60, (300, 3)),
        ("rate(10 minutes)", 600, (600, 3)),
        ("rate(2 hours)", 7200, (7200, 3)),
        ("cron(0/5 * * * ? *)", None, (3600, 3)),
    ],
)
def test_a_missed_schedule_is_three_intervals_of_at_least_five_minutes(
    expression: str, seconds: int | None, window: tuple[int, int]
) -> None:
    assert schedule_seconds(expression) == seconds
    assert missed_schedule_window(expression) == window
