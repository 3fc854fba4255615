"""DynamoDB's expression language for the stand-in (``tests/fakes/dynamodb.py``): condition,
key-condition, filter, projection and update expressions, parsed once per text and
evaluated over items in wire form (``{"S": "x"}``, ``{"M": {...}}``), the form the store
keeps them in.

The semantics are DynamoDB's as its developer guide states them and moto implements them:
a comparison with a missing attribute is false except ``<>``; ``<``/``>`` compare only two
numbers, strings or binaries; every right-hand side of an update is read from the item as
it was before the update; two actions on overlapping paths, an update of a key attribute, a
``SET`` under a missing parent, arithmetic on a non-number, an unknown ``#name`` or
``:value`` and one left unused are all refused with DynamoDB's ``ValidationException``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

#: An AttributeValue in wire form: one key, its type.
Value = dict[str, Any]
Item = dict[str, Value]
#: A parsed document path: names and list indexes, ``#refs`` not yet resolved.
Path = tuple[Any, ...]


class ExpressionError(Exception):
    """What DynamoDB answers with ``ValidationException``."""


_TOKEN = re.compile(
    r"\s*(?:(?P<name>#[A-Za-z0-9_]+)|(?P<value>:[A-Za-z0-9_]+)|(?P<number>\d+)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)|(?P<op><>|<=|>=|[=<>()\[\],.+-]))"
)
_KEYWORDS = {"AND", "OR", "NOT", "BETWEEN", "IN", "SET", "REMOVE", "ADD", "DELETE"}
_COMPARATORS = {"=", "<>", "<", "<=", ">", ">="}
_CONDITION_FUNCTIONS = {
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
}


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            msg = f'Invalid expression: Syntax error; token: "{text[position:].split()[0]}"'
            raise ExpressionError(msg)
        kind = match.lastgroup or ""
        token = match.group(kind)
        if kind == "word" and token.upper() in _KEYWORDS:
            kind, token = "keyword", token.upper()
        found.append((kind, token))
        position = match.end()
    return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else ("end", "")

    def take(self, kind: str | None = None, token: str | None = None) -> str:
        found_kind, found = self.peek()
        if (kind and found_kind != kind) or (token and found != token):
            shown = found or "<end>"
            msg = f'Invalid expression: Syntax error; token: "{shown}", near: "{self.text}"'
            raise ExpressionError(msg)
        self.at += 1
        return found

    def accept(self, token: str) -> bool:
        if self.peek()[1] == token and self.peek()[0] in {"op", "keyword"}:
            self.at += 1
            return True
        return False

    def done(self) -> None:
        if self.peek()[0] != "end":
            self.take("end")

    # -- paths and operands --------------------------------------------------------------
    def path(self) -> Path:
        parts: list[Any] = [self._element()]
        while True:
            if self.accept("."):
                parts.append(self._element())
            elif self.accept("["):
                parts.append(int(self.take("number")))
                self.take("op", "]")
            else:
                return tuple(parts)

    def _element(self) -> str:
        kind, token = self.peek()
        if kind in {"name", "word"}:
            self.at += 1
            return token
        return self.take("name")

    def operand(self) -> tuple[Any, ...]:
        kind, token = self.peek()
        if kind == "value":
            self.at += 1
            return ("value", token)
        if kind == "word" and self.peek(1)[1] == "(":
            self.at += 2
            args = [self.operand()]
            while self.accept(","):
                args.append(self.operand())
            self.take("op", ")")
            return ("call", token, tuple(args))
        return ("path", self.path())

    # -- conditions ----------------------------------------------------------------------
    def condition(self) -> tuple[Any, ...]:
        node = self._conjunction()
        while self.accept("OR"):
            node = ("or", node, self._conjunction())
        return node

    def _conjunction(self) -> tuple[Any, ...]:
        node = self._negation()
        while self.accept("AND"):
            node = ("and", node, self._negation())
        return node

    def _negation(self) -> tuple[Any, ...]:
        if self.accept("NOT"):
            return ("not", self._negation())
        if self.accept("("):
            node = self.condition()
            self.take("op", ")")
            return node
        left = self.operand()
        if left[0] == "call" and left[1] in _CONDITION_FUNCTIONS:
            return ("function", left[1], left[2])
        kind, token = self.peek()
        if kind == "op" and token in _COMPARATORS:
            self.at += 1
            return ("compare", token, left, self.operand())
        if self.accept("BETWEEN"):
            low = self.operand()
            self.take("keyword", "AND")
            return ("between", left, low, self.operand())
        if self.accept("IN"):
            self.take("op", "(")
            options = [self.operand()]
            while self.accept(","):
                options.append(self.operand())
            self.take("op", ")")
            return ("in", left, tuple(options))
        self.take("op", "=")  # reports the syntax error
        raise AssertionError  # pragma: no cover

    # -- updates -------------------------------------------------------------------------
    def update(self) -> dict[str, list[Any]]:
        clauses: dict[str, list[Any]] = {}
        while self.peek()[0] != "end":
            verb = self.take("keyword")
            if verb not in {"SET", "REMOVE", "ADD", "DELETE"} or verb in clauses:
                msg = f'Invalid UpdateExpression: The "{verb}" section can only be used once'
                raise ExpressionError(msg)
            actions = clauses[verb] = [self._action(verb)]
            while self.accept(","):
                actions.append(self._action(verb))
        if not clauses:
            raise ExpressionError("Invalid UpdateExpression: The expression can not be empty;")
        return clauses

    def _action(self, verb: str) -> Any:
        path = self.path()
        if verb == "REMOVE":
            return path
        if verb == "SET":
            self.take("op", "=")
            value = self.operand()
            for sign in ("+", "-"):
                if self.accept(sign):
                    return (path, ("arithmetic", sign, value, self.operand()))
            return (path, value)
        return (path, self.operand())


@lru_cache(maxsize=4096)
def parse_condition(text: str) -> tuple[Any, ...]:
    parser = _Parser(text)
    node = parser.condition()
    parser.done()
    return node


@lru_cache(maxsize=4096)
def parse_update(text: str) -> dict[str, list[Any]]:
    parser = _Parser(text)
    return parser.update()


@lru_cache(maxsize=1024)
def parse_projection(text: str) -> tuple[Path, ...]:
    parser = _Parser(text)
    paths = [parser.path()]
    while parser.accept(","):
        paths.append(parser.path())
    parser.done()
    return tuple(paths)


class Context:
    """One request's ``ExpressionAttributeNames`` and ``Values``, and which were used."""

    def __init__(self, names: dict[str, str] | None, values: dict[str, Value] | None) -> None:
        self.names = names or {}
        self.values = values or {}
        self.used: set[str] = set()

    def name(self, element: Any) -> Any:
        if isinstance(element, str) and element.startswith("#"):
            if element not in self.names:
                msg = (
                    "An expression attribute name used in the document path is not "
                    f"defined; attribute name: {element}"
                )
                raise ExpressionError(msg)
            self.used.add(element)
            return self.names[element]
        return element

    def resolve(self, path: Path) -> tuple[Any, ...]:
        return tuple(self.name(part) for part in path)

    def value(self, ref: str) -> Value:
        if ref not in self.values:
            msg = f"An expression attribute value used in expression is not defined; {ref}"
            raise ExpressionError(msg)
        self.used.add(ref)
        return self.values[ref]

    def check_all_used(self) -> None:
        for parameter, given in (
            ("ExpressionAttributeNames", self.names),
            ("ExpressionAttributeValues", self.values),
        ):
            unused = sorted(set(given) - self.used)
            if unused:
                msg = (
                    f"Value provided in {parameter} unused in expressions: "
                    f"keys: {{{', '.join(unused)}}}"
                )
                raise ExpressionError(msg)


