"""The tables of the DynamoDB stand-in (``tests/fakes/dynamodb.py``): keys, indexes, the
item size limit, and the checks DynamoDB makes of a request before it runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from tests.fakes.dynamodb_expressions import (
    Context,
    ExpressionError,
    Item,
    Value,
    evaluate,
    parse_condition,
    type_of,
)
from tests.fakes.dynamodb_items import attribute_size, copy_value

#: moto's item size limit, on moto's measure (``LimitedSizeDict``).
ITEM_SIZE_LIMIT = 405_000
#: The most a Query or Scan reads for one page (moto's ``RESULT_SIZE_LIMIT``).
PAGE_SIZE_LIMIT = 1_000_000
CONDITION_FAILED = "The conditional request failed"


class DynamoDbError(Exception):
    """An answer of DynamoDB's with an error code (and any extra fields, e.g. the
    ``CancellationReasons`` of a cancelled transaction)."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.extra = code, message, extra


def invalid(message: str) -> DynamoDbError:
    return DynamoDbError("ValidationException", message)


def order(value: Value) -> Any:
    """How DynamoDB orders key values: numbers by value, strings and binaries bytewise
    (code point order is UTF-8's byte order)."""
    kind = type_of(value)
    return Decimal(value["N"]) if kind == "N" else value[kind]


@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None
    projection: str
    non_key: tuple[str, ...] = ()


@dataclass
class Table:
    name: str
    hash_key: str
    range_key: str | None
    types: dict[str, str]
    indexes: dict[str, Index]
    description: dict[str, Any]
    items: dict[tuple[Any, ...], Item] = field(default_factory=dict)
    #: Each item's size by attribute (unchanged values are shared, so not re-measured).
    sizes: dict[tuple[Any, ...], dict[str, tuple[int, int]]] = field(default_factory=dict)
    ttl: dict[str, Any] | None = None

    @property
    def key_names(self) -> set[str]:
        return {self.hash_key} | ({self.range_key} if self.range_key else set())

    def key_of(self, key: Item) -> tuple[Any, ...]:
        """The store's key of a request's ``Key`` (exactly the key attributes)."""
        if set(key) != self.key_names or any(
            type_of(key[name]) != self.types[name] for name in key
        ):
            raise invalid("The provided key element does not match the schema")
        return self._key_tuple(key)

    def item_key(self, item: Item) -> tuple[Any, ...]:
        """The store's key of an item to put, checking its key attributes."""
        for name in sorted(self.key_names):
            value = item.get(name)
            if value is None:
                msg = (
                    f"One or more parameter values were invalid: Missing the key {name} in the item"
                )
                raise invalid(msg)
            if type_of(value) != self.types[name]:
                msg = (
                    "One or more parameter values were invalid: Type mismatch for key "
                    f"{name} expected: {self.types[name]} actual: {type_of(value)}"
                )
                raise invalid(msg)
            if value[type_of(value)] in ("", b""):
                msg = (
                    "One or more parameter values are not valid. The AttributeValue for a key "
                    f"attribute cannot contain an empty string value. Key: {name}"
                )
                raise invalid(msg)
        return self._key_tuple(item)

    def _key_tuple(self, item: Item) -> tuple[Any, ...]:
        names = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return tuple(order(item[name]) for name in names)

    def key_item(self, item: Item) -> Item:
        return {name: item[name] for name in self.key_names}

    def store(self, key: tuple[Any, ...], item: Item, too_large: str) -> None:
        """Keep ``item`` (a new object, sharing unchanged values with the one it replaces),
        refusing it over the size limit."""
        known = self.sizes.get(key, {})
        sizes = {
            name: known[name]
            if name in known and known[name][0] == id(value)
            else (id(value), attribute_size(name, value))
            for name, value in item.items()
        }
        if sum(size for _id, size in sizes.values()) > ITEM_SIZE_LIMIT:
            raise invalid(too_large)
        self.items[key] = item
        self.sizes[key] = sizes

    def size_of(self, key: tuple[Any, ...]) -> int:
        return sum(size for _id, size in self.sizes[key].values())

    def remove(self, key: tuple[Any, ...]) -> None:
        self.items.pop(key, None)
        self.sizes.pop(key, None)


def check_values(values: dict[str, Value]) -> None:
    for name, value in values.items():
        _check_value(value, name)


def _check_value(value: Value, where: str) -> None:
    kind = type_of(value)
    content = value[kind]
    if kind in {"SS", "NS", "BS"} and not content:
        msg = f"One or more parameter values were invalid: An {kind} may not be empty ({where})"
        raise invalid(msg)
    if kind == "L":
        for member in content:
            _check_value(member, where)
    elif kind == "M":
        for member in content.values():
            _check_value(member, where)


def condition_holds(params: dict[str, Any], item: Item | None, context: Context) -> bool:
    text = params.get("ConditionExpression")
    return True if not text else evaluate(parse_condition(text), item, context)


def request_context(params: dict[str, Any]) -> Context:
    values = copy_value(params.get("ExpressionAttributeValues"))
    if values:
        check_values(values)
    return Context(params.get("ExpressionAttributeNames"), values)


def parsed(fn: Any, text: str) -> Any:
    try:
        return fn(text)
    except ExpressionError as exc:
        raise invalid(str(exc)) from None


def key_conditions(
    condition: tuple[Any, ...], context: Context, hash_key: str, range_key: str | None
) -> tuple[Value, tuple[Any, ...] | None]:
    """The partition key's value and the sort key's condition of a KeyConditionExpression."""
    parts = [condition[1], condition[2]] if condition[0] == "and" else [condition]
    wanted: Value | None = None
    rest = None
    for part in parts:
        subject = (
            part[2] if part[0] == "compare" else part[1] if part[0] == "between" else part[2][0]
        )
        if subject[0] != "path" or len(subject[1]) != 1:
            raise invalid("Invalid KeyConditionExpression: the key condition names no key")
        name = context.name(subject[1][0])
        if name == hash_key and part[0] == "compare" and part[1] == "=":
            wanted = context.value(part[3][1])
        elif name == range_key and part[0] in {"compare", "between", "function"}:
            rest = part
        else:
            msg = f"Query condition missed key schema element: {hash_key}"
            raise invalid(msg)
    if wanted is None:
        msg = f"Query condition missed key schema element: {hash_key}"
        raise invalid(msg)
    if rest is not None:
        # Resolve the sort key's names and values now, so they count as used.
        evaluate(rest, None, context)
    return wanted, rest
