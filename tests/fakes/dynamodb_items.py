"""What the DynamoDB stand-in does to one item: apply an update expression, project, measure.

Items are never changed in place: an update builds a new item that shares every value it
did not touch with the old one (a 100-server execution item is not copied to change its
version), so a reader holding the old item is never disturbed and a refused update leaves
nothing half done.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from tests.fakes.dynamodb_expressions import (
    Context,
    ExpressionError,
    Item,
    Value,
    get_path,
    operand_value,
    type_of,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

_SETS = {"SS", "NS", "BS"}
_INVALID_PATH = "The document path provided in the update expression is invalid for update"
_WRONG_TYPE = "An operand in the update expression has an incorrect data type"


def copy_value(value: Any) -> Any:
    """A deep copy of wire-form data (dicts, lists, strings, bytes, bools)."""
    if isinstance(value, dict):
        return {k: copy_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_value(v) for v in value]
    return value


#: Attribute value types whose content is immutable (strings, bytes, a bool, None).
_SCALARS = frozenset({"S", "N", "B", "BOOL", "NULL"})


def copy_item(item: Mapping[str, Value]) -> dict[str, Value]:
    """A deep copy of a stored item (or key) for an answer: what botocore would parse anew.

    Only for what the store holds (every value has been checked to be one attribute value):
    knowing the shape, it copies a third faster than ``copy_value``, the reads' main cost."""
    return {name: _copy_attribute(value) for name, value in item.items()}


def _copy_attribute(value: Value) -> Value:
    ((kind, content),) = value.items()
    if kind == "M":
        return {"M": {name: _copy_attribute(v) for name, v in content.items()}}
    if kind == "L":
        return {"L": [_copy_attribute(v) for v in content]}
    if kind in _SCALARS:
        return {kind: content}
    return {kind: list(content)}  # a set's members


def value_size(value: Value) -> int:
    """A value's size as moto counts it towards the 400 KB limit (``DynamoType.size``)."""
    kind = type_of(value)
    content = value[kind]
    if kind == "N":
        return len(content)
    if kind in _SETS:
        return sum(value_size({kind[0]: member}) for member in content)
    if kind == "L":
        return sum(value_size(member) for member in content)
    if kind == "M":
        return sum(len(k.encode()) + value_size(v) for k, v in content.items())
    if kind in {"BOOL", "NULL"}:
        return 1
    return len(content) if isinstance(content, bytes) else len(content.encode())


def attribute_size(name: str, value: Value) -> int:
    return len(name.encode()) + value_size(value)


def _overlap(one: tuple[Any, ...], two: tuple[Any, ...]) -> bool:
    shorter = min(len(one), len(two))
    return one[:shorter] == two[:shorter]


def _set_value(node: tuple[Any, ...], old: Item, context: Context) -> Value:
    """The value a ``SET`` action's right-hand side has, read from the item before it."""
    kind = node[0]
    if kind == "arithmetic":
        left, right = _set_value(node[2], old, context), _set_value(node[3], old, context)
        if type_of(left) != "N" or type_of(right) != "N":
            raise ExpressionError(_WRONG_TYPE)
        a, b = Decimal(left["N"]), Decimal(right["N"])
        return {"N": str(a + b if node[1] == "+" else a - b)}
    if kind == "call" and node[1] == "if_not_exists":
        path, fallback = node[2]
        found = get_path(old, context.resolve(path[1]))
        otherwise = _set_value(fallback, old, context)  # used, whether or not it is needed
        return found if found is not None else otherwise
    if kind == "call" and node[1] == "list_append":
        first, second = (_set_value(part, old, context) for part in node[2])
        if type_of(first) != "L" or type_of(second) != "L":
            raise ExpressionError(_WRONG_TYPE)
        return {"L": [*first["L"], *second["L"]]}
    if kind == "call":
        msg = f"Invalid UpdateExpression: Invalid function name; function: {node[1]}"
        raise ExpressionError(msg)
    found = operand_value(node, old, context)
    if found is None:
        msg = "The provided expression refers to an attribute that does not exist in the item"
        raise ExpressionError(msg)
    return found


def _replaced(current: Value | None, rest: tuple[Any, ...], value: Value | None) -> Value:
    """``current`` with the value at ``rest`` set (None: removed), as a new value."""
    part = rest[0]
    if isinstance(part, int):
        if current is None or type_of(current) != "L":
            raise ExpressionError(_INVALID_PATH)
        members: Any = list(current["L"])
        if len(rest) > 1:
            if part >= len(members):
                raise ExpressionError(_INVALID_PATH)
            members[part] = _replaced(members[part], rest[1:], value)
        elif value is None:
            if part < len(members):
                del members[part]
        elif part < len(members):
            members[part] = value
        else:
            members.append(value)
        return {"L": members}
    if current is None or type_of(current) != "M":
        raise ExpressionError(_INVALID_PATH)
    members = dict(current["M"])
    if len(rest) > 1:
        members[part] = _replaced(members.get(part), rest[1:], value)
    elif value is None:
        members.pop(part, None)
    else:
        members[part] = value
    return {"M": members}


