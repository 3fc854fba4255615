"""moto's DynamoDB, Step Functions and EC2 without the work that is not the test's.

**DynamoDB**: its costliest helpers rewritten to the same results, faster.

The fault matrices spend a third of their time in moto's DynamoDB, most of it on the
execution item (a 33 KB map of maps): every ``UpdateItem`` deep-copies it (to answer
``ReturnValues`` and to roll back), checks its size once per attribute it sets, and every
read converts it back to wire form. moto does each of these through generic machinery:
``copy.deepcopy`` per node, a fresh ``DynamoType`` rebuilt from every child before its size
is taken (so the size of a map of maps costs its depth times its nodes), and a deep copy
of each value before it is converted. The replacements below walk the tree once.

**Step Functions**: the interpreter parses every JSONPath of a state each time the state
runs, and makes a new boto3 Lambda client (with fixed test credentials, whatever the
state's) for every task; here a path is parsed once and a client made once per region.
Creating a state machine parses its whole definition to check it; here a definition that
passed is not parsed again to check it (every e2e world creates the same machine), and
starting an execution parses it again into the program the execution runs; here a
definition's program is made once and run by each of its executions.
**Every service**: to find the method of a request's action, moto lists the functions of
the service's response class (``inspect.getmembers`` over hundreds of members, sorted) on
every request; here once per class (a class's methods do not change while it answers).
**EC2**: moto loads its catalogue of public AMIs (thousands of images, parsed from JSON)
into every account-region's backend; nothing here describes or launches an image, so
it is left out as moto's setting ``MOTO_EC2_LOAD_DEFAULT_AMIS=false`` would (the setting is
answered here, not put in the environment the sandboxes the tests start inherit).

They change no answer: ``tests/lambdas/test_quick_moto.py`` holds each DynamoDB helper to
moto's original over generated attribute values of every type (copy, size, wire form) and
the item-size limit at its edge (the tests that run on moto's DynamoDB rely on them; the
e2e harness answers DynamoDB from ``tests/fakes/dynamodb.py``), and
``tests/e2e/test_stand_in_outcomes.py`` runs a sample of the fault matrix on moto as shipped
and as the suite runs it, and compares every outcome.
``install`` is called once per test process (``tests/conftest.py``); ``uninstall`` puts
moto's own back.
"""

from __future__ import annotations

import base64
import copy
import datetime
import functools
import threading
from typing import Any

import jsonpath_ng
import jsonpath_ng.ext
from moto import settings
from moto.core import responses as core_responses
from moto.core.models import botocore_stubber
from moto.core.utils import method_names_from_class
from moto.dynamodb import responses
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.utilities import bytesize, dynamo_to_dict
from moto.stepfunctions.parser.asl.component.common.path import result_path
from moto.stepfunctions.parser.asl.component.component import Component
from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
from moto.stepfunctions.parser.asl.utils import json_path
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for
from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker
from moto.stepfunctions.parser.models import StepFunctionsParserBackend

from tests.fakes.patch_table import PatchTable

_SETS = frozenset({"SS", "NS", "BS"})


def copied(value: DynamoType) -> DynamoType:
    """A copy sharing nothing mutable with ``value`` (moto's ``__deepcopy__``, without
    ``copy.deepcopy``'s dispatch and memo per node: attribute values are trees, never
    cyclic, and never share a node)."""
    result = DynamoType.__new__(DynamoType)
    result.type = value.type
    inner = value.value
    if value.type == "L":
        result.value = [copied(v) if type(v) is DynamoType else copy.deepcopy(v) for v in inner]
    elif value.type == "M":
        result.value = {
            k: copied(v) if type(v) is DynamoType else copy.deepcopy(v) for k, v in inner.items()
        }
    elif value.type in _SETS:
        result.value = list(inner)
    else:
        result.value = inner
    return result


def size(value: DynamoType) -> int:
    """moto's ``DynamoType.size``, counted in one walk of the tree."""
    kind, inner = value.type, value.value
    if kind == "N":
        return len(str(inner))
    if kind in _SETS:
        if kind == "NS":
            return sum(len(str(v)) for v in inner)
        return sum(bytesize(v) for v in inner)
    if kind == "L":
        return sum(size(v) if type(v) is DynamoType else v.size() for v in inner)
    if kind == "M":
        return sum(
            bytesize(k) + size(DynamoType(v) if type(v) is not DynamoType else v)
            for k, v in inner.items()
        )
    if isinstance(inner, bool):
        return 1
    return bytesize(inner)


def to_regular_json(value: DynamoType) -> dict[str, Any]:
    """moto's ``DynamoType.to_regular_json`` (the wire form, binary decoded) without first
    deep-copying the whole value it is about to rebuild anyway."""
    inner = value.value
    if isinstance(inner, dict):
        inner = {
            k: to_regular_json(v) if isinstance(v, DynamoType) else copy.deepcopy(v)
            for k, v in inner.items()
        }
    elif isinstance(inner, list):
        inner = [
            to_regular_json(v) if isinstance(v, DynamoType) else copy.deepcopy(v) for v in inner
        ]
    if value.type == "B" and isinstance(inner, str):
        inner = base64.b64decode(inner)
    return {value.type: inner}


_PLAIN = frozenset({str, bytes, bool, int, float, type(None)})


