"""The catalogue of Lambda functions: handler and package contents (the AWS services each
package carries models for are read from its code: ``infra.aws_services``).

Short names here must match ``infra.naming.FUNCTION_SHORT_NAMES``: the settings check the
names derived from them before anything is declared.
"""

from __future__ import annotations

from infra.naming import FUNCTION_SHORT_NAMES
from infra.packaging import PackageSpec

#: What only the REST API imports: Powertools' event handler and the API's own modules.
API_ONLY = (
    "aws_lambda_powertools/event_handler/",
    "drs_orchestrator/api/",
    "drs_orchestrator/handlers/api.py",
)

EXECUTION_FINDER = PackageSpec(
    function="execution-finder",
    handler="drs_orchestrator.handlers.execution_finder.handler",
    excluded=(
        *API_ONLY,
        "drs_orchestrator/handlers/readiness.py",
        "drs_orchestrator/handlers/wave_runner.py",
    ),
)

WAVE_RUNNER = PackageSpec(
    function="wave-runner",
    handler="drs_orchestrator.handlers.wave_runner.handler",
    excluded=(
        *API_ONLY,
        "drs_orchestrator/handlers/execution_finder.py",
        "drs_orchestrator/handlers/readiness.py",
    ),
)

API = PackageSpec(
    function="api",
    handler="drs_orchestrator.handlers.api.handler",
    requirements=("aws-lambda-powertools", "boto3", "fastjsonschema"),
    excluded=(
        "drs_orchestrator/handlers/execution_finder.py",
        "drs_orchestrator/handlers/readiness.py",
        "drs_orchestrator/handlers/wave_runner.py",
    ),
)

READINESS = PackageSpec(
    function="readiness",
    handler="drs_orchestrator.handlers.readiness.handler",
    excluded=(
        *API_ONLY,
        "drs_orchestrator/handlers/execution_finder.py",
        "drs_orchestrator/handlers/wave_runner.py",
    ),
)

CATALOGUE: dict[str, PackageSpec] = {
    spec.function: spec for spec in (EXECUTION_FINDER, WAVE_RUNNER, API, READINESS)
}

if set(CATALOGUE) != set(FUNCTION_SHORT_NAMES):  # pragma: no cover - a programming error
    msg = f"function catalogue {sorted(CATALOGUE)} != naming {sorted(FUNCTION_SHORT_NAMES)}"
    raise RuntimeError(msg)
