"""The sandbox's Lambda execution environments run a function from its package alone."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from drsctl.sandbox.runtime import LambdaRuntime
from infra.functions import EXECUTION_FINDER
from infra.packaging import build_package
from tests.patience import PATIENCE

if TYPE_CHECKING:
    from collections.abc import Iterator


@dataclass
class Function:
    """The attributes of moto's LambdaFunction the runtime reads."""

    function_name: str
    handler: str
    code_bytes: bytes
    environment_vars: dict[str, str]
    function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:f"
    code_sha_256: str = "sha"
    memory_size: int = 128
    timeout: int = 10


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[LambdaRuntime]:
    built = LambdaRuntime(tmp_path, lambda name: {"SANDBOX_FUNCTION": name})
    yield built
    built.stop()


def test_raw_py_files_fail_as_they_did_on_lambda(runtime: LambdaRuntime) -> None:
    """The incident that started the project: .py files synced without their package."""
    function = Function(
        "finder",
        "drs_orchestrator.handlers.execution_finder.handler",
        zipped({"execution_finder.py": "def handler(event, context):\n    return 1\n"}),
        {},
    )
    result = runtime.invoke(function, b"{}")
    error = json.loads(result.payload)
    assert result.failed
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == (
        "Unable to import module 'drs_orchestrator.handlers.execution_finder': "
        "No module named 'drs_orchestrator'"
    )


def test_a_handler_sees_its_package_and_its_environment_only(runtime: LambdaRuntime) -> None:
    probe = """
import importlib.util, os, sys
def handler(event, context):
    return {
        "event": event,
        "boto3": importlib.util.find_spec("boto3") is not None,
        "variable": os.environ.get("TABLE"),
        "lambda": os.environ.get("SANDBOX_FUNCTION"),
        "remaining": context.get_remaining_time_in_millis() > 0,
        "name": context.function_name,
    }
"""
    function = Function("probe-fn", "probe.handler", zipped({"probe.py": probe}), {"TABLE": "t1"})
    result = runtime.invoke(function, json.dumps({"hello": "world"}).encode())
    assert not result.failed, result.payload
    assert json.loads(result.payload) == {
        "event": {"hello": "world"},
        "boto3": False,  # not in the package: not importable, as on Lambda without it
        "variable": "t1",
        "lambda": "probe-fn",
        "remaining": True,
        "name": "probe-fn",
    }
    assert runtime.invocations == {"probe-fn": 1}


def test_an_exception_is_reported_as_lambda_reports_it(runtime: LambdaRuntime) -> None:
    code = "def handler(event, context):\n    raise KeyError('executionId')\n"
    result = runtime.invoke(Function("f", "m.handler", zipped({"m.py": code}), {}), b"{}")
    error = json.loads(result.payload)
    assert result.failed
    assert (error["errorType"], error["errorMessage"]) == ("KeyError", "'executionId'")
    assert "raise KeyError" in "\n".join(error["stackTrace"])
    assert "KeyError" in runtime.log_path("f").read_text()


def test_changed_configuration_starts_a_fresh_environment(runtime: LambdaRuntime) -> None:
    code = "import os\ndef handler(event, context):\n    return os.environ['COLOUR']\n"
    function = Function("f", "m.handler", zipped({"m.py": code}), {"COLOUR": "red"})
    assert json.loads(runtime.invoke(function, b"{}").payload) == "red"
    [first] = runtime.pids()
    function.environment_vars = {"COLOUR": "blue"}
    assert json.loads(runtime.invoke(function, b"{}").payload) == "blue"
    assert runtime.pids() != [first]
    runtime.stop()
    assert runtime.pids() == []


