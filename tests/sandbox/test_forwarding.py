"""The sandbox's forwarding of a DRS target's events to a deployment's bus: it holds the
bus policy the program declares as EventBridge would, so 'the bus accepts exactly its
targets' is proven in the sandbox, not assumed."""

from __future__ import annotations

from typing import Any

from drsctl.sandbox.events import EventBus, Forwarding, bus_accepts
from infra.components.forwarded_events import bus_policy
from infra.naming import Naming
from infra.targets import DrsTarget

NAMING = Naming("example-dev")
BUS = "arn:aws:events:us-east-1:123456789012:event-bus/example-dev-drs-events"
TARGETS = (
    DrsTarget("111122223333", "us-west-2", "example-dev-drs-target", "x-1"),
    DrsTarget("444455556666", "eu-west-1", "example-dev-drs-target", "x-1"),
)
POLICY = bus_policy(BUS, "aws", TARGETS, NAMING)


def forwarder(account: str) -> str:
    return f"arn:aws:iam::{account}:role/{NAMING.event_forwarder_role()}"


def test_the_declared_policy_accepts_each_targets_forwarder_with_drs_events_only() -> None:
    for account in ("111122223333", "444455556666"):
        assert bus_accepts(POLICY, account, forwarder(account), "aws.drs")
    assert not bus_accepts(POLICY, "777788889999", forwarder("777788889999"), "aws.drs")
    other_role = "arn:aws:iam::111122223333:role/someone-else"
    assert not bus_accepts(POLICY, "111122223333", other_role, "aws.drs")
    assert not bus_accepts(POLICY, "111122223333", forwarder("111122223333"), "my.app")


class Bus(EventBus):
    def __init__(self) -> None:
        super().__init__([], None, None, say=lambda _l: None, bus_name="example-dev-drs-events")
        self.put_events: list[dict[str, Any]] = []

    def put(self, event: dict[str, Any]) -> None:
        self.put_events.append(event)


def test_a_target_the_policy_does_not_name_is_refused_and_counted() -> None:
    event = {"source": "aws.drs", "detail-type": "DRS Source Server Launch Result"}
    bus = Bus()
    Forwarding(bus, POLICY, "111122223333", forwarder("111122223333")).put(event)
    Forwarding(bus, POLICY, "777788889999", forwarder("777788889999")).put(event)
    # Not an event the target program forwards: not even offered.
    Forwarding(bus, POLICY, "111122223333", forwarder("111122223333")).put(
        {"source": "aws.drs", "detail-type": "DRS Source Server Data Replication Initiated"}
    )
    assert bus.put_events == [event]
    assert (bus.counts["forwarded"], bus.counts["refused"]) == (1, 1)
