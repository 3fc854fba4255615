"""The config keys a Pulumi project declares, and one reader that checks a stack against them.

``Pulumi.yaml`` is the single declaration of a project's keys: their type, description and
default. The engine itself refuses a stack that lacks a key declared without a default, or
whose value is not of the declared type ("Stack 'dev' is missing configuration value …");
this reader applies the same rules offline, so ``drsctl plan`` and the tests fail where the
first real ``pulumi preview`` would. The main program, the bootstrap program and the policy
pack all read their keys through here: a key added to a ``Pulumi.yaml`` is known everywhere,
a key missing from it is unknown everywhere.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

#: The value types these projects declare, and what Pulumi accepts for each.
TYPES = ("string", "integer", "boolean")
#: A key declared without a type: Pulumi passes any value (a list, an object) unchecked, as
#: JSON, and the program validates it. Pulumi.yaml cannot type an object or a list of them.
STRUCTURED = "structured"


class DeclarationError(ValueError):
    """A ``Pulumi.yaml`` declares a key this reader (or Pulumi) cannot honour."""


@dataclass(frozen=True)
class DeclaredKey:
    """One key of a project's ``config`` block."""

    namespace: str
    name: str
    type: str
    description: str
    default: str | None
    """The default as the engine hands it over (a string), or None: the key is required."""

    @property
    def full_name(self) -> str:
        return f"{self.namespace}:{self.name}"

    @property
    def required(self) -> bool:
        """Pulumi refuses a stack that does not set a typed key declared without a default."""
        return self.default is None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` naming the closest of ``choices``, or "" when none is close:
    the hint every "unknown ..." problem ends with."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def config_string(value: Any) -> str:
    """A config value as Pulumi hands it to the program: booleans lower-case, structured
    values as JSON, the rest as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@dataclass(frozen=True)
class Declaration:
    """Every key one project declares, by short name."""

    project: str
    keys: dict[str, DeclaredKey]

    @classmethod
    def of(cls, project_file: Path) -> Declaration:
        return _declaration(project_file.resolve())

    def key(self, name: str) -> DeclaredKey:
        return self.keys[name]

    def defaults(self) -> dict[str, str]:
        """``namespace:key`` -> default of every key declared with one, as the engine
        applies them under a stack's own values."""
        return {k.full_name: k.default for k in self.keys.values() if k.default is not None}

    def read(self, config: Mapping[str, str]) -> ConfigReader:
        """Check ``config`` (flattened ``namespace:key`` -> string) against the declaration."""
        return ConfigReader(self, config)


@cache
def _declaration(project_file: Path) -> Declaration:
    document = yaml.safe_load(project_file.read_text()) or {}
    project = str(document["name"])
    keys: dict[str, DeclaredKey] = {}
    for name, spec in (document.get("config") or {}).items():
        if ":" in name:
            continue  # another namespace's value (aws:region …): not this project's key
        if not isinstance(spec, dict):
            msg = f"{project_file}: config key '{name}' must be declared as a map"
            raise DeclarationError(msg)
        default = spec.get("default")
        structured = "type" not in spec and isinstance(default, list | dict)
        if not structured and spec.get("type") not in TYPES:
            msg = (
                f"{project_file}: config key '{name}' must declare a type ({', '.join(TYPES)}), "
                "or be a structured value: no type and a list or map as default"
            )
            raise DeclarationError(msg)
        keys[name] = DeclaredKey(
            namespace=project,
            name=name,
            type=STRUCTURED if structured else spec["type"],
            description=str(spec.get("description") or "").strip(),
            default=None if default is None else config_string(default),
        )
    return Declaration(project, keys)


class ConfigReader:
    """A stack's values of one project's keys, with every problem found in them.

    Reading collects problems instead of raising, so one run names everything to fix: keys
    the project does not declare (with the closest declared one), required keys left unset,
    values of the wrong type. Accessors give each value with its default applied."""

    def __init__(self, declaration: Declaration, config: Mapping[str, str]) -> None:
        self.declaration = declaration
        self.problems: list[str] = []
        self._values: dict[str, str] = {}
        known = {key.full_name for key in declaration.keys.values()}
        prefix = f"{declaration.project}:"
        for full_name in config:
            if full_name.startswith(prefix) and full_name not in known:
                hint = did_you_mean(full_name, known)
                self.problems.append(f"'{full_name}': unknown configuration key{hint}")
        for key in declaration.keys.values():
            raw = config.get(key.full_name)
            text = "" if raw is None else str(raw).strip()
            if not text:
                if key.required:
                    self.problem(key.name, f"required ({key.description.rstrip('.')})")
                text = key.default or ""
            self._values[key.name] = text
            if text and key.type == "integer" and not _is_integer(text):
                self.problem(key.name, f"must be a whole number, got '{text}'")
            if text and key.type == "boolean" and text.lower() not in ("true", "false"):
                self.problem(key.name, f"must be true or false, got '{text}'")
            if key.type == STRUCTURED and _json(text) is _NOT_JSON:
                self.problem(key.name, f"must be a YAML list or map, got '{text}'")

    def problem(self, name: str, rule: str, path: str = "") -> None:
        """Record that the value of key ``name`` (at ``path`` inside a structured value,
        e.g. ``[1].region``) breaks ``rule``."""
        self.problems.append(f"'{self.declaration.key(name).full_name}{path}': {rule}")

    def string(self, name: str) -> str:
        """The value, or the declared default, or "" when neither is set."""
        return self._values[name]

    def integer(self, name: str) -> int | None:
        """The value as a number, or None when it is not one (already a problem)."""
        text = self._values[name]
        return int(text) if _is_integer(text) else None

    def boolean(self, name: str) -> bool | None:
        """The value as a boolean, or None when it is neither (already a problem)."""
        text = self._values[name].lower()
        return {"true": True, "false": False}.get(text)

    def structured(self, name: str) -> Any:
        """The value as Pulumi hands a structured value over (parsed JSON), or None when it
        is not one (already a problem)."""
        value = _json(self._values[name])
        return None if value is _NOT_JSON else value


_NOT_JSON = object()


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


def _is_integer(text: str) -> bool:
    return text.lstrip("+-").isdigit()


def running_stack_config() -> tuple[str, dict[str, str]]:
    """The stack Pulumi is running and its whole configuration, flattened.

    The engine passes all stack config at once; reading the whole map (not key by key) is
    what lets a misspelt key be reported instead of silently ignored."""
    import pulumi
    from pulumi.runtime.config import CONFIG, get_config_env

    config = {**get_config_env(), **CONFIG.get()}
    return pulumi.get_stack(), {key: str(value) for key, value in config.items()}