def get_path(item: Item | None, path: tuple[Any, ...]) -> Value | None:
    """The value at a resolved path, or None."""
    if item is None:
        return None
    current: Value | None = item.get(path[0])
    for part in path[1:]:
        if current is None:
            return None
        if isinstance(part, int):
            elements = current.get("L")
            current = elements[part] if elements is not None and part < len(elements) else None
        else:
            members = current.get("M")
            current = members.get(part) if members is not None else None
    return current


def number(value: Value) -> Decimal:
    return Decimal(value["N"])


def type_of(value: Value) -> str:
    return next(iter(value))


def equal(left: Value | None, right: Value | None) -> bool:
    if left is None or right is None:
        return False
    kind = type_of(left)
    if kind != type_of(right):
        return False
    a, b = left[kind], right[kind]
    if kind == "N":
        return Decimal(a) == Decimal(b)
    if kind == "NS":
        return {Decimal(x) for x in a} == {Decimal(x) for x in b}
    if kind in {"SS", "BS"}:
        return set(a) == set(b)
    if kind == "L":
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b, strict=True))
    if kind == "M":
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _ordered(left: Value | None, right: Value | None) -> tuple[Any, Any] | None:
    """Two values ``<`` can compare (numbers, strings, binaries of one type), or None."""
    if left is None or right is None or type_of(left) != type_of(right):
        return None
    kind = type_of(left)
    if kind == "N":
        return number(left), number(right)
    if kind in {"S", "B"}:
        return left[kind], right[kind]
    return None


