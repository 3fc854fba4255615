"""Applying a group's launch settings under faults: one fault (each kind of
docs/RELIABILITY.md's fault model) at each DRS and EC2 call of the apply. Whatever the
fault, applying again leaves every server as the group wants, with exactly one new version
of each launch template (a version made before the answer was lost, or before the function
died, is made the default rather than copied again).

``test_the_apply_matrix_covers_every_call_point`` discovers the call points by applying,
so a new call cannot arrive without its row here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.faults import FaultInjector, cases
from tests.e2e.test_launch_settings import TEMPLATE, apply, set_settings, template_of
from tests.e2e.test_readiness import HOME, plan

if TYPE_CHECKING:
    from tests.e2e.conftest import Harness

pytestmark = pytest.mark.matrix

#: The DRS and EC2 calls of applying settings with template overrides to a group of two
#: servers (per server: the DRS update, the template's versions read, the new version, the
#: default), with the occurrences to hit.
CALL_POINTS: dict[str, tuple[int, ...]] = {
    "drs:UpdateLaunchConfiguration": (1, 2),
    "ec2:DescribeLaunchTemplateVersions": (1, 2),
    "ec2:CreateLaunchTemplateVersion": (1, 2),
    "ec2:ModifyLaunchTemplate": (1, 2),
}
CASES = cases(CALL_POINTS)


def versions(harness: Harness, server: str) -> int:
    from moto.ec2.models import ec2_backends

    template_id = harness.drs.launch_configurations[server]["ec2LaunchTemplateID"]
    backend = ec2_backends[harness.drs.account][harness.drs.region]
    return len(backend.launch_templates[template_id].versions)


def prepared(harness: Harness) -> None:
    plan(harness)
    status, answer = set_settings(harness, "db", TEMPLATE)
    assert status == 200, answer
    assert [versions(harness, s) for s in HOME] == [1, 1]


def assert_applied_once(harness: Harness) -> None:
    for server in HOME:
        assert template_of(harness.drs, server)["InstanceType"] == "m5.large", server
        assert versions(harness, server) == 2, f"{server}: one new version, not a copy"
        configuration = harness.drs.launch_configurations[server]
        assert configuration["targetInstanceTypeRightSizingMethod"] == "NONE"


def test_the_apply_matrix_covers_every_call_point(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    prepared(harness)
    injector = FaultInjector()
    injector.install(monkeypatch)
    status, answer = apply(harness, "db")
    assert (status, sorted(answer["applied"])) == (200, sorted(HOME)), answer
    reached = {p for p in injector.calls if p.split(":")[0] in {"drs", "ec2"}}
    assert reached - set(CALL_POINTS) == set(), "a call point without its row in the matrix"
    assert set(CALL_POINTS) - reached == set(), "the matrix lists a call never made"
    for point, occurrences in CALL_POINTS.items():
        assert injector.calls[point] >= max(occurrences), (point, injector.calls)
    assert_applied_once(harness)


@pytest.mark.parametrize(("point", "occurrence", "kind"), CASES)
def test_one_fault_while_applying_then_applying_again(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, point: str, occurrence: int, kind: str
) -> None:
    prepared(harness)
    injector = FaultInjector(point=point, kind=kind, occurrence=occurrence)
    injector.install(monkeypatch)
    status, answer = apply(harness, "db")
    assert injector.injected == [(point, kind)], f"the fault was never reached: {injector.calls}"
    if status == 200:  # the function lived: the server the fault hit is named
        assert len(answer["applied"]) + len(answer["failed"]) == len(HOME)
        failed: list[Any] = answer["failed"]
        assert all(f["sourceServerId"] in HOME and f["error"] for f in failed)
    else:
        assert status == 502 and kind.startswith("crash"), (status, answer)

    status, answer = apply(harness, "db")

    assert (status, sorted(answer["applied"]), answer["failed"]) == (200, sorted(HOME), [])
    assert_applied_once(harness)
