"""Which AWS services a package's code calls, read from the code itself.

A package carries botocore's model of a service only if it is listed; a client made for a
service whose model is missing fails at run time with ``UnknownServiceError`` (the API's
readiness did, for SSM, while the list was written by hand beside the code). So the list is
read from the code a package ships: starting at its handler module, every module it
imports (at the top or inside a function) within the package's source packages, and in
each of them every call that makes a client (``client("ssm")``, ``make_client("ssm")``,
``sessions.client("drs", target, session)``, ``get_service_model("ec2")``).

A call whose service is not a string literal must pass on a parameter of the function it
is in (``def client(service): return boto3.client(service)``): the service is then named
at that function's own call sites, which are read in turn. Any other form (a service
computed at run time) cannot be read and is refused, naming the file and line, so the
list can never be silently short.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

import botocore.session

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path

#: Call names that make a client or load a service's model, with where their service is:
#: the first argument, or one of these keywords.
CLIENT_FACTORIES = frozenset(
    {"client", "make_client", "assumed_client", "get_service_model", "resource"}
)
SERVICE_KEYWORDS = ("service_name", "service")


@dataclass(frozen=True)
class Factory:
    """A callable that makes a client for the service in one of its arguments."""

    position: int
    keywords: tuple[str, ...]


BOTO_FACTORY = Factory(0, SERVICE_KEYWORDS)


class UnreadableServiceError(ValueError):
    """A client is made for a service the code does not name."""


@dataclass(frozen=True)
class ServiceCall:
    """One call that makes a client: where it is and the service it names."""

    module: str
    line: int
    service: str


def module_name(arcname: str) -> str:
    """``drs_orchestrator/adapters/ssm.py`` -> ``drs_orchestrator.adapters.ssm``."""
    parts = PurePosixPath(arcname).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _parents(name: str) -> Iterator[str]:
    parts = name.split(".")
    for end in range(1, len(parts)):
        yield ".".join(parts[:end])


def _resolve(node: ast.ImportFrom, current: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = current.split(".")
    drop = node.level - (1 if is_package else 0)
    anchor = base[: len(base) - drop] if drop else base
    return ".".join([*anchor, node.module] if node.module else anchor)


def _imports(tree: ast.AST, current: str, is_package: bool) -> Iterator[str]:
    """Every module a module may import, wherever the import statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node, current, is_package)
            yield base
            for alias in node.names:  # ``from package import module``
                yield f"{base}.{alias.name}"


def _callee(call: ast.Call) -> str:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return ""


def _service_argument(call: ast.Call, factory: Factory) -> ast.expr | None:
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    if len(positional) > factory.position and len(positional) == len(call.args):
        return call.args[factory.position]
    for keyword in call.keywords:
        if keyword.arg in factory.keywords:
            return keyword.value
    return call.args[0] if call.args else None