_ORDER = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def size_of(value: Value) -> int | None:
    kind = type_of(value)
    content = value[kind]
    if kind == "S":
        return len(content)
    if kind == "B":
        return len(content)
    if kind in {"SS", "NS", "BS", "L", "M"}:
        return len(content)
    return None


def operand_value(node: tuple[Any, ...], item: Item | None, context: Context) -> Value | None:
    kind = node[0]
    if kind == "value":
        return context.value(node[1])
    if kind == "path":
        return get_path(item, context.resolve(node[1]))
    if kind == "call" and node[1] == "size":
        (argument,) = node[2]
        found = operand_value(argument, item, context)
        length = size_of(found) if found is not None else None
        return None if length is None else {"N": str(length)}
    msg = f"Invalid function name in this context: {node[1]}"
    raise ExpressionError(msg)


def evaluate(node: tuple[Any, ...], item: Item | None, context: Context) -> bool:
    """A condition (or filter) over ``item`` (None: no item)."""
    kind = node[0]
    if kind == "or":
        # Both sides are evaluated, so every name and value counts as used.
        left, right = evaluate(node[1], item, context), evaluate(node[2], item, context)
        return left or right
    if kind == "and":
        left, right = evaluate(node[1], item, context), evaluate(node[2], item, context)
        return left and right
    if kind == "not":
        return not evaluate(node[1], item, context)
    if kind == "compare":
        operator = node[1]
        left = operand_value(node[2], item, context)
        right = operand_value(node[3], item, context)
        if operator == "=":
            return equal(left, right)
        if operator == "<>":
            return not equal(left, right)
        pair = _ordered(left, right)
        return pair is not None and _ORDER[operator](*pair)
    if kind == "between":
        value = operand_value(node[1], item, context)
        low = _ordered(value, operand_value(node[2], item, context))
        high = _ordered(value, operand_value(node[3], item, context))
        return low is not None and high is not None and low[1] <= low[0] <= high[1]
    if kind == "in":
        value = operand_value(node[1], item, context)
        options = [operand_value(option, item, context) for option in node[2]]
        return any(equal(value, option) for option in options)
    return _function(node[1], node[2], item, context)


def _function(name: str, args: tuple[Any, ...], item: Item | None, context: Context) -> bool:
    if args[0][0] != "path":
        msg = f"Invalid ConditionExpression: Operator or function requires a document path; {name}"
        raise ExpressionError(msg)
    found = operand_value(args[0], item, context)
    if name == "attribute_exists":
        return found is not None
    if name == "attribute_not_exists":
        return found is None
    wanted = operand_value(args[1], item, context)
    if found is None or wanted is None:
        return False
    if name == "attribute_type":
        return type_of(found) == wanted.get("S")
    if name == "begins_with":
        kind = type_of(found)
        return (
            kind in {"S", "B"} and type_of(wanted) == kind and found[kind].startswith(wanted[kind])
        )
    # contains
    kind = type_of(found)
    if kind == "S":
        return type_of(wanted) == "S" and wanted["S"] in found["S"]
    if kind in {"SS", "NS", "BS"}:
        return type_of(wanted) == kind[0] and any(
            equal({kind[0]: member}, wanted) for member in found[kind]
        )
    if kind == "L":
        return any(equal(member, wanted) for member in found["L"])
    return False
