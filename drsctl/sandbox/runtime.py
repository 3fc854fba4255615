"""The sandbox's Lambda service: moto keeps the functions, this runs them.

moto's Docker-less Lambda backend stores each function (code, handler, environment) but
answers every invocation with its input. The sandbox replaces that answer: the first
invocation of a function starts a warm execution environment for it, a ``worker.py``
process that holds the function's deployment package (the zip ``pulumi up`` would upload,
read back from moto) and nothing else, with the function's own environment variables and
the sandbox's endpoint. A changed configuration or code starts a fresh environment, as on
Lambda. Each environment runs one invocation at a time; its output goes to a log file.

A package is unpacked once per digest of its bytes, into a directory that every environment
of that code shares (two stacks of one sandbox deploy the same package, and sandboxes given
the same ``packages`` directory share it too): the first environment to import a module
compiles it and leaves its bytecode there for the others, as a warm Lambda keeps its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import shutil
import subprocess  # nosec B404
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from moto.awslambda.models import LambdaFunction

WORKER = Path(__file__).with_name("worker.py")


@dataclass
class Invocation:
    """What one invocation returned: the payload, and whether it is an error."""

    payload: bytes
    failed: bool


class ExecutionEnvironment:
    """One warm process of one function version and configuration."""

    def __init__(
        self,
        function: LambdaFunction,
        fingerprint: str,
        package_dir: Path,
        environment: dict[str, str],
        log: IO,
    ) -> None:
        self.name = function.function_name
        #: Digest of the code and configuration this environment was started with.
        self.fingerprint = fingerprint
        self._request = {
            "functionName": function.function_name,
            "functionArn": function.function_arn,
            "memory": int(function.memory_size),
            "timeout": int(function.timeout),
        }
        # Fixed interpreter and worker; the handler string comes from our own program.
        self._process = subprocess.Popen(  # noqa: S603  # nosec B603
            [sys.executable, "-I", "-S", str(WORKER), str(package_dir), function.handler],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=environment,
            text=True,
        )
        self._lock = threading.Lock()

    @property
    def pid(self) -> int:
        return self._process.pid

    def invoke(self, event: Any) -> Invocation:
        with self._lock:
            stdin, stdout = self._process.stdin, self._process.stdout
            try:
                if stdin is None or stdout is None:
                    raise ValueError("no pipes")  # noqa: EM101, TRY301 - handled just below
                stdin.write(json.dumps({**self._request, "event": event}) + "\n")
                stdin.flush()
                line = stdout.readline()
            except (BrokenPipeError, ValueError):
                line = ""
            if not line:
                # The pipe closed: the process is exiting. Its code, once it has.
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self._process.wait(timeout=5)
                error = {
                    "errorType": "Runtime.ExitError",
                    "errorMessage": f"the execution environment of {self.name} exited "
                    f"with code {self._process.poll()}",
                }
                return Invocation(json.dumps(error).encode(), failed=True)
            answer = json.loads(line)
            if "error" in answer:
                return Invocation(json.dumps(answer["error"]).encode(), failed=True)
            return Invocation(json.dumps(answer["result"]).encode(), failed=False)

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        if self._process.stdin:
            # A request written to a process that had died stays in the pipe's buffer, and
            # closing flushes it: the process is gone either way.
            with contextlib.suppress(BrokenPipeError, OSError):
                self._process.stdin.close()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout:
            self._process.stdout.close()


class LambdaRuntime:
    """Execution environments for the functions moto holds, keyed by code and config."""

    def __init__(
        self,
        workdir: Path,
        base_environment: Callable[[str], dict[str, str]],
        packages: Path | None = None,
    ) -> None:
        """``base_environment(function_name)`` gives what Lambda itself would set for the
        function (credentials, region, endpoint); the function's own variables go on top.
        Packages are unpacked under ``packages`` (default ``workdir/packages``), one
        directory per digest."""
        self._workdir = workdir
        self._packages = packages or workdir / "packages"
        self._base_environment = base_environment
        self._environments: dict[str, ExecutionEnvironment] = {}
        self._logs: dict[str, IO] = {}
        self._lock = threading.Lock()
        self.invocations: dict[str, int] = {}

    def log_path(self, function_name: str) -> Path:
        return self._workdir / "logs" / f"{function_name}.log"

    def invoke(self, function: LambdaFunction, payload: bytes | str | None) -> Invocation:
        """Run one invocation. It always answers, as Lambda does: whatever goes wrong in
        the runtime itself is a ``Runtime.Unknown`` error, never an exception in the
        caller's thread (moto's Step Functions would wait for an answer forever)."""
        event = json.loads(payload) if payload else {}
        self.invocations[function.function_name] = (
            self.invocations.get(function.function_name, 0) + 1
        )
        try:
            return self._environment_for(function).invoke(event)
        except Exception as exc:  # noqa: BLE001 - every failure becomes Lambda's answer
            error = {"errorType": "Runtime.Unknown", "errorMessage": f"{type(exc).__name__}: {exc}"}
            return Invocation(json.dumps(error).encode(), failed=True)

    def pids(self) -> list[int]:
        with self._lock:
            return [e.pid for e in self._environments.values() if e.alive]

    def stop(self) -> None:
        with self._lock:
            environments, self._environments = list(self._environments.values()), {}
        for environment in environments:
            environment.stop()
        for log in self._logs.values():
            log.close()
        self._logs.clear()

    def _environment_for(self, function: LambdaFunction) -> ExecutionEnvironment:
        variables = dict(function.environment_vars or {})
        fingerprint = hashlib.sha256(
            json.dumps(
                [function.code_sha_256, function.handler, variables, function.timeout],
                sort_keys=True,
            ).encode()
        ).hexdigest()[:16]
        with self._lock:
            current = self._environments.get(function.function_arn)
            if current is not None and current.alive and current.fingerprint == fingerprint:
                return current
            if current is not None:
                current.stop()
            package_dir = self._extract(function)
            log = self._log(function.function_name)
            environment = ExecutionEnvironment(
                function,
                fingerprint,
                package_dir,
                {
                    **self._base_environment(function.function_name),
                    **variables,
                    "AWS_LAMBDA_FUNCTION_NAME": function.function_name,
                    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
                },
                log,
            )
            self._environments[function.function_arn] = environment
            return environment

    def _extract(self, function: LambdaFunction) -> Path:
        """The package's directory, unpacked once per digest. Unpacked beside it first and
        renamed into place, so a sandbox starting beside another never sees half a package."""
        digest = hashlib.sha256(function.code_bytes).hexdigest()[:24]
        target = self._packages / digest
        if target.is_dir():
            return target
        self._packages.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{digest}.", dir=self._packages))
        try:
            with zipfile.ZipFile(io.BytesIO(function.code_bytes)) as archive:
                archive.extractall(staging)  # noqa: S202 - the package this program built
            staging.rename(target)
        except OSError:
            if not target.is_dir():  # not another sandbox's rename winning the race
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def _log(self, function_name: str) -> IO:
        if function_name not in self._logs:
            path = self.log_path(function_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._logs[function_name] = path.open("a", encoding="utf-8")
        return self._logs[function_name]
