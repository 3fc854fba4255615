"""botocore's clients made without the work that is the same for every client of a service.

A test process makes thousands of clients: moto starts every mock with a new default boto3
session, each e2e world makes its own, and the runtime's handlers make one per store. Three
parts of making one are the same every time:

- **The service models**: each session read and parsed the JSON model of every service it
  made a client of (EC2's alone is megabytes). Every session shares one loader; botocore
  never changes what its loader returns.
- **The client class**: a class with a method per operation, built from the service model
  (its docstrings, its name mapping) for every client. Built once per service and loader:
  the handlers that shape it (``creating-client-class``) are botocore's own, the same in
  every session, except boto3's for S3 (its transfer methods), whose class is not kept.
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
from botocore import httpsession
from botocore.client import ClientCreator

_create_loader = botocore.session.create_loader
_create_client_class = ClientCreator._create_client_class  # noqa: SLF001
_get_ssl_context = httpsession.URLLib3Session._get_ssl_context  # noqa: SLF001
#: Services whose client class a session's own handlers may change (boto3's for S3).
_SHAPED_BY_THE_SESSION = frozenset({"s3"})


@functools.cache
def shared_loader(search_path: str | None) -> Any:
    return _create_loader(search_path)


_classes: dict[tuple[str, int], type] = {}


def client_class(self: ClientCreator, service_name: str, service_model: Any) -> type:
    """botocore's client class, built once per service and loader."""
    if service_name in _SHAPED_BY_THE_SESSION:
        return _create_client_class(self, service_name, service_model)
    key = (service_name, id(self._loader))  # noqa: SLF001
    if key not in _classes:
        _classes[key] = _create_client_class(self, service_name, service_model)
    return _classes[key]


@functools.cache
def _one_context() -> Any:
    return _get_ssl_context(None)  # type: ignore[arg-type]


def ssl_context(_self: Any) -> Any:
    return _one_context()


#: What is replaced, (class or module, attribute) -> (botocore's own, the quick one).
PATCHES: dict[tuple[Any, str], tuple[Any, Any]] = {
    (botocore.session, "create_loader"): (_create_loader, shared_loader),
    (ClientCreator, "_create_client_class"): (_create_client_class, client_class),
    (httpsession.URLLib3Session, "_get_ssl_context"): (_get_ssl_context, ssl_context),
}


def install() -> None:
    for (owner, name), (_botocore, quick) in PATCHES.items():
        setattr(owner, name, quick)


def uninstall(monkeypatch: Any) -> None:
    """botocore's own for the rest of the test (``monkeypatch`` undoes it)."""
    for (owner, name), (original, _quick) in PATCHES.items():
        monkeypatch.setattr(owner, name, original)
