"""Lambda packages: reproducible bytes, only what belongs, and handlers proven to import."""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import pytest

from infra import packaging as packaging_module
from infra.functions import API, EXECUTION_FINDER
from infra.offline import evaluate
from infra.packaging import (
    HandlerProofError,
    PackagingError,
    build_package,
    build_zip,
    prove_handler,
    runtime_interpreter,
)

if TYPE_CHECKING:
    from infra import packaging

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def finder_zip(tmp_path_factory: pytest.TempPathFactory) -> packaging.BuiltPackage:
    return build_package(EXECUTION_FINDER, tmp_path_factory.mktemp("build"))


def test_two_builds_are_byte_identical(tmp_path: Path, finder_zip: packaging.BuiltPackage) -> None:
    again = build_package(EXECUTION_FINDER, tmp_path)
    assert again.path.read_bytes() == finder_zip.path.read_bytes()
    assert again.sha256 == finder_zip.sha256
    assert again.path.name == f"execution-finder-{again.sha256}.zip"


def test_zip_entries_are_sorted_with_fixed_metadata(finder_zip: packaging.BuiltPackage) -> None:
    with zipfile.ZipFile(finder_zip.path) as archive:
        infos = archive.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert not [n for n in names if "/tests/" in n]
    # No bytecode from the build machine; none at all unless asked (see below).
    assert not [n for n in names if n.endswith((".pyc", ".pyo")) or "__pycache__" in n]


def test_zip_holds_the_whole_source_package_and_its_dependencies(
    finder_zip: packaging.BuiltPackage,
) -> None:
    with zipfile.ZipFile(finder_zip.path) as archive:
        names = set(archive.namelist())
    source = Path("lambdas/drs_orchestrator")
    everything = {
        p.relative_to("lambdas").as_posix()
        for p in source.rglob("*.py")
        if "__pycache__" not in p.parts
    }
    # The whole source package but what only the API, the wave runner or the readiness
    # function imports.
    left_out = {n for n in everything if EXECUTION_FINDER.leaves_out(PurePosixPath(n))}
    assert left_out == {
        "drs_orchestrator/api/__init__.py",
        "drs_orchestrator/api/bodies.py",
        "drs_orchestrator/api/schemas.py",
        "drs_orchestrator/handlers/api.py",
        "drs_orchestrator/handlers/readiness.py",
        "drs_orchestrator/handlers/wave_runner.py",
    }
    assert everything - left_out <= names
    assert not left_out & names
    assert "drs_orchestrator/handlers/execution_finder.py" in names
    for top in (
        "aws_lambda_powertools/__init__.py",
        "boto3/__init__.py",
        "botocore/__init__.py",
        "jmespath/__init__.py",
        "dateutil/__init__.py",
        "urllib3/__init__.py",
    ):
        assert top in names, top
    assert any(n.startswith("botocore/data/drs/") for n in names)
    assert any(n.startswith("botocore/data/dynamodb/") for n in names)
    # Models of the services the finder's code calls, read from it, and no other: the
    # Lambda API is called by the API's code only. Of each, the newest API version alone
    # (EC2 ships eight; botocore loads the newest).
    models = {PurePosixPath(n).parts[2] for n in names if re.match(r"botocore/data/[^/]+/", n)}
    assert models == set(finder_zip.aws_services)
    assert {"drs", "dynamodb", "s3", "sns", "stepfunctions", "sts"} <= models
    assert "lambda" not in models, "unused models pruned"
    ec2_versions = {PurePosixPath(n).parts[3] for n in names if n.startswith("botocore/data/ec2/")}
    assert ec2_versions == {"2016-11-15"}
    assert "botocore/data/endpoints.json" in names


def test_the_real_handler_is_proven(finder_zip: packaging.BuiltPackage) -> None:
    prove_handler(finder_zip)  # raises if the handler does not import from the zip alone


