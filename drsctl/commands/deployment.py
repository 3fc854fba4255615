"""Which deployment a command talks to: a live stack (its outputs) or a running sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from infra.stacks import REPO_ROOT

if TYPE_CHECKING:
    import argparse

    from drsctl.api_client import ApiClient
    from drsctl.drill.run import Target


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """STACK, ``--sandbox [WORKDIR]`` and ``--outputs FILE``."""
    parser.add_argument("stack")
    parser.add_argument(
        "--sandbox",
        type=Path,
        nargs="?",
        const=REPO_ROOT / ".sandbox",
        metavar="WORKDIR",
        help="the deployment of a running drsctl sandbox (default .sandbox/)",
    )
    parser.add_argument("--outputs", type=Path, help="the stack's outputs JSON (live)")


def target(args: argparse.Namespace) -> Target:
    """The deployment ``args`` name (raises OSError or RuntimeError when unreachable)."""
    from drsctl.drill.run import live_target, sandbox_targets

    if args.sandbox is not None:
        [found] = sandbox_targets((args.stack,), args.sandbox)
        return found
    from drsctl.verify import stack_outputs

    return live_target(args.stack, stack_outputs(args.stack, args.outputs))


def every_item(
    api: ApiClient, path: str, limit: int = 100, query: dict[str, str] | None = None
) -> list[Any]:
    """Every item of a paged API listing (``path`` without its query; ``query`` its other
    parameters), page after page."""
    items: list[Any] = []
    token: str | None = None
    while True:
        params = {"limit": str(limit), **(query or {}), **({"nextToken": token} if token else {})}
        page = api.call("GET", f"{path}?{urlencode(params)}")
        items += page["items"]
        token = page.get("nextToken")
        if not token:
            return items