def test_the_real_finder_package_imports_and_answers(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    package = build_package(EXECUTION_FINDER, tmp_path / "build")
    function = Function(
        "finder",
        EXECUTION_FINDER.handler,
        package.path.read_bytes(),
        {},  # no tables configured: the handler must say which variable is missing
    )
    result = runtime.invoke(function, b"{}")
    error = json.loads(result.payload)
    assert result.failed
    assert error["errorType"] == "ConfigurationError"
    assert "is not set" in error["errorMessage"]


def test_an_environment_that_died_mid_request_is_replaced_and_every_call_answers(
    runtime: LambdaRuntime,
) -> None:
    """The chaos benchmark's hang: a request written to a process that had just died left
    its bytes in the pipe's buffer; replacing that environment then raised BrokenPipeError
    in the invoking thread, and Step Functions waited for an answer that never came."""
    code = (
        "import os\n"
        "def handler(event, context):\n"
        "    if event.get('die'):\n"
        "        os._exit(70)\n"
        "    return 'alive'\n"
    )
    function = Function("f", "m.handler", zipped({"m.py": code}), {})
    died = runtime.invoke(function, b'{"die": true}')
    assert died.failed and "exited with code 70" in json.loads(died.payload)["errorMessage"]
    # The next request reaches the dead process before the runtime noticed it died.
    [environment] = runtime._environments.values()
    environment._process.wait()
    unanswered = environment.invoke({})
    assert unanswered.failed
    answered = runtime.invoke(function, b"{}")
    assert not answered.failed and json.loads(answered.payload) == "alive"


def test_a_failure_of_the_runtime_itself_is_an_answer_not_an_exception(
    runtime: LambdaRuntime,
) -> None:
    broken = Function("f", "m.handler", b"not a zip archive", {})
    answer = runtime.invoke(broken, b"{}")
    assert answer.failed
    error = json.loads(answer.payload)
    assert error["errorType"] == "Runtime.Unknown" and "BadZipFile" in error["errorMessage"]


def test_one_package_is_unpacked_once_and_shared_by_every_environment_of_it(
    runtime: LambdaRuntime, tmp_path: Path
) -> None:
    """Two stacks of one sandbox deploy the same package: their environments import it from
    one directory, so the bytecode the first one compiled serves the second."""
    code = "def handler(event, context):\n    return __file__\n"
    first = Function("dev-f", "m.handler", zipped({"m.py": code}), {"STACK": "dev"})
    second = Function("test-f", "m.handler", zipped({"m.py": code}), {"STACK": "test"})
    second.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test-f"
    where_first = json.loads(runtime.invoke(first, b"{}").payload)
    where_second = json.loads(runtime.invoke(second, b"{}").payload)
    assert len(runtime.pids()) == 2  # two environments...
    assert where_first == where_second  # ...of one unpacked package
    [package] = [p for p in (tmp_path / "packages").iterdir()]
    assert Path(where_first).parent == package
    assert list((package / "__pycache__").glob("m.*.pyc")), "the first import left no bytecode"
    changed = Function("dev-f", "m.handler", zipped({"m.py": code + "# v2\n"}), {})
    where_changed = json.loads(runtime.invoke(changed, b"{}").payload)
    assert Path(where_changed).parent != package


def test_sandboxes_given_one_packages_directory_share_it_even_when_unpacking_at_once(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    runtimes = [LambdaRuntime(tmp_path / f"sandbox-{n}", lambda name: {}, shared) for n in range(6)]
    code = zipped({f"m{n}.py": "x = 1\n" * 2000 for n in range(40)})
    function = Function("f", "m0.x", code, {})
    start = threading.Barrier(len(runtimes))
    found: list[Path] = []

    def unpack(runtime: LambdaRuntime) -> None:
        start.wait()
        found.append(runtime._extract(function))  # noqa: SLF001 - the race itself

    threads = [threading.Thread(target=unpack, args=(r,)) for r in runtimes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(found) == len(runtimes) and len(set(found)) == 1
    assert sorted(p.name for p in found[0].iterdir()) == sorted(f"m{n}.py" for n in range(40))
    assert [p.name for p in shared.iterdir()] == [found[0].name], "staging left behind"


def _holds_open(pid: int, path: Path) -> bool:
    fds = Path(f"/proc/{pid}/fd")
    with contextlib.suppress(OSError):
        return any(os.readlink(fd) == str(path) for fd in fds.iterdir())
    return False


def test_environments_of_one_package_import_their_handler_in_turn(
    runtime: LambdaRuntime,
) -> None:
    """Environments starting together would each compile the package's modules: they take
    turns on a lock in its directory, and the first leaves its bytecode for the others."""
    code = (
        "import time\nIMPORTED = time.time()\n\ndef handler(event, context):\n    return IMPORTED\n"
    )
    function = Function("f", "m.handler", zipped({"m.py": code}), {})
    package = runtime._extract(function)  # noqa: SLF001 - where the environment will import
    lock_path = package / ".import.lock"
    answers: list[Any] = []
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another environment of the package importing
        caller = threading.Thread(target=lambda: answers.append(runtime.invoke(function, b"{}")))
        caller.start()
        deadline = time.monotonic() + PATIENCE
        # Until it waits at the lock (or, taking no turn, has already answered).
        while caller.is_alive() and not (
            runtime.pids() and _holds_open(runtime.pids()[0], lock_path)
        ):
            assert time.monotonic() < deadline, "the environment never reached the lock"
            time.sleep(0.01)
        time.sleep(0.2)  # what it would import now, it would import before the release
        released = time.time()
    caller.join(PATIENCE)
    assert answers and not answers[0].failed, answers
    assert json.loads(answers[0].payload) >= released, "imported while another held the turn"