def _copy_source(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    shutil.copytree("lambdas", root, ignore=shutil.ignore_patterns("__pycache__"))
    return root


def test_loose_files_reproduce_the_original_failure(tmp_path: Path) -> None:
    """The incident: execution_finder.py synced as a loose file, handler 'execution_finder.handler'."""
    root = _copy_source(tmp_path)
    spec = replace(EXECUTION_FINDER, handler="execution_finder.handler", source_root=root)
    package = build_package(spec, tmp_path / "build")
    with pytest.raises(HandlerProofError) as caught:
        prove_handler(package)
    message = str(caught.value)
    assert "function 'execution-finder'" in message
    assert "handler 'execution_finder.handler'" in message
    assert "No module named 'execution_finder'" in message


def test_a_handler_module_missing_from_the_zip_stops_the_program(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _copy_source(tmp_path)
    (root / "drs_orchestrator" / "handlers" / "execution_finder.py").unlink()
    broken = replace(EXECUTION_FINDER, source_root=root)
    monkeypatch.setattr("infra.components.orchestrator.EXECUTION_FINDER", broken)
    with pytest.raises(HandlerProofError) as caught:
        evaluate("dev")
    message = str(caught.value)
    assert "function 'execution-finder'" in message
    assert "handler 'drs_orchestrator.handlers.execution_finder.handler'" in message
    assert "No module named 'drs_orchestrator.handlers.execution_finder'" in message
    declared = {r.type for r in caught.value.evaluation.resources}
    assert "aws:lambda/function:Function" not in declared


def test_a_missing_dependency_fails_the_proof(tmp_path: Path) -> None:
    spec = replace(EXECUTION_FINDER, requirements=("boto3",))
    with pytest.raises(HandlerProofError, match="No module named 'aws_lambda_powertools'"):
        prove_handler(build_package(spec, tmp_path))


def test_a_handler_that_is_not_a_function_fails_the_proof(tmp_path: Path) -> None:
    spec = replace(EXECUTION_FINDER, handler="drs_orchestrator.handlers.execution_finder.logger_x")
    with pytest.raises(HandlerProofError, match="has no callable 'logger_x'"):
        prove_handler(build_package(spec, tmp_path))


def test_compiled_dependencies_are_refused() -> None:
    spec = replace(EXECUTION_FINDER, requirements=("grpcio",))
    with pytest.raises(PackagingError, match="'grpcio' is not pure Python"):
        build_zip(spec)


def test_a_source_package_that_does_not_exist_is_named(tmp_path: Path) -> None:
    spec = replace(EXECUTION_FINDER, source_root=tmp_path)
    with pytest.raises(PackagingError, match="source package 'drs_orchestrator' not found"):
        build_zip(spec)


def test_packages_carry_only_what_their_function_imports(tmp_path: Path) -> None:
    finder = build_package(EXECUTION_FINDER, tmp_path / "finder")
    api = build_package(API, tmp_path / "api")
    with zipfile.ZipFile(finder.path) as archive:
        finder_names = set(archive.namelist())
    with zipfile.ZipFile(api.path) as archive:
        api_names = set(archive.namelist())
    assert not [n for n in finder_names if n.startswith("aws_lambda_powertools/event_handler/")]
    assert "aws_lambda_powertools/logging/logger.py" in finder_names
    assert "aws_lambda_powertools/event_handler/api_gateway.py" in api_names
    assert not [
        n for n in api_names | finder_names if n.endswith(("swagger-ui-bundle.min.js", ".css"))
    ]
    assert "drs_orchestrator/handlers/api.py" in api_names


def test_a_module_needing_what_was_left_out_fails_the_proof(tmp_path: Path) -> None:
    """Every module of the source package the zip holds is imported by the proof, so leaving
    out a dependency a remaining module needs cannot go unnoticed."""
    root = _copy_source(tmp_path)
    (root / "drs_orchestrator" / "services" / "uses_the_api.py").write_text(
        "from aws_lambda_powertools.event_handler import APIGatewayRestResolver\n"
    )
    spec = replace(EXECUTION_FINDER, source_root=root)
    with pytest.raises(HandlerProofError) as caught:
        prove_handler(build_package(spec, tmp_path / "build"))
    assert "(modules)" in str(caught.value)
    assert "drs_orchestrator.services.uses_the_api does not import" in str(caught.value)


def test_an_unchanged_package_is_neither_compressed_nor_proven_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import packaging as module

    root = _copy_source(tmp_path)
    spec = replace(EXECUTION_FINDER, source_root=root)
    proofs: list[str] = []
    zips: list[int] = []
    real_prove, real_zip = module.prove_handler, module._zip
    monkeypatch.setattr(module, "prove_handler", lambda p: (proofs.append(p.sha256), real_prove(p)))
    monkeypatch.setattr(
        module,
        "_zip",
        lambda files, interpreter=None: (zips.append(1), real_zip(files, interpreter))[1],
    )
    out = tmp_path / "build"

    def fresh_process_build() -> packaging.BuiltPackage:
        module._BUILT.clear()  # as a new process would start
        return module.build_and_prove(spec, out)

    first = fresh_process_build()
    again = fresh_process_build()
    assert again.sha256 == first.sha256 and (len(proofs), len(zips)) == (1, 1)
    # Any change of the code makes a new zip, and a new zip is proven again.
    (root / "drs_orchestrator" / "domain" / "states.py").write_text(
        (root / "drs_orchestrator" / "domain" / "states.py").read_text() + "\n# changed\n"
    )
    changed = fresh_process_build()
    assert changed.sha256 != first.sha256 and (len(proofs), len(zips)) == (2, 2)
    # A zip altered in the build directory is not reused.
    changed.path.write_bytes(b"not a zip")
    rebuilt = fresh_process_build()
    assert rebuilt.sha256 == changed.sha256 and len(zips) == 3


def test_builders_at_once_take_turns_and_prove_a_package_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three builders starting together (test workers, sandboxes) build and prove the same
    package once between them: the others wait for it and find it done."""
    import threading

    from infra import packaging as module

    spec = replace(EXECUTION_FINDER, source_root=_copy_source(tmp_path))
    proofs: list[str] = []
    real_prove = module.prove_handler
    monkeypatch.setattr(module, "prove_handler", lambda p: (proofs.append(p.sha256), real_prove(p)))
    out = tmp_path / "build"
    start = threading.Barrier(3)
    built: list[str] = []

    def builder() -> None:
        start.wait()  # all three find nothing built in memory or on disk
        built.append(module.build_and_prove(spec, out).sha256)

    threads = [threading.Thread(target=builder) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 3 and len(set(built)) == 1
    assert proofs == [built[0]], "the package was proven more than once"


def test_a_failed_proof_is_not_remembered(tmp_path: Path) -> None:
    from infra import packaging as module

    root = _copy_source(tmp_path)
    (root / "drs_orchestrator" / "handlers" / "execution_finder.py").write_text(
        "raise ValueError\n"
    )
    spec = replace(EXECUTION_FINDER, source_root=root)
    for _ in range(2):
        module._BUILT.clear()
        with pytest.raises(HandlerProofError, match="ValueError"):
            module.build_and_prove(spec, tmp_path / "build")
    assert not list((tmp_path / "build" / "proofs").glob("*"))


@pytest.mark.skipif(runtime_interpreter() is None, reason="no Python 3.12 on this machine")
def test_packages_are_proven_with_the_runtimes_python_and_can_carry_its_bytecode(
    finder_zip: packaging.BuiltPackage, tmp_path: Path
) -> None:
    """The proof runs the runtime's Python version, the one Lambda runs. Asked for, the
    package carries .pyc files compiled by it: one per module, hash-based (Lambda cannot
    write them and nothing is checked against an mtime), the same bytes every time, and
    loaded by the proof."""
    assert finder_zip.interpreter == runtime_interpreter() and not finder_zip.bytecode
    compiled = build_package(EXECUTION_FINDER, tmp_path, compile_bytecode=True)
    again = build_package(EXECUTION_FINDER, tmp_path / "again", compile_bytecode=True)
    assert compiled.bytecode and again.sha256 == compiled.sha256
    with zipfile.ZipFile(compiled.path) as archive:
        names = archive.namelist()
        pyc = archive.read("drs_orchestrator/__pycache__/environment.cpython-312.pyc")
    modules = [n for n in names if n.endswith(".py")]
    caches = [n for n in names if n.endswith(".pyc")]
    assert len(caches) == len(modules)
    assert all(re.fullmatch(r"(.*/)?__pycache__/\w+\.cpython-312\.pyc", n) for n in caches)
    assert int.from_bytes(pyc[4:8], "little") == 0b01, "hash-based, unchecked"
    prove_handler(compiled)


def test_a_package_without_a_model_its_code_calls_fails_the_proof(tmp_path: Path) -> None:
    """The API's readiness answered 500 (``UnknownServiceError``) because its package left
    out SSM's model from a list written by hand. The proof reads the services from the code
    in the zip, so a zip without a model its code calls cannot be proven."""
    api = build_package(API, tmp_path / "api")
    assert {"ssm", "sns"} <= set(api.aws_services), "the models the hand-written list lacked"
    stripped = tmp_path / "stripped.zip"
    with zipfile.ZipFile(api.path) as source, zipfile.ZipFile(stripped, "w") as target:
        for info in source.infolist():
            if not info.filename.startswith("botocore/data/ssm/"):
                target.writestr(info, source.read(info))
    with pytest.raises(HandlerProofError) as caught:
        packaging_module.prove_archive(stripped, "api", API.handler)
    assert "(client): cannot create a 'ssm' client: UnknownServiceError" in str(caught.value)


def test_a_client_for_a_service_the_code_does_not_name_stops_the_build(tmp_path: Path) -> None:
    root = _copy_source(tmp_path)
    adapter = root / "drs_orchestrator" / "adapters" / "notifications.py"
    adapter.write_text(
        adapter.read_text() + "\n\ndef any_client(name_of):\n    return make_client(name_of())\n"
    )
    with pytest.raises(PackagingError) as caught:
        build_package(replace(EXECUTION_FINDER, source_root=root), tmp_path / "build")
    assert str(caught.value).startswith(
        "execution-finder: drs_orchestrator.adapters.notifications line "
    )
    assert "make_client(...) makes a client for a service the code does not name" in str(
        caught.value
    )


def test_a_service_a_new_module_calls_gets_its_model(tmp_path: Path) -> None:
    root = _copy_source(tmp_path)
    (root / "drs_orchestrator" / "adapters" / "keys.py").write_text(
        "from drs_orchestrator.adapters.clients import client as make_client\n\n"
        "def keys():\n    return make_client('kms')\n"
    )
    handler = root / "drs_orchestrator" / "handlers" / "execution_finder.py"
    handler.write_text(
        handler.read_text() + "\nfrom drs_orchestrator.adapters import keys  # noqa\n"
    )
    package = build_package(replace(EXECUTION_FINDER, source_root=root), tmp_path / "build")
    assert "kms" in package.aws_services
    with zipfile.ZipFile(package.path) as archive:
        assert any(n.startswith("botocore/data/kms/") for n in archive.namelist())
    prove_handler(package)


def test_an_unchanged_tree_reads_its_services_without_scanning_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build_package(EXECUTION_FINDER, tmp_path)
    assert {"drs", "dynamodb", "sts"} <= set(first.aws_services)

    def scanned(*_args: object) -> tuple[str, ...]:
        raise AssertionError("scanned again")

    monkeypatch.setattr(packaging_module, "services_used", scanned)
    again = build_package(EXECUTION_FINDER, tmp_path)
    assert again.aws_services == first.aws_services
    assert again.sha256 == first.sha256
    # Elsewhere (another build directory) nothing is remembered: the scan runs.
    with pytest.raises(AssertionError, match="scanned again"):
        build_package(EXECUTION_FINDER, tmp_path / "elsewhere")


def test_a_changed_module_is_scanned_again(tmp_path: Path) -> None:
    root = _copy_source(tmp_path)
    spec = replace(EXECUTION_FINDER, source_root=root)
    before = build_package(spec, tmp_path / "build")
    assert "kms" not in before.aws_services
    adapter = root / "drs_orchestrator" / "adapters" / "notifications.py"
    adapter.write_text(adapter.read_text() + "\n\ndef keys():\n    return make_client('kms')\n")
    after = build_package(spec, tmp_path / "build")
    assert "kms" in after.aws_services
    with zipfile.ZipFile(after.path) as archive:
        assert any(n.startswith("botocore/data/kms/") for n in archive.namelist())


def test_code_the_scanner_refuses_is_refused_every_time(tmp_path: Path) -> None:
    root = _copy_source(tmp_path)
    adapter = root / "drs_orchestrator" / "adapters" / "notifications.py"
    adapter.write_text(
        adapter.read_text() + "\n\ndef any_client(name_of):\n    return make_client(name_of())\n"
    )
    spec = replace(EXECUTION_FINDER, source_root=root)
    for _ in range(2):
        with pytest.raises(PackagingError, match="does not name"):
            build_package(spec, tmp_path / "build")
    assert not (tmp_path / "build" / "services").exists()
