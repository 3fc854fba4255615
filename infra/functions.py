"""The catalogue of Lambda functions: handler, package contents and AWS services used.

Short names here must match ``infra.naming.FUNCTION_SHORT_NAMES``: the settings check the
names derived from them before anything is declared.
"""

from __future__ import annotations

from infra.naming import FUNCTION_SHORT_NAMES
from infra.packaging import PackageSpec

EXECUTION_FINDER = PackageSpec(
    function="execution-finder",
    handler="drs_orchestrator.handlers.execution_finder.handler",
    aws_services=("drs", "dynamodb"),
)

CATALOGUE: dict[str, PackageSpec] = {spec.function: spec for spec in (EXECUTION_FINDER,)}

if set(CATALOGUE) != set(FUNCTION_SHORT_NAMES):  # pragma: no cover - a programming error
    msg = f"function catalogue {sorted(CATALOGUE)} != naming {sorted(FUNCTION_SHORT_NAMES)}"
    raise RuntimeError(msg)