def _put(item: Item, path: tuple[Any, ...], value: Value | None) -> None:
    """Set (None: remove) the value at ``path`` of ``item``, replacing the values on the way."""
    if isinstance(path[0], int):
        raise ExpressionError(_INVALID_PATH)
    if len(path) == 1:
        if value is None:
            item.pop(path[0], None)
        else:
            item[path[0]] = value
        return
    item[path[0]] = _replaced(item.get(path[0]), path[1:], value)


def _operand_type_error(verb: str, kind: str) -> ExpressionError:
    return ExpressionError(
        "Invalid UpdateExpression: Incorrect operand type for operator or function; "
        f"operator: {verb}, operand type: {kind}"
    )


def _added(found: Value | None, value: Value) -> Value:
    kind = type_of(value)
    if kind not in _SETS and kind != "N":
        raise _operand_type_error("ADD", kind)
    if found is None:
        return value
    if type_of(found) != kind:
        raise ExpressionError(_WRONG_TYPE)
    if kind == "N":
        return {"N": str(Decimal(found["N"]) + Decimal(value["N"]))}
    return {kind: [*found[kind], *(m for m in value[kind] if m not in found[kind])]}


def _deleted(found: Value | None, value: Value) -> Value | None:
    kind = type_of(value)
    if kind not in _SETS:
        raise _operand_type_error("DELETE", kind)
    if found is None:
        return None
    if type_of(found) != kind:
        raise ExpressionError(_WRONG_TYPE)
    left = [m for m in found[kind] if m not in value[kind]]
    return {kind: left} if left else None


def apply_update(
    old: Item, clauses: dict[str, list[Any]], context: Context, key_names: set[str]
) -> Item:
    """The item ``clauses`` (a parsed update expression) make of ``old`` ({}: none yet)."""
    resolved: list[tuple[str, tuple[Any, ...], Any]] = []
    for verb, actions in clauses.items():
        for action in actions:
            path, operand = (action, None) if verb == "REMOVE" else action
            resolved.append((verb, context.resolve(path), operand))
    for index, (_verb, path, _operand) in enumerate(resolved):
        if path[0] in key_names:
            msg = (
                "One or more parameter values were invalid: Cannot update attribute "
                f"{path[0]}. This attribute is part of the key"
            )
            raise ExpressionError(msg)
        for _other_verb, other, _ in resolved[index + 1 :]:
            if _overlap(path, other):
                msg = (
                    "Invalid UpdateExpression: Two document paths overlap with each other; "
                    "must remove or rewrite one of these paths; "
                    f"path one: [{', '.join(map(str, path))}], "
                    f"path two: [{', '.join(map(str, other))}]"
                )
                raise ExpressionError(msg)
    values = [
        (verb, path, _right_hand(verb, operand, old, context)) for verb, path, operand in resolved
    ]
    new = dict(old)
    for verb, path, operand in values:
        if verb == "SET":
            _put(new, path, operand)
        elif verb == "REMOVE":
            if len(path) == 1 or get_path(new, path[:-1]) is not None:
                _put(new, path, None)
        elif verb == "ADD":
            _put(new, path, _added(get_path(new, path), operand))
        else:
            _put(new, path, _deleted(get_path(new, path), operand))
    return new


def _right_hand(verb: str, operand: Any, old: Item, context: Context) -> Value | None:
    if verb == "SET":
        return _set_value(operand, old, context)
    if verb == "REMOVE":
        return None
    if operand[0] != "value":
        msg = f"Invalid UpdateExpression: {verb} takes a value (:name), not {operand[0]}"
        raise ExpressionError(msg)
    return context.value(operand[1])


def project(item: Item, paths: list[tuple[Any, ...]]) -> Item:
    """The parts of ``item`` at ``paths`` (resolved), nested as they are in the item."""
    projected: Item = {}
    for path in paths:
        found = get_path(item, path)
        if found is None:
            continue
        if len(path) == 1:
            projected[path[0]] = found
            continue
        target: Any = projected.setdefault(path[0], {type_of(item[path[0]]): _empty(item[path[0]])})
        source: Any = item[path[0]]
        for part in path[1:-1]:
            source = get_path({"x": source}, ("x", part))
            container = target[type_of(target)]
            if isinstance(part, int):
                container.append({type_of(source): _empty(source)})
                target = container[-1]
            else:
                target = container.setdefault(part, {type_of(source): _empty(source)})
        container = target[type_of(target)]
        if isinstance(path[-1], int):
            container.append(found)
        else:
            container[path[-1]] = found
    return projected


def _empty(value: Value) -> Any:
    return [] if type_of(value) == "L" else {}
