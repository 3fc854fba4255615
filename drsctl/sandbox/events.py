"""The sandbox's EventBridge default bus: DRS's events reach the rules that match them.

moto keeps EventBridge rules but does not deliver a service's events to Lambda targets.
The DRS simulator of each deployment's own account and region hands its events here
(``DrsSimulator.on_event``); a thread matches each against the deployment's event rules as
moto holds them (pattern and state read at delivery, so a rule disabled through the API
stops matching, as in AWS) and invokes each rule's Lambda targets asynchronously, as
EventBridge does. ``drop`` loses every event instead (DRS's delivery is best effort), so
the orchestrator's fallback can be watched and measured.
"""

from __future__ import annotations

import json
import queue
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.events.models import EventPattern

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
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="sandbox-events", daemon=True)

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
            rule = self.events.describe_rule(Name=name)
            if rule.get("State") != "ENABLED" or not rule.get("EventPattern"):
                continue
            if not EventPattern.load(rule["EventPattern"]).matches_event(event):
                continue
            matched = True
            for target in self.events.list_targets_by_rule(Rule=name)["Targets"]:
                self.lambda_client.invoke(
                    FunctionName=target["Arn"],
                    InvocationType="Event",
                    Payload=json.dumps(event).encode(),
                )
                self.counts["delivered"] += 1
        if not matched:
            self.counts["unmatched"] += 1
