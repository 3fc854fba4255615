"""One reader of config keys, driven by what each ``Pulumi.yaml`` declares.

The engine refuses a stack that leaves a typed key without a default unset, or gives a value
of the wrong type, before the program runs; these tests hold the offline reader to the same
rules and hold every stack file in the repository to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import yaml

from infra.bootstrap import settings as bootstrap_settings
from infra.project_config import STRUCTURED, Declaration, DeclarationError, config_string
from infra.settings import DECLARATION as MAIN_DECLARATION
from infra.stacks import REPO_ROOT, load_stack_config, stack_files
from infra.target import settings as target_settings

if TYPE_CHECKING:
    from pathlib import Path

PROJECTS = {"main": REPO_ROOT, "bootstrap": REPO_ROOT / "bootstrap"}


def stack_config(root: Path, stack: str) -> dict[str, str]:
    """A stack file's values only (no project defaults), as the engine receives them."""
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    return {key: config_string(value) for key, value in (document.get("config") or {}).items()}


@pytest.mark.parametrize(
    ("project", "stack"),
    [(project, stack) for project, root in PROJECTS.items() for stack in stack_files(root)],
)
def test_every_stack_file_sets_what_pulumi_requires(project: str, stack: str) -> None:
    # A key declared without a default must be set, or `pulumi preview` stops with
    # "Stack '<stack>' is missing configuration value '<key>'" before the program runs.
    root = PROJECTS[project]
    declaration = Declaration.of(root / "Pulumi.yaml")
    reader = declaration.read(stack_config(root, stack))
    assert reader.problems == []
    # The engine checks the YAML value's own type ("with configuration key 'x' must be of
    # type 'integer'"): a quoted number or boolean in a stack file is refused.
    document = yaml.safe_load((root / f"Pulumi.{stack}.yaml").read_text()) or {}
    yaml_types = {"string": str, "integer": int, "boolean": bool}
    for full_name, value in (document.get("config") or {}).items():
        namespace, _, name = full_name.partition(":")
        if namespace == declaration.project:
            declared = declaration.key(name).type
            if declared == STRUCTURED:  # unchecked by Pulumi; a list or map for us
                assert isinstance(value, list | dict), f"{full_name} must be a YAML list or map"
            else:
                assert type(value) is yaml_types[declared], f"{full_name} must be a YAML {declared}"


def test_the_programs_read_the_keys_their_project_files_declare() -> None:
    for declaration, root in (
        (MAIN_DECLARATION, REPO_ROOT),
        (bootstrap_settings.DECLARATION, REPO_ROOT / "bootstrap"),
        (target_settings.DECLARATION, REPO_ROOT / "target"),
    ):
        declared = yaml.safe_load((root / "Pulumi.yaml").read_text())
        assert declaration.project == declared["name"]
        assert set(declaration.keys) == set(declared["config"])
        for name, key in declaration.keys.items():
            assert key.type == declared["config"][name].get("type", STRUCTURED)
            assert key.required == ("default" not in declared["config"][name])


def project_file(tmp_path: Path, config: dict) -> Path:
    path = tmp_path / "Pulumi.yaml"
    document = {"name": "demo", "runtime": "python", "config": config}
    path.write_text(yaml.safe_dump(document, sort_keys=True))
    return path


def test_a_declared_key_is_known_typed_and_defaulted(tmp_path: Path) -> None:
    declaration = Declaration.of(
        project_file(
            tmp_path,
            {
                "size": {"type": "integer", "description": "How many.", "default": 3},
                "owner": {"type": "string", "description": "Who runs it."},
                "enabled": {"type": "boolean", "default": False},
            },
        )
    )

    reader = declaration.read({"demo:owner": "ops", "demo:sise": "4"})
    assert reader.problems == ["'demo:sise': unknown configuration key (did you mean 'demo:size'?)"]
    assert (reader.integer("size"), reader.string("owner"), reader.boolean("enabled")) == (
        3,
        "ops",
        False,
    )

    reader = declaration.read({"demo:size": "many", "demo:enabled": "yes"})
    assert reader.problems == [  # in the order the project file declares them
        "'demo:enabled': must be true or false, got 'yes'",
        "'demo:owner': required (Who runs it)",
        "'demo:size': must be a whole number, got 'many'",
    ]
    assert reader.integer("size") is None
    assert reader.boolean("enabled") is None


def test_a_key_without_a_type_is_refused_where_it_is_declared(tmp_path: Path) -> None:
    with pytest.raises(DeclarationError, match="config key 'size' must declare a type"):
        Declaration.of(project_file(tmp_path, {"size": {"default": 3}}))


def test_a_structured_key_is_declared_without_a_type_and_read_as_json(tmp_path: Path) -> None:
    # Pulumi.yaml cannot type a list of maps: such a key is declared with a description and
    # a list or map default; Pulumi passes the stack's value unchecked, as JSON.
    declaration = Declaration.of(
        project_file(tmp_path, {"targets": {"description": "Where.", "default": []}})
    )
    assert declaration.key("targets").type == STRUCTURED
    assert declaration.read({}).structured("targets") == []
    value = [{"account": "111122223333", "region": "us-west-2"}]
    assert declaration.read({"demo:targets": config_string(value)}).structured("targets") == value
    reader = declaration.read({"demo:targets": "us-west-2"})
    assert reader.problems == ["'demo:targets': must be a YAML list or map, got 'us-west-2'"]
    assert reader.structured("targets") is None


def test_the_main_stacks_values_come_through_the_declared_defaults() -> None:
    # The offline reader of a stack file applies the declared defaults, as the engine does.
    config = load_stack_config("dev")
    reader = MAIN_DECLARATION.read(config)
    assert reader.problems == []
    default = MAIN_DECLARATION.key("jobEventsRetentionDays").default
    assert default is not None
    assert reader.integer("jobEventsRetentionDays") == int(default)
