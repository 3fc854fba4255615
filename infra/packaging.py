"""Deterministic Lambda packages, and proof that each handler imports before it is deployed.

The project started from a function that died with ``No module named 'execution_finder'``
because its code was synced as loose ``.py`` files. Here a package is a zip built from the
whole source package plus its vendored pure-Python dependencies, and before the program
declares the function, a fresh Python process whose only import path is the extracted zip
(``-I -S``: no site-packages, no PYTHONPATH, no current directory) imports the handler
module, resolves the handler function and creates a client for every AWS service the code
uses. If any of that fails, the program stops and names the function, the handler and the
error.

Builds are byte-for-byte reproducible on one toolchain: entries sorted, timestamps and
permissions fixed, no ``__pycache__``, ``.pyc`` or tests, install-specific metadata dropped.
The zip's sha256 names its S3 key, so an unchanged build is an unchanged resource.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata as metadata
import io
import json

# subprocess runs only this interpreter, for the handler proof.
import subprocess  # nosec B404
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import botocore
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from infra import aws_services
from infra.aws_services import UnreadableServiceError, services_used
from infra.packaging_errors import HandlerProofError, PackagingError
from infra.runtime_python import (
    LAMBDA_PYTHON_VERSION,
    BytecodeError,
    bytecode,
    interpreter_identity,
    runtime_interpreter,
)
from infra.turns import taking_turns

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
LAMBDA_SOURCE_ROOT = REPO_ROOT / "lambdas"
BUILD_DIR = REPO_ROOT / "build" / "lambda"

#: The Lambda platform dependencies are resolved for (PEP 508 marker environment).
LAMBDA_MARKER_ENVIRONMENT = {
    "python_version": LAMBDA_PYTHON_VERSION,
    "python_full_version": f"{LAMBDA_PYTHON_VERSION}.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "extra": "",
}

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
EXCLUDED_DIRS = {"__pycache__", "tests", "test"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}
#: Metadata files that describe one installation (paths, installer), not the code.
EXCLUDED_METADATA = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}
#: Never imported by any function: Powertools' Swagger UI assets (served only by
#: ``enable_swagger``, which the API does not call; ~17 % of every package). Its Python
#: modules stay, so every import still resolves.
EXCLUDED_EVERYWHERE = (
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui-bundle.min.js",
    "aws_lambda_powertools/event_handler/openapi/swagger_ui/swagger-ui.min.css",
)
PROOF_TIMEOUT_SECONDS = 120
#: Placeholder credentials for the proof: boto3 clients are created, never called.
PROOF_CREDENTIAL = "proof"


@dataclass(frozen=True)
class PackageSpec:
    """What goes into one function's package."""

    function: str
    handler: str
    source_packages: tuple[str, ...] = ("drs_orchestrator",)
    requirements: tuple[str, ...] = ("aws-lambda-powertools", "boto3")
    source_root: Path = LAMBDA_SOURCE_ROOT
    #: Paths (or directories, ending in ``/``) the function cannot import, left out of its
    #: package; the proof imports every module of the source packages that is left.
    excluded: tuple[str, ...] = ()

    def leaves_out(self, path: PurePosixPath) -> bool:
        text = path.as_posix()
        return any(
            text == item or (item.endswith("/") and text.startswith(item))
            for item in (*EXCLUDED_EVERYWHERE, *self.excluded)
        )


@dataclass(frozen=True)
class BuiltPackage:
    spec: PackageSpec
    path: Path
    sha256: str
    size: int
    entries: int
    #: The runtime's interpreter, which proves the package (and compiled its bytecode when
    #: asked), or None when this machine has none: proven with the interpreter at hand.
    interpreter: str | None = None
    #: Whether the zip carries ``.pyc`` files compiled for the runtime.
    bytecode: bool = False
    #: The services the code calls (``infra.aws_services``), whose botocore models the zip
    #: carries; the proof creates a client for each.
    aws_services: tuple[str, ...] = ()

    @property
    def base64_sha256(self) -> str:
        """The form Lambda's ``source_code_hash`` and CodeSha256 use."""
        return base64.b64encode(bytes.fromhex(self.sha256)).decode()


