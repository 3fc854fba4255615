"""One Lambda execution environment of the sandbox.

Started as ``python -I -S worker.py <package-dir> <handler>``: no site-packages and no
current directory, so the handler can only import what its deployment package holds, as on
Lambda (a package missing a module fails here exactly as it would there). Invocations come
one per line on stdin as JSON; each answer is one JSON line on the real stdout. Whatever
the handler prints goes to stderr, the function's log.

This file imports nothing from the project on purpose: it must run with the package alone.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import sys
import time
import traceback
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator


class LambdaContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, function_name: str, arn: str, memory: int, deadline: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "sandbox"
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@contextlib.contextmanager
def _in_turn(package_dir: str) -> Iterator[None]:
    """Environments of one package import its handler one at a time. The first to import a
    module compiles it and leaves its bytecode in the package's directory for the others,
    as a warm Lambda keeps its own; started together (a sandbox's first drill starts its
    functions at once, the test suite four sandboxes at once), each compiled the same
    modules for itself: four environments of one fresh package spent 1.8-2.8 s of CPU on
    2 cores, one after the other 1.3 s (``benchmarks/sandbox_imports.py``). Where there is
    no ``fcntl`` (Windows) or the directory is read-only, each imports for itself."""
    try:
        import fcntl

        lock = open(os.path.join(package_dir, ".import.lock"), "a")  # noqa: SIM115, PTH118, PTH123
    except (ImportError, OSError):
        yield
        return
    with lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when closed, or when the process dies
        yield


def _load(handler_path: str, package_dir: str) -> tuple[Any, dict[str, Any] | None]:
    module_name, _, attribute = handler_path.rpartition(".")
    try:
        with _in_turn(package_dir):
            module = importlib.import_module(module_name)
        return getattr(module, attribute), None
    except Exception as exc:  # noqa: BLE001 - reported per invocation, as Lambda does
        kind = (
            "Runtime.ImportModuleError"
            if isinstance(exc, ImportError)
            else "Runtime.UserCodeSyntaxError"
        )
        return None, {
            "errorType": kind,
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
        }


#: Kinds of fault ``--chaos`` injects (docs/RELIABILITY.md's fault model).
CHAOS_KINDS = ("throttle", "failure", "lost", "crash-before", "crash-after")


def install_chaos(rate: float, seed: int) -> None:
    """Make a share ``rate`` of this environment's AWS calls meet a random fault: refused as
    throttled, answered with a 5xx, answered and the answer lost, or the process dying just
    before or just after the call (the runtime then reports Runtime.ExitError and starts a
    fresh environment, as Lambda does). Uses only botocore, which the package ships."""
    import random

    from botocore.client import BaseClient
    from botocore.exceptions import ClientError, ReadTimeoutError

    chance = random.Random(seed)  # noqa: S311  # nosec B311 - simulated faults, not secrets
    original = BaseClient._make_api_call

    def make_api_call(client: Any, operation: str, params: dict[str, Any]) -> Any:
        if chance.random() >= rate:
            return original(client, operation, params)
        kind = chance.choice(CHAOS_KINDS)
        point = f"{client.meta.service_model.service_name}:{operation}"
        sys.stderr.write(f"chaos: {kind} at {point}\n")
        sys.stderr.flush()
        if kind == "crash-before":
            os._exit(70)
        if kind in ("throttle", "failure"):
            code, status = (
                ("ThrottlingException", 400) if kind == "throttle" else ("InternalFailure", 500)
            )
            error = {"Error": {"Code": code, "Message": f"chaos {kind}"}}
            raise ClientError({**error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)
        original(client, operation, params)
        if kind == "crash-after":
            os._exit(70)
        raise ReadTimeoutError(endpoint_url=f"chaos://{point}")

    BaseClient._make_api_call = make_api_call


def main() -> None:
    package_dir, handler_path = sys.argv[1], sys.argv[2]
    sys.path.insert(0, package_dir)
    if os.environ.get("SANDBOX_CHAOS_RATE"):
        install_chaos(
            float(os.environ["SANDBOX_CHAOS_RATE"]), int(os.environ.get("SANDBOX_CHAOS_SEED", "0"))
        )
    answers = sys.stdout
    sys.stdout = sys.stderr
    handler, import_error = _load(handler_path, package_dir)
    for line in sys.stdin:
        request = json.loads(line)
        if import_error is not None:
            answer: dict[str, Any] = {"error": import_error}
        else:
            context = LambdaContext(
                request["functionName"],
                request["functionArn"],
                request["memory"],
                time.monotonic() + request["timeout"],
            )
            try:
                answer = {"result": handler(request["event"], context)}
            except Exception as exc:  # noqa: BLE001 - reported the way Lambda reports it
                traceback.print_exc()
                answer = {
                    "error": {
                        "errorType": type(exc).__name__,
                        "errorMessage": str(exc),
                        "stackTrace": traceback.format_exc().splitlines(),
                    }
                }
        answers.write(json.dumps(answer, default=str) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
