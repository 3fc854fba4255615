"""The orchestrator's REST API as drsctl's commands call it (the comparison, the sandbox's
seed): JSON in and out, a bearer token per call, answers that are not a success raised with
their status and each field's reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

if TYPE_CHECKING:
    from collections.abc import Callable

TIMEOUT_SECONDS = 30


class ApiCallError(RuntimeError):
    """An API answer that is not a success: status, message and the fields' reasons."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        answer = body if isinstance(body, dict) else {}
        self.status = status
        self.errors = list(answer.get("errors") or [])
        reasons = "; ".join(f"{e.get('field')}: {e.get('reason')}" for e in self.errors)
        message = answer.get("message") or str(body)[:200]
        super().__init__(
            f"{method} {path} answered {status}: {message}" + (f" ({reasons})" if reasons else "")
        )


@dataclass
class ApiClient:
    base_url: str
    token: Callable[[], str]
    calls: int = field(default=0, init=False)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Authorization": self.token()}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if not self.base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            answer = {"message": f"refusing to send a token to {self.base_url}: not HTTPS"}
            raise ApiCallError(method, path, 0, answer)
        request = Request(self.base_url + path, data=data, headers=headers, method=method)  # noqa: S310
        self.calls += 1
        try:
            with urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
                raw = response.read()
        except HTTPError as error:
            raw = error.read()
            try:
                answer: Any = json.loads(raw)
            except ValueError:
                answer = raw.decode(errors="replace")
            raise ApiCallError(method, path, error.code, answer) from error
        except URLError as error:
            raise ApiCallError(method, path, 0, {"message": str(error.reason)}) from error
        return json.loads(raw) if raw else None

    def all(self, path: str) -> list[dict[str, Any]]:
        """Every item of a paginated list."""
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            suffix = f"&nextToken={token}" if token else ""
            page = self.call("GET", f"{path}?limit=100{suffix}")
            items += page["items"]
            token = page.get("nextToken")
            if not token:
                return items
