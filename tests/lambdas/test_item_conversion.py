"""The store's one-walk reading and writing of DynamoDB's wire form give what boto3 gave:
reading, what its TypeDeserializer followed by the walk that turned its Decimals back into
numbers gave, for every type, every form of number DynamoDB can send, and what it refuses;
writing, what its TypeSerializer gave after floats became Decimals, errors included."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from drs_orchestrator.adapters.items import _numbers, _plain, from_item, to_item
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def boto3s_reading(item: dict[str, Any]) -> dict[str, Any]:
    """How the store read an item before: boto3's deserializer, then Decimals to numbers."""
    return {key: _plain(_deserializer.deserialize(value)) for key, value in item.items()}


def boto3s_writing(values: dict[str, Any]) -> dict[str, Any]:
    """How the store wrote values before: floats as Decimals, then boto3's serializer."""
    return {key: _serializer.serialize(_numbers(value)) for key, value in values.items()}


def outcome(read: Any, item: dict[str, Any]) -> tuple[str, Any]:
    """What reading ``item`` gives: the values with their types, or the kind of error."""
    try:
        return "read", typed(read(item))
    except Exception as exc:  # noqa: BLE001 - the two must fail alike
        return "refused", type(exc).__name__


def typed(value: Any) -> Any:
    """``value`` with the type of every leaf beside it (1 == 1.0 == True in Python)."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


#: Number literals as DynamoDB sends them, and the odd ones it could: signs, zeros,
#: exponents, fractions that are whole, the 38-digit edge and beyond it.
NUMBERS = st.one_of(
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.sampled_from(
        ["0", "-0", "007", "-007", "1.0", "1.50", "1E+3", "1e3", "-2.5E-3", "0.000", "9" * 38]
        + ["-" + "9" * 38, "1" + "0" * 38, "1.5e40", "12345678901234567890123456789012345678.9"]
    ),
)
SCALARS = st.one_of(
    st.text(max_size=8).map(lambda s: {"S": s}),
    NUMBERS.map(lambda n: {"N": n}),
    st.booleans().map(lambda b: {"BOOL": b}),
    st.just({"NULL": True}),
    st.lists(st.text(max_size=4), min_size=1, max_size=4).map(lambda s: {"SS": s}),
    st.lists(NUMBERS, min_size=1, max_size=3).map(lambda n: {"NS": n}),
    st.binary(max_size=4).map(lambda b: {"B": b}),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda values: {"L": values}),
        st.dictionaries(st.text(max_size=4), inner, max_size=4).map(lambda m: {"M": m}),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(min_size=1, max_size=6), VALUES, max_size=5))
def test_one_walk_reads_every_item_as_boto3_and_the_decimal_walk_did(
    item: dict[str, Any],
) -> None:
    assert outcome(from_item, item) == outcome(boto3s_reading, item)


def test_whole_numbers_come_back_as_int_and_others_as_float_whatever_their_form() -> None:
    item = {
        "version": {"N": "12"},
        "negative": {"N": "-7"},
        "exponent": {"N": "1E+3"},
        "whole fraction": {"N": "4.000"},
        "fraction": {"N": "2.5"},
        "long": {"N": "9" * 38},
        "nested": {"M": {"servers": {"L": [{"N": "3"}, {"S": "s-1"}, {"NULL": True}]}}},
        "names": {"SS": ["b", "a"]},
        "blob": {"B": b"\x00"},
    }
    assert typed(from_item(item)) == {
        "version": ("int", 12),
        "negative": ("int", -7),
        "exponent": ("int", 1000),
        "whole fraction": ("int", 4),
        "fraction": ("float", 2.5),
        "long": ("int", int("9" * 38)),
        "nested": {"servers": [("int", 3), ("str", "s-1"), ("NoneType", None)]},
        "names": [("str", "a"), ("str", "b")],
        "blob": ("Binary", Binary(b"\x00")),
    }
    assert from_item(to_item({"n": 1.25, "m": {"k": [1, "x"]}})) == {
        "n": 1.25,
        "m": {"k": [1, "x"]},
    }
    assert from_item({"s": {"NS": ["2", "1.5"]}})["s"] == [Decimal("1.5"), Decimal(2)]


class Colour(StrEnum):
    RED = "red"


#: Python values the program might hand the store, and some it must be refused.
PLAIN_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
    st.binary(max_size=3),
    st.just(Colour.RED),
    st.frozensets(st.text(max_size=3), min_size=1, max_size=3),
    st.sets(st.integers(min_value=-5, max_value=5), min_size=1, max_size=3),
    st.just(object()),
)
PLAIN_VALUES = st.recursive(
    PLAIN_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.text(max_size=4), inner, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(min_size=1, max_size=6), PLAIN_VALUES, max_size=5))
def test_one_walk_writes_every_value_as_boto3s_serializer_did(values: dict[str, Any]) -> None:
    assert outcome(to_item, values) == outcome(boto3s_writing, values)
