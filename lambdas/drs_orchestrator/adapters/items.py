"""DynamoDB items and plain values, both ways, for every store of the runtime.

An item as DynamoDB sends it (``{"S": ...}``, ``{"M": ...}``) becomes plain values (numbers
as ``int`` where whole and ``float`` otherwise, string sets as sorted lists), and plain
values become an item (floats as decimal numbers). Only the stores use this: the raw item
stays at their boundary. ``tests/lambdas/test_item_conversion.py`` holds both ways to
boto3's ``TypeSerializer`` and ``TypeDeserializer``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

if TYPE_CHECKING:
    from collections.abc import Mapping

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain values in DynamoDB's wire form, floats as decimal numbers. One walk for the
    types the program stores (``from_item``'s reason, on the way out)."""
    return {key: _to_wire(value) for key, value in values.items()}


#: The most significant digits DynamoDB keeps: a longer integer literal goes through
#: boto3's decimal context, which refuses it.
_MAX_DIGITS = 38
#: Integers below this have at most ``_MAX_DIGITS`` digits, written exactly.
_INT_LIMIT = 10**_MAX_DIGITS


def _to_wire(value: Any) -> Any:
    """``TypeSerializer().serialize(_numbers(value))``, held to it by
    tests/lambdas/test_item_conversion.py; other types go the long way."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {name: _to_wire(v) for name, v in value.items()}}
    if kind is list:
        return {"L": [_to_wire(v) for v in value]}
    if kind is int and -_INT_LIMIT < value < _INT_LIMIT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    return _serializer.serialize(_numbers(value))


def _numbers(value: Any) -> Any:
    """Floats as Decimals (DynamoDB's numbers are decimal; boto3 refuses a float),
    recursively; from_item turns them back."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return value


def from_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item as DynamoDB sends it, as plain values: numbers as ``int`` where whole and
    ``float`` otherwise, string sets as sorted lists. One walk of the item: boto3's
    ``TypeDeserializer`` and a second walk turning its Decimals back took a tenth of the
    CPU of a drill in the end-to-end tests, every tick reading the whole execution."""
    return {key: _from_wire(value) for key, value in item.items()}


def _from_wire(value: Mapping[str, Any]) -> Any:
    """``_plain(TypeDeserializer().deserialize(value))``, for the types this program
    stores (held to it by tests/lambdas/test_item_conversion.py); binary values and
    anything unusual go the long way."""
    if len(value) == 1:
        ((kind, content),) = value.items()
        if kind == "S" or kind == "BOOL":
            return content
        if kind == "M":
            return {name: _from_wire(v) for name, v in content.items()}
        if kind == "L":
            return [_from_wire(v) for v in content]
        if kind == "N" and len(content) <= _MAX_DIGITS and content.isascii():
            digits = content[1:] if content[:1] == "-" else content
            if digits.isdigit():
                return int(content)
        if kind == "NULL":
            return None
    return _plain(_deserializer.deserialize(value))


def _plain(value: Any) -> Any:
    """Decimals back to int where they are whole, recursively."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, set):  # a string set, e.g. a group's ``usedBy``
        return sorted(value)
    return value
