"""DRS's events from every target, on a bus of the deployment's own.

DRS sends its events (a server's launch ended, its replication stalled) to EventBridge in
the source server's own account and region only. The deployment's rules on its default
bus therefore hear its home target alone: a wave in another target waited for the next
tick, and readiness did not react to a stall there. Each target account's program
(``infra/target/program.py``) forwards them, with a rule in each of its regions, to this
bus; the bus's policy accepts them from exactly the deployment's targets (the forwarder
role the target program creates in each target account, DRS's events only), and the rules
on it route them as the default bus's rules do: launch results to the wave runner (wake
the execution), stalls to readiness.

Declared only when the stack lists ``drsTargets``: a deployment of one account and region
has nothing to forward.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws
from drs_orchestrator.domain.readiness import STALLED_CHANGE
from drs_orchestrator.domain.wakeups import LAUNCH_RESULT, LAUNCH_RESULT_PATTERN

from infra.components.schedule import EventTrigger, EventTriggerArgs
from infra.naming import DRS_EVENTS_BUS, FORWARDED_LAUNCHES, FORWARDED_STALLS

if TYPE_CHECKING:
    from infra.naming import Naming
    from infra.targets import DrsTarget

STALLED_PATTERN: dict[str, list[str]] = {"source": ["aws.drs"], "detail-type": [STALLED_CHANGE]}
#: What a target forwards: the events a rule of the deployment acts on, and no other.
FORWARDED_PATTERN: dict[str, list[str]] = {
    "source": ["aws.drs"],
    "detail-type": sorted([LAUNCH_RESULT, STALLED_CHANGE]),
}


def bus_arn(partition: str, region: str, account: str, naming: Naming) -> str:
    """The ARN of the deployment's bus (the target program needs it without the stack)."""
    name = naming.event_bus(DRS_EVENTS_BUS)
    return f"arn:{partition}:events:{region}:{account}:event-bus/{name}"


def forwarder_role_arn(partition: str, account: str, naming: Naming) -> str:
    return f"arn:{partition}:iam::{account}:role/{naming.event_forwarder_role()}"


def bus_policy(
    arn: str, partition: str, targets: tuple[DrsTarget, ...], naming: Naming
) -> dict[str, Any]:
    """PutEvents from the forwarder role of each target account, for DRS's events only.

    The accounts are the principals (an account always exists; a role named as principal
    must exist before the policy, and the target program runs after this stack); the
    conditions narrow each to its forwarder role and every entry to DRS's events
    (``events:source`` is multivalued, one per entry: ``ForAllValues``, as AWS's example)."""
    accounts = sorted({t.account_id for t in targets})
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DrsEventsFromItsTargets",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{a}:root" for a in accounts]},
                "Action": "events:PutEvents",
                "Resource": arn,
                "Condition": {
                    "ArnEquals": {
                        "aws:PrincipalArn": [
                            forwarder_role_arn(partition, a, naming) for a in accounts
                        ]
                    },
                    "ForAllValues:StringEquals": {"events:source": ["aws.drs"]},
                },
            }
        ],
    }


@dataclass
class ForwardedDrsEventsArgs:
    naming: Naming
    partition: str
    targets: tuple[DrsTarget, ...]
    wave_runner_arn: pulumi.Input[str]
    wave_runner_name: pulumi.Input[str]
    readiness_arn: pulumi.Input[str]
    readiness_name: pulumi.Input[str]


class ForwardedDrsEvents(pulumi.ComponentResource):
    """The deployment's bus for its targets' DRS events, its policy, and its two rules."""

    bus: aws.cloudwatch.EventBus
    launches: EventTrigger
    stalls: EventTrigger

    def __init__(
        self, name: str, args: ForwardedDrsEventsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("drs-orchestrator:events:ForwardedDrsEvents", name, None, opts)
        names = args.naming
        child = pulumi.ResourceOptions(parent=self)
        self.bus = aws.cloudwatch.EventBus(
            "bus",
            name=names.event_bus(DRS_EVENTS_BUS),
            description="DRS events forwarded by this deployment's DRS target accounts.",
            tags=names.tags(),
            opts=child,
        )
        aws.cloudwatch.EventBusPolicy(
            "bus-policy",
            event_bus_name=self.bus.name,
            policy=self.bus.arn.apply(
                lambda arn: json.dumps(bus_policy(arn, args.partition, args.targets, names))
            ),
            opts=child,
        )
        self.launches = EventTrigger(
            f"wave-runner-{FORWARDED_LAUNCHES}",
            EventTriggerArgs(
                naming=names,
                function_short_name="wave-runner",
                purpose=FORWARDED_LAUNCHES,
                description="Wakes the recovery execution of a source server in a DRS target "
                "whose drill or recovery launch ended (forwarded by the target).",
                event_pattern=LAUNCH_RESULT_PATTERN,
                function_arn=args.wave_runner_arn,
                function_name=args.wave_runner_name,
                maximum_event_age_seconds=60,
                event_bus_name=self.bus.name,
            ),
            child,
        )
        self.stalls = EventTrigger(
            f"readiness-{FORWARDED_STALLS}",
            EventTriggerArgs(
                naming=names,
                function_short_name="readiness",
                purpose=FORWARDED_STALLS,
                description="Evaluates the plans of a source server in a DRS target whose "
                "data replication stalled or recovered (forwarded by the target).",
                event_pattern=STALLED_PATTERN,
                function_arn=args.readiness_arn,
                function_name=args.readiness_name,
                event_bus_name=self.bus.name,
            ),
            child,
        )
        self.register_outputs({"busArn": self.bus.arn, "busName": self.bus.name})
