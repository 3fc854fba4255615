"""The sandbox's EventBridge buses: DRS's events reach the rules that match them.

moto keeps EventBridge rules but does not deliver a service's events to Lambda targets.
The DRS simulator of each deployment's own account and region hands its events to the
default bus (``DrsSimulator.on_event``); each simulated DRS target hands its own to the
deployment's bus for them, as the target program's forwarding rule would, if the bus's
policy accepts that target (``Forwarding``). On each bus a thread matches each event
against the deployment's rules there as moto holds them (pattern and state read at
delivery, so a rule disabled through the API stops matching, as in AWS) and invokes each
rule's Lambda targets asynchronously, as EventBridge does. ``drop`` loses every event
instead (DRS's delivery is best effort), so the orchestrator's fallback can be watched.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.events.models import EventPattern

from drsctl.sandbox.iam import resource_policy_allows
from infra.components.forwarded_events import FORWARDED_PATTERN

if TYPE_CHECKING:
    from collections.abc import Callable


@dataclass
class EventBus:
    """One account and region's default bus, with the rules of the deployment there."""

    rules: list[str]
    events: Any
    lambda_client: Any
    say: Callable[[str], None] = print
    drop: bool = False
    #: The bus the rules are on: the default bus, or the deployment's own.
    bus_name: str = "default"
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name=f"sandbox-events-{self.bus_name}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def put(self, event: dict[str, Any]) -> None:
        """Accept an event (never blocks: the DRS simulator calls this under its lock)."""
        if self.drop:
            self.counts["dropped"] += 1
            return
        self._queue.put(event)

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            try:
                self._deliver(event)
            except Exception as exc:  # noqa: BLE001 - one event's failure must not stop the bus
                self.errors.append(f"{event.get('detail-type')}: {exc}")
                self.say(f"event delivery error: {exc}")

    def _deliver(self, event: dict[str, Any]) -> None:
        matched = False
        for name in self.rules:
            rule = self.events.describe_rule(Name=name, EventBusName=self.bus_name)
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if not EventPattern.load(rule["EventPattern"]).matches_event(event):
                continue
            matched = True
            listed = self.events.list_targets_by_rule(Rule=name, EventBusName=self.bus_name)
            for target in listed["Targets"]:
                self.lambda_client.invoke(
                    FunctionName=target["Arn"],
                    InvocationType="Event",
                    Payload=json.dumps(event).encode(),
                )
                self.counts["delivered"] += 1
        if not matched:
            self.counts["unmatched"] += 1


#: What a target program forwards (``infra/components/forwarded_events.py``).
FORWARDED_DETAIL_TYPES = frozenset(FORWARDED_PATTERN["detail-type"])


def bus_accepts(policy: dict[str, Any], account: str, role_arn: str, source: str) -> bool:
    """Whether a bus policy lets ``role_arn`` (of ``account``) put an event of ``source`` on
    the bus, read by the sandbox's one IAM evaluator (``resource_policy_allows``): the
    account (or the role) as principal, narrowed by ``aws:PrincipalArn`` and
    ``events:source`` conditions."""
    if role_arn.split(":")[4:5] != [account]:
        return False
    context = {"aws:principalarn": [role_arn], "events:source": [source]}
    return resource_policy_allows(policy, "events:PutEvents", role_arn, context)


@dataclass
class Forwarding:
    """One deployment's target program in one target account and region: DRS's events
    there put on the deployment's bus through the account's forwarder role, if the bus's
    policy lets that role in (refused ones are counted on the bus, ``refused``)."""

    bus: EventBus
    policy: dict[str, Any]
    account: str
    role_arn: str

    def put(self, event: dict[str, Any]) -> None:
        if event.get("source") != "aws.drs" or event.get("detail-type") not in (
            FORWARDED_DETAIL_TYPES
        ):
            return
        if not bus_accepts(self.policy, self.account, self.role_arn, "aws.drs"):
            self.bus.counts["refused"] += 1
            return
        self.bus.counts["forwarded"] += 1
        self.bus.put(event)