def _signature(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Positional parameters, ``self``/``cls`` left out: as a call site passes them."""
    names = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    arguments = function.args
    every = [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]
    return {a.arg for a in every}


def _walk(
    tree: ast.AST, factories: Mapping[str, Factory]
) -> Iterator[tuple[ast.Call, ast.expr | None, ast.FunctionDef | ast.AsyncFunctionDef | None]]:
    """Every call of a factory, with its service argument and the function it is in."""
    scopes: list[tuple[ast.AST, ast.FunctionDef | ast.AsyncFunctionDef | None]] = [(tree, None)]
    while scopes:
        node, function = scopes.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                scopes.append((child, child))
                continue
            scopes.append((child, function))
            factory = factories.get(_callee(child)) if isinstance(child, ast.Call) else None
            if isinstance(child, ast.Call) and factory:
                yield child, _service_argument(child, factory), function


def _passing_on(
    argument: ast.expr | None, function: ast.FunctionDef | ast.AsyncFunctionDef | None
) -> bool:
    return (
        isinstance(argument, ast.Name)
        and function is not None
        and argument.id in _parameters(function)
    )


def _factories(trees: Mapping[str, ast.AST]) -> dict[str, Factory]:
    """botocore's factories, and every function that passes its caller's service on to
    one (``def make(service): return boto3.client(service)``), to a fixed point."""
    factories = dict.fromkeys(CLIENT_FACTORIES, BOTO_FACTORY)
    grown = True
    while grown:
        grown = False
        for tree in trees.values():
            for _call, argument, function in _walk(tree, factories):
                if not _passing_on(argument, function) or function is None:
                    continue
                name = argument.id  # type: ignore[union-attr]
                signature = _signature(function)
                position = signature.index(name) if name in signature else len(signature)
                found = Factory(position, (name,))
                if factories.get(function.name) != found and function.name not in CLIENT_FACTORIES:
                    factories[function.name] = found
                    grown = True
    return factories


def _calls(tree: ast.AST, module: str, factories: Mapping[str, Factory]) -> Iterator[ServiceCall]:
    """The client-making calls of one module; raises on one whose service is unreadable."""
    for call, argument, function in _walk(tree, factories):
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            yield ServiceCall(module, call.lineno, argument.value)
        elif _passing_on(argument, function):
            continue  # passes its caller's service on: named at the caller's call site
        elif argument is not None:
            msg = (
                f"{module} line {call.lineno}: {_callee(call)}(...) makes a client for "
                "a service the code does not name; name it as a string literal (or pass "
                "on a parameter of the enclosing function) so the package carries its model"
            )
            raise UnreadableServiceError(msg)


@cache
def known_services() -> frozenset[str]:
    """Every service botocore has a model for."""
    loader = botocore.session.get_session().get_component("data_loader")
    return frozenset(loader.list_available_services("service-2"))


def _reached(sources: Mapping[str, bytes], handler_module: str) -> dict[str, ast.AST]:
    """The syntax tree of every module the handler module imports, transitively, among
    ``sources`` (``arcname -> source``), keyed by module name."""
    modules = {module_name(a): a for a in sources}
    trees: dict[str, ast.AST] = {}
    queue = [handler_module, *_parents(handler_module)]
    while queue:
        name = queue.pop()
        if name in trees or name not in modules:
            continue
        arcname = modules[name]
        tree = _parsed(sources[arcname], arcname)
        trees[name] = tree
        for imported in _imports(tree, name, arcname.endswith("__init__.py")):
            queue.extend([imported, *_parents(imported)])
    return trees


@lru_cache(maxsize=512)
def _parsed(source: bytes, arcname: str) -> ast.AST:
    """A module's syntax tree, by its source: the packages of one program share most of
    their modules, and a test process evaluates many programs (the trees are only read)."""
    return ast.parse(source.decode("utf-8"), filename=arcname)


def service_calls(sources: Mapping[str, Path], handler_module: str) -> list[ServiceCall]:
    """Every client-making call in the modules the handler module imports, transitively,
    among ``sources`` (``arcname -> file``, the package's own ``.py`` files)."""
    read = tuple(sorted((a, p.read_bytes()) for a, p in sources.items() if a.endswith(".py")))
    return list(_service_calls(read, handler_module))


@lru_cache(maxsize=16)
def _service_calls(
    sources: tuple[tuple[str, bytes], ...], handler_module: str
) -> tuple[ServiceCall, ...]:
    """``service_calls`` by the sources' contents: the same code is read once per process
    (each evaluation of a program packages the same four functions)."""
    trees = _reached(dict(sources), handler_module)
    factories = _factories(trees)
    found = tuple(call for name, tree in trees.items() for call in _calls(tree, name, factories))
    unknown = [c for c in found if c.service not in known_services()]
    if unknown:
        first = unknown[0]
        msg = f"{first.module} line {first.line}: botocore has no service '{first.service}'"
        raise UnreadableServiceError(msg)
    return found


def services_used(sources: Mapping[str, Path], handler_module: str) -> tuple[str, ...]:
    """The services whose models the package needs, sorted."""
    return tuple(sorted({c.service for c in service_calls(sources, handler_module)}))
