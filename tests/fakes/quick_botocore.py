"""botocore's clients made without the work that is the same for every client of a service.

A test process makes thousands of clients: moto starts every mock with a new default boto3
session, each e2e world makes its own, and the runtime's handlers make one per store. Three
parts of making one are the same every time:

- **The service models**: each session read and parsed the JSON model of every service it
  made a client of (EC2's alone is megabytes). Every session shares one loader; botocore
  never changes what its loader returns.
- **The client class**: a class with a method per operation, built from the service model
  (its docstrings, its name mapping) for every client. Built once per service, loader and
  the handlers a session registers to shape it (``creating-client-class``: botocore's
  presigning methods, boto3's S3 transfer methods), which are the same in every session of
  a kind: a bare botocore session's S3 class is not a boto3 session's.
- **The endpoint rules**: each client built its service's endpoint rule set, a tree of
  objects, from the JSON the loader gives (S3's: about 50 ms). A rule set resolves
  endpoints from parameters alone, so one built from the same JSON serves every client.
- **The TLS context**: each client's connection pool made a new ``SSLContext`` and loaded
  the CA bundle into it. One serves every client; a test process reaches AWS only through
  moto or a sandbox on ``http://127.0.0.1``.

``tests/lambdas/test_quick_botocore.py`` holds a client made this way to one made without:
the same class members, the same answers. ``install`` is called once per test process
(``tests/conftest.py``).
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore import httpsession, regions
from botocore.client import ClientCreator
from botocore.endpoint_provider import EndpointProvider

from tests.fakes.patch_table import PatchTable

_create_loader = botocore.session.create_loader
_create_client_class = ClientCreator._create_client_class  # noqa: SLF001
_get_ssl_context = httpsession.URLLib3Session._get_ssl_context  # noqa: SLF001


@functools.cache
def shared_loader(search_path: str | None) -> Any:
    return _create_loader(search_path)


_classes: dict[tuple[str, int, tuple[Any, ...]], type] = {}


def _shaper(handler: Any) -> tuple[Any, ...]:
    """A handler as what it does: its function's name, and the names it closes over (boto3
    registers each of its handlers through ``lazy_call(full_name)``, a new closure per
    session)."""
    closed_over = tuple(
        cell.cell_contents
        for cell in getattr(handler, "__closure__", None) or ()
        if isinstance(cell.cell_contents, str)
    )
    return (handler.__module__, handler.__qualname__, closed_over)


def _shapers(creator: ClientCreator, service_name: str) -> tuple[Any, ...]:
    """The handlers the creator's session registered for its ``creating-client-class``."""
    emitter = creator._event_emitter  # noqa: SLF001
    emitter = getattr(emitter, "_emitter", emitter)  # under boto3's EventAliaser
    found = emitter._handlers.prefix_search(f"creating-client-class.{service_name}")  # noqa: SLF001
    return tuple(_shaper(handler) for handler in found)


def client_class(self: ClientCreator, service_name: str, service_model: Any) -> type:
    """botocore's client class, built once per service, loader and shaping handlers."""
    key = (service_name, id(self._loader), _shapers(self, service_name))  # noqa: SLF001
    if key not in _classes:
        _classes[key] = _create_client_class(self, service_name, service_model)
    return _classes[key]


#: (id of the rule set's JSON, of the partitions', excluded parameters) -> (the JSON, the
#: partitions, the provider built from them): the JSON is kept so that its id stays its own.
_providers: dict[tuple[int, int, Any], tuple[Any, Any, EndpointProvider]] = {}


def endpoint_provider(
    ruleset_data: Any, partition_data: Any, excluded_params: Any = None
) -> EndpointProvider:
    """botocore's endpoint provider, built once per rule set (the loader returns the same
    JSON for a service every time)."""
    key = (id(ruleset_data), id(partition_data), frozenset(excluded_params or ()))
    kept = _providers.get(key)
    if kept is None or kept[0] is not ruleset_data or kept[1] is not partition_data:
        provider = EndpointProvider(ruleset_data, partition_data, excluded_params)
        kept = _providers[key] = (ruleset_data, partition_data, provider)
    return kept[2]


@functools.cache
def _one_context() -> Any:
    return _get_ssl_context(None)  # type: ignore[arg-type]


def ssl_context(_self: Any) -> Any:
    return _one_context()


#: What is replaced, (class or module, attribute) -> (botocore's own, the quick one).
PATCHES = PatchTable(
    {
        (botocore.session, "create_loader"): (_create_loader, shared_loader),
        (ClientCreator, "_create_client_class"): (_create_client_class, client_class),
        (regions, "EndpointProvider"): (EndpointProvider, endpoint_provider),
        (httpsession.URLLib3Session, "_get_ssl_context"): (_get_ssl_context, ssl_context),
    }
)


install = PATCHES.install
#: botocore's own for the rest of the test (``monkeypatch`` undoes it).
uninstall = PATCHES.uninstall