def _excluded(path: PurePosixPath) -> bool:
    return (
        any(part in EXCLUDED_DIRS for part in path.parts)
        or path.suffix in EXCLUDED_SUFFIXES
        or (path.parts[0].endswith(".dist-info") and path.name in EXCLUDED_METADATA)
    )


def _source_files(spec: PackageSpec) -> Iterator[tuple[str, Path]]:
    for package in spec.source_packages:
        root = spec.source_root / package
        if not (root / "__init__.py").is_file():
            msg = f"{spec.function}: source package '{package}' not found at {root}"
            raise PackagingError(msg)
        for file in sorted(root.rglob("*")):
            relative = PurePosixPath(file.relative_to(spec.source_root).as_posix())
            if file.is_file() and not _excluded(relative) and not spec.leaves_out(relative):
                yield str(relative), file


def requirement_closure(names: Iterable[str]) -> list[metadata.Distribution]:
    """The installed distributions ``names`` need on Lambda, dependencies included.

    Versions are those of the locked environment (``uv.lock``); markers are evaluated for
    the Lambda platform, so dependencies only older Pythons need are left out.
    """
    seen: dict[str, metadata.Distribution] = {}
    queue = list(names)
    while queue:
        name = canonicalize_name(queue.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError as exc:
            msg = f"runtime dependency '{name}' is not installed; run 'uv sync'"
            raise PackagingError(msg) from exc
        seen[name] = dist
        for raw in dist.requires or []:
            requirement = Requirement(raw)
            if requirement.marker is None or requirement.marker.evaluate(LAMBDA_MARKER_ENVIRONMENT):
                queue.append(requirement.name)
    return [seen[name] for name in sorted(seen)]


def _is_pure(dist: metadata.Distribution) -> bool:
    wheel = dist.read_text("WHEEL") or ""
    return "Root-Is-Purelib: true" in wheel


def _dependency_files(spec: PackageSpec, services: tuple[str, ...]) -> Iterator[tuple[str, Path]]:
    for dist in requirement_closure(spec.requirements):
        name = dist.metadata["Name"]
        if not _is_pure(dist):
            msg = (
                f"{spec.function}: dependency '{name}' is not pure Python; Lambda packages "
                "vendor pure-Python dependencies only, so they run on any Lambda architecture"
            )
            raise PackagingError(msg)
        files = [PurePosixPath(file.as_posix()) for file in dist.files or []]
        newest = _newest_model_versions(files)
        for file, relative in zip(dist.files or [], files, strict=True):
            if relative.parts[0] == ".." or _excluded(relative) or spec.leaves_out(relative):
                continue  # scripts installed outside site-packages, caches, left out
            if _unused_botocore_model(relative, services, newest):
                continue
            yield str(relative), Path(str(dist.locate_file(file)))


def _newest_model_versions(files: list[PurePosixPath]) -> dict[str, str]:
    """Each service's newest API version among botocore's models (``data/<service>/<version>``):
    the one botocore loads when no version is asked for, as the code never does."""
    newest: dict[str, str] = {}
    for path in files:
        parts = path.parts
        if len(parts) > 4 and parts[0] == "botocore" and parts[1] == "data":
            newest[parts[2]] = max(newest.get(parts[2], ""), parts[3])
    return newest


def _unused_botocore_model(
    path: PurePosixPath, services: tuple[str, ...], newest: dict[str, str]
) -> bool:
    """botocore ships models for every AWS service (tens of MB), some in several API
    versions; keep the newest of the ones the code calls, plus the shared files (endpoints,
    partitions, retry rules) at the data root."""
    parts = path.parts
    if len(parts) <= 3 or parts[0] != "botocore" or parts[1] != "data":
        return False
    return parts[2] not in services or (len(parts) > 4 and parts[3] != newest.get(parts[2]))


def _package_files(
    spec: PackageSpec, out_dir: Path | None = None
) -> tuple[dict[str, Path], tuple[str, ...]]:
    """Every file of the package by its name in the zip, and the AWS services its code
    calls (whose models it carries); with ``out_dir``, the services are remembered there
    (``_services``)."""
    sources = dict(_source_files(spec))
    services = _services(spec, sources, out_dir)
    files = dict(_dependency_files(spec, services))
    for arcname, path in sources.items():
        if arcname in files:
            msg = f"{spec.function}: '{arcname}' is both source and a vendored dependency"
            raise PackagingError(msg)
        files[arcname] = path
    return files, services


@functools.cache
def _scanner_digest() -> str:
    """The scanner's own source: a change of how services are read reads them again."""
    return hashlib.sha256(Path(aws_services.__file__).read_bytes()).hexdigest()


def _described(files: dict[str, Path]) -> list[str]:
    """Files as the file system describes them (name, size, mtime), in name order: what a
    remembered answer about them is keyed by."""
    lines = []
    for arcname in sorted(files):
        stat = files[arcname].stat()
        lines.append(f"{arcname}\t{stat.st_size}\t{stat.st_mtime_ns}")
    return lines


def _services(spec: PackageSpec, sources: dict[str, Path], out_dir: Path | None) -> tuple[str, ...]:
    """The services the package's code calls (``infra.aws_services``). The scan parses
    every module the handler reaches: about half a second for the four functions, in every
    process that evaluates the program (each sandbox, ``drsctl plan``, ``pulumi preview``).
    ``<out_dir>/services/<key>`` remembers its answer by what it depends on: the sources as
    the file system describes them (``_described``, as ``_inputs_key``), the handler,
    botocore's version (the services it knows) and the scanner. Only answers are
    remembered; code the scanner refuses is refused every time."""
    handler_module = spec.handler.rpartition(".")[0]
    lines = [handler_module, botocore.__version__, _scanner_digest(), *_described(sources)]
    remembered = (
        out_dir / "services" / hashlib.sha256("\n".join(lines).encode()).hexdigest()
        if out_dir is not None
        else None
    )
    if remembered is not None and remembered.exists():
        return tuple(remembered.read_text().split())
    try:
        services = services_used(sources, handler_module)
    except UnreadableServiceError as exc:
        msg = f"{spec.function}: {exc}"
        raise PackagingError(msg) from exc
    if remembered is not None:
        write_atomically(remembered, (" ".join(services) + "\n").encode())
    return services


def build_zip(spec: PackageSpec) -> tuple[bytes, int]:
    """The package's zip bytes and entry count (sources only); the same inputs always give
    the same bytes."""
    return _zip(_package_files(spec)[0])


def _zip(files: dict[str, Path], interpreter: str | None = None) -> tuple[bytes, int]:
    contents: dict[str, bytes] = {a: p.read_bytes() for a, p in files.items()}
    if interpreter:
        try:
            contents.update(bytecode(files, interpreter))
        except BytecodeError as exc:
            raise PackagingError(str(exc)) from exc
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for arcname in sorted(contents):
            info = zipfile.ZipInfo(arcname, date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever machine builds it
            archive.writestr(info, contents[arcname], compresslevel=6)
    return buffer.getvalue(), len(contents)


def _inputs_key(spec: PackageSpec, files: dict[str, Path], interpreter: str | None) -> str:
    """The package's inputs as the file system describes them (name, size, mtime) and the
    interpreter compiling it: when they are unchanged, so is the zip, and it need not be
    built again."""
    lines = [repr(spec), interpreter_identity(interpreter), *_described(files)]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``path`` so no reader ever sees it half written, even when several processes
    (test workers, two plans) build the same package at once: each writes a file of its own
    and renames it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{path.name}.", delete=False) as f:
        f.write(data)
    Path(f.name).replace(path)


def build_package(
    spec: PackageSpec, out_dir: Path = BUILD_DIR, *, compile_bytecode: bool = False
) -> BuiltPackage:
    """Build the zip and write it to ``out_dir`` under its content hash; proven later with
    the runtime's interpreter when this machine has it (``runtime_interpreter``).

    ``compile_bytecode`` adds ``.pyc`` files compiled by that interpreter. Off by default:
    measured (``benchmarks/api_import.py``), they do not make a handler's cold import
    measurably faster and more than double the package.

    ``<out_dir>/inputs/<key>`` remembers which zip the same inputs made last time (the
    build is reproducible), so an unchanged tree reuses it instead of compressing again."""
    files, services = _package_files(spec, out_dir)
    interpreter = runtime_interpreter()
    compiler = interpreter if compile_bytecode else None
    out_dir.mkdir(parents=True, exist_ok=True)
    remembered = out_dir / "inputs" / _inputs_key(spec, files, compiler)
    if remembered.exists():
        digest, entries = remembered.read_text().split()
        path = out_dir / f"{spec.function}-{digest}.zip"
        if path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == digest:
            size = path.stat().st_size
            return BuiltPackage(
                spec, path, digest, size, int(entries), interpreter, bool(compiler), services
            )
    data, count = _zip(files, compiler)
    digest = hashlib.sha256(data).hexdigest()
    path = out_dir / f"{spec.function}-{digest}.zip"
    if not path.exists():
        write_atomically(path, data)
    write_atomically(remembered, f"{digest} {count}\n".encode())
    return BuiltPackage(spec, path, digest, len(data), count, interpreter, bool(compiler), services)


_PROOF_SCRIPT = r"""
import importlib, json, pathlib, sys
root, handler, services, region = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]
packages = json.loads(sys.argv[5]) if len(sys.argv) > 5 else []
sys.path.insert(0, root)
module_name, _, function_name = handler.rpartition(".")
def fail(stage, error):
    print(json.dumps({"stage": stage, "error": error}))
    sys.exit(1)
if not module_name:
    fail("handler", "handler must be '<module>.<function>'")
try:
    module = importlib.import_module(module_name)
except BaseException as exc:
    fail("import", f"{type(exc).__name__}: {exc}")
function = getattr(module, function_name, None)
if not callable(function):
    fail("resolve", f"module '{module_name}' has no callable '{function_name}'")
if not getattr(module, "__file__", "").startswith(root):
    fail("import", f"module '{module_name}' was imported from outside the package")
for package in packages:
    base = pathlib.Path(root)
    for file in sorted((base / package).rglob("*.py")):
        parts = file.relative_to(base).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        try:
            importlib.import_module(name)
        except BaseException as exc:
            fail("modules", f"{name} does not import from the package: {type(exc).__name__}: {exc}")
for service in services:
    try:
        import boto3
        boto3.client(service, region_name=region)
    except BaseException as exc:
        fail("client", f"cannot create a '{service}' client: {type(exc).__name__}: {exc}")
print(json.dumps({"stage": "ok"}))
"""


def prove_handler(package: BuiltPackage, region: str = "us-east-1") -> None:
    """Import the handler from the package alone, in a fresh interpreter, or raise."""
    spec = package.spec
    prove_archive(
        package.path,
        spec.function,
        spec.handler,
        package.aws_services,
        region,
        spec.source_packages,
        package.interpreter,
    )


def _services_in_archive(root: Path, function: str, handler: str) -> tuple[str, ...]:
    """The services the archive's own code calls (its handler's top-level package, never
    the vendored libraries), read as the build reads them (``infra.aws_services``)."""
    top = handler.split(".")[0]
    files = {
        file.relative_to(root).as_posix(): file
        for file in [*root.glob(f"{top}.py"), *root.joinpath(top).rglob("*.py")]
    }
    try:
        return services_used(files, handler.rpartition(".")[0])
    except UnreadableServiceError as exc:
        msg = f"function '{function}': handler '{handler}' (services): {exc}"
        raise HandlerProofError(msg) from exc


def prove_archive(
    path: Path,
    function: str,
    handler: str,
    aws_services: Iterable[str] = (),
    region: str = "us-east-1",
    source_packages: Iterable[str] = (),
    interpreter: str | None = None,
) -> None:
    """Prove a Lambda zip (built here, or downloaded from a deployed function) can import
    ``handler`` — and every module of ``source_packages`` it holds — with nothing but its
    own contents, as Lambda will, and make a client of every AWS service its code calls
    (read from the code in the zip, beside any ``aws_services`` named); raise if it cannot."""
    with tempfile.TemporaryDirectory(prefix=f"prove-{function}-") as root:
        with zipfile.ZipFile(path) as archive:
            archive.extractall(root)  # noqa: S202 - our own archive, built just now
        called = _services_in_archive(Path(root), function, handler)
        aws_services = sorted({*aws_services, *called})
        # Fixed interpreter and arguments; nothing comes from outside the program.
        result = subprocess.run(  # noqa: S603  # nosec B603
            [
                interpreter or sys.executable,
                "-I",
                "-S",
                "-c",
                _PROOF_SCRIPT,
                root,
                handler,
                json.dumps(list(aws_services)),
                region,
                json.dumps(list(source_packages)),
            ],
            capture_output=True,
            text=True,
            timeout=PROOF_TIMEOUT_SECONDS,
            env={
                "AWS_ACCESS_KEY_ID": PROOF_CREDENTIAL,
                "AWS_SECRET_ACCESS_KEY": PROOF_CREDENTIAL,
                "AWS_DEFAULT_REGION": region,
                "PATH": "/usr/bin:/bin",
            },
            check=False,
        )
    last_line = (result.stdout.strip().splitlines() or [""])[-1]
    try:
        outcome = json.loads(last_line)
    except json.JSONDecodeError:
        outcome = {"stage": "crash", "error": (result.stderr or result.stdout).strip()[-2000:]}
    if result.returncode != 0 or outcome.get("stage") != "ok":
        msg = (
            f"function '{function}': handler '{handler}' does not load from its "
            f"package {path.name} ({outcome.get('stage')}): {outcome.get('error')}"
        )
        raise HandlerProofError(msg)


def _proof_key(
    sha256: str,
    handler: str,
    aws_services: Iterable[str],
    source_packages: Iterable[str],
    region: str,
    interpreter: str | None,
) -> str:
    """What a proof depends on: the zip's bytes, what is proven of it (handler, services,
    source packages, region), the proof itself and the interpreter that runs it."""
    parts = [
        sha256,
        handler,
        ",".join(aws_services),
        ",".join(source_packages),
        region,
        hashlib.sha256(_PROOF_SCRIPT.encode()).hexdigest(),
        interpreter_identity(interpreter or sys.executable),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


#: Proof keys of the archives proven in this process (``prove_archive_once``).
_PROVEN_ARCHIVES: set[str] = set()


def prove_archive_once(
    path: Path,
    function: str,
    handler: str,
    aws_services: Iterable[str] = (),
    region: str = "us-east-1",
    interpreter: str | None = None,
) -> None:
    """``prove_archive``, skipped when the same bytes were already proven the same way in
    this process: the proof is deterministic in them, so a second run can only agree.
    Only successes are remembered; a failing archive is proven (and fails) every time."""
    services = tuple(aws_services)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    key = _proof_key(digest, handler, services, (), region, interpreter)
    if key in _PROVEN_ARCHIVES:
        return
    prove_archive(path, function, handler, services, region, interpreter=interpreter)
    _PROVEN_ARCHIVES.add(key)


_BUILT: dict[tuple[PackageSpec, Path], BuiltPackage] = {}


def proof_key(package: BuiltPackage, region: str = "us-east-1") -> str:
    """The key ``build_and_prove`` remembers a package's proof under (``_proof_key``)."""
    spec = package.spec
    return _proof_key(
        package.sha256,
        spec.handler,
        package.aws_services,
        spec.source_packages,
        region,
        package.interpreter,
    )


def build_and_prove(spec: PackageSpec, out_dir: Path = BUILD_DIR) -> BuiltPackage:
    """Build and prove once per process; every stack evaluated in it reuses the result.

    A proof that passed is remembered on disk (``<out_dir>/proofs/<key>``) by
    ``proof_key``: the zip is byte-reproducible, so the same key is the same proof and an
    unchanged tree skips it; any change of code, dependency, handler or interpreter proves
    again. Only successes are remembered."""
    key = (spec, out_dir)
    if key not in _BUILT:
        # Builders starting together (test workers, sandboxes, two plans) take turns: the
        # first builds and proves, the others then find both done.
        with taking_turns(out_dir / "locks" / f"{spec.function}.lock"):
            package = build_package(spec, out_dir)
            proven = out_dir / "proofs" / proof_key(package)
            if not proven.exists():
                prove_handler(package)
                write_atomically(proven, f"{spec.function} {package.sha256}\n".encode())
        _BUILT[key] = package
    return _BUILT[key]
