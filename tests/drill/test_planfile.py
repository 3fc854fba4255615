"""Plan files are checked against the API's own schemas before any deployment is touched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drsctl.drill.planfile import PlanFileError, load_plan_file

SHIPPED = Path(__file__).resolve().parents[2] / "drills" / "orders-three-tier.yaml"


def test_the_shipped_plan_file_is_valid_and_gets_each_deployments_region() -> None:
    planfile = load_plan_file(SHIPPED)
    groups, plan = planfile.for_region("eu-west-1")
    assert {g["region"] for g in groups} == {"eu-west-1"}
    assert [w["name"] for w in plan["waves"]] == ["Databases", "App tier", "Batch"]


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content)
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("just text", "expected a mapping with protectionGroups and recoveryPlan"),
        ("protectionGroups: []\nrecoveryPlan: {}\nextra: 1\n", "unknown key 'extra'"),
        ("protectionGroups: []\n", "missing 'recoveryPlan'"),
        (
            "protectionGroups:\n  - {name: g, sourceServerIds: [i-123]}\n"
            "recoveryPlan: {name: p, waves: [{name: w, protectionGroups: [g]}]}\n",
            "protectionGroups[0].sourceServerIds[0]: sourceServerIds[0] must match pattern",
        ),
        (
            "protectionGroups:\n  - {name: g, tagSelectors: {Tier: [app]}}\n"
            "recoveryPlan: {name: p, waves: [{name: w, protectionGroups: [h]}]}\n",
            "recoveryPlan.waves[0].protectionGroups[0]: 'h' is not among the file's protectionGroups",
        ),
        (
            "protectionGroups: []\nrecoveryPlan: {waves: []}\n",
            "recoveryPlan.name: is required",
        ),
        ("protectionGroups: [\n", "is not valid YAML"),
    ],
)
def test_a_bad_plan_file_is_refused_naming_the_place(
    tmp_path: Path, content: str, message: str
) -> None:
    with pytest.raises(PlanFileError, match=None) as raised:
        load_plan_file(write(tmp_path, "plan.yaml", content))
    assert message in str(raised.value)
    assert str(tmp_path / "plan.yaml") in str(raised.value)


def test_json_plan_files_are_read_too(tmp_path: Path) -> None:
    data = {
        "protectionGroups": [{"name": "g", "tagSelectors": {"Tier": ["web"]}}],
        "recoveryPlan": {"name": "p", "waves": [{"name": "w", "protectionGroups": ["g"]}]},
    }
    planfile = load_plan_file(write(tmp_path, "plan.json", json.dumps(data)))
    assert planfile.plan["name"] == "p"
    with pytest.raises(PlanFileError, match="is not valid JSON"):
        load_plan_file(write(tmp_path, "broken.json", "{"))