def to_dict(result: Any) -> Any:
    """moto's ``dynamo_to_dict`` (a result's DynamoDB values as plain dicts, binary as
    bytes), deciding by exact type first: moto asks every string whether it has
    ``to_json``. The other cases are moto's, in moto's order; binary values go to moto's."""
    kind = type(result)
    if kind in _PLAIN:
        return result
    if kind is dict:
        return {k: to_dict(v) for k, v in result.items()}
    if kind is list:
        return [to_dict(v) for v in result]
    if kind is DynamoType and result.type not in ("B", "BS"):
        return {result.type: to_dict(result.value)}
    if isinstance(result, (datetime.datetime, DynamoType)):
        return dynamo_to_dict(result)
    if hasattr(result, "to_json"):  # an Item, a table: what it says of itself
        return to_dict(result.to_json())
    if isinstance(result, dict):
        return {k: to_dict(v) for k, v in result.items()}
    if isinstance(result, list):
        return [to_dict(v) for v in result]
    return result


@functools.cache
def _lambda_client(region: str, service: str, intercepting: bool) -> Any:
    # ``intercepting`` only keys the cache: moto's client points at its server when not.
    return boto_client_for(region=region, service=service)


def client_for(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's ``boto_client_for``, made once per region: moto's takes the state's
    credentials and uses fixed ones ("ak", "sk") whatever they are."""
    return _lambda_client(region, service, botocore_stubber.enabled)


_moto_validate = StepFunctionsParserBackend.__dict__["_validate_definition"]
#: Definitions moto's check has passed (a definition that passed passes again).
_VALIDATED: set[str] = set()


def validated_once(definition: str) -> None:
    """moto's check of a state machine definition, once per definition: it parses the whole
    ASL with ANTLR, a fifth of building an e2e world, and every world creates the same
    machine. A definition it refuses is checked (and refused) every time."""
    if definition not in _VALIDATED:
        _moto_validate.__func__(definition)
        _VALIDATED.add(definition)


_moto_entrypoint = ExecutionWorker.__dict__["_get_evaluation_entrypoint"]
#: The program of each definition an execution has run, with every component's heap key set.
_PROGRAMS: dict[str, EvalComponent] = {}
_PROGRAMS_LOCK = threading.Lock()


def program_of(worker: ExecutionWorker) -> EvalComponent:
    """moto's program for an execution, parsed once per definition: moto parses the whole
    ASL with ANTLR at every StartExecution (7% of a fault-matrix case). A program is shared
    by the executions of its definition: its components keep no state of an execution (that
    is the execution's ``Environment``'s) except the key each names its values by on the
    environment's heap, made on first use; those are made here, before any execution runs
    it, so two executions at once never race to make one."""
    definition = worker._evaluation_details.state_machine_details.definition  # noqa: SLF001
    with _PROGRAMS_LOCK:
        if definition not in _PROGRAMS:
            program = _moto_entrypoint(worker)
            for component in components(program):
                _ = component.heap_key
            _PROGRAMS[definition] = program
        return _PROGRAMS[definition]


def components(root: EvalComponent) -> list[EvalComponent]:
    """Every evaluated component of a program, found through the attributes of each
    component (evaluated or not) from the root down."""
    found: dict[int, Component] = {}
    pending: list[Any] = [root]
    while pending:
        value = pending.pop()
        if isinstance(value, Component):
            if id(value) in found:
                continue
            found[id(value)] = value
            pending.extend(vars(value).values())
        elif isinstance(value, (list, tuple, set, frozenset)):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend(value.values())
    return [c for c in found.values() if isinstance(c, EvalComponent)]


#: What is replaced, (class or module, attribute) -> (moto's own, the quick one).
PATCHES = PatchTable(
    {
        (DynamoType, "__deepcopy__"): (
            DynamoType.__dict__["__deepcopy__"],
            lambda self, _memo: copied(self),
        ),
        (DynamoType, "size"): (DynamoType.__dict__["size"], size),
        (DynamoType, "to_regular_json"): (DynamoType.__dict__["to_regular_json"], to_regular_json),
        (responses, "dynamo_to_dict"): (dynamo_to_dict, to_dict),
        (json_path, "parse"): (jsonpath_ng.ext.parse, functools.cache(jsonpath_ng.ext.parse)),
        (result_path, "parse"): (jsonpath_ng.parse, functools.cache(jsonpath_ng.parse)),
        (lambda_eval_utils, "boto_client_for"): (boto_client_for, client_for),
        (core_responses, "method_names_from_class"): (
            method_names_from_class,
            functools.cache(method_names_from_class),
        ),
        (settings, "ec2_load_default_amis"): (settings.ec2_load_default_amis, lambda: False),
        (StepFunctionsParserBackend, "_validate_definition"): (
            _moto_validate,
            staticmethod(validated_once),
        ),
        (ExecutionWorker, "_get_evaluation_entrypoint"): (_moto_entrypoint, program_of),
    }
)


def motos(name: str) -> Any:
    """moto's own ``DynamoType.<name>``, whichever is installed."""
    return PATCHES[(DynamoType, name)][0]


install = PATCHES.install
#: moto's own implementations for the rest of the test (``monkeypatch`` undoes it).
uninstall = PATCHES.uninstall
