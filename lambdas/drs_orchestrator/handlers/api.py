"""Lambda entry point of the REST API (API Gateway REST, Cognito authorizer).

Routes are Powertools routes; one middleware enforces, for every route, the roles and the
request schema the OpenAPI document gives it, before the route body runs, so a forbidden
or malformed request is answered 403 or 400 and writes nothing.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import (
    APIGatewayRestResolver,
    CORSConfig,
    Response,
    content_types,
)

from drs_orchestrator.adapters.drs import DrsGateway
from drs_orchestrator.adapters.dynamodb import (
    ExecutionRecords,
    JobEventsStore,
    ServerHolds,
    VersionedRecords,
)
from drs_orchestrator.adapters.stepfunctions import StateMachines
from drs_orchestrator.api import schemas
from drs_orchestrator.domain.plans import Problem
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.environment import ApiEnvironment
from drs_orchestrator.services.catalog import (
    ApiError,
    BadRequestError,
    Catalog,
    ForbiddenError,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

logger = Logger(service="api")
#: The console is served from another origin (CloudFront) than the API; callers authenticate
#: with a bearer token, never cookies, so any origin may read the answers (API Gateway's
#: OPTIONS answer says the same, ``infra/components/api.py``).
CORS = CORSConfig(allow_origin="*", allow_headers=["Authorization", "Content-Type"])
app = APIGatewayRestResolver(strip_prefixes=None, cors=CORS)
GROUPS_CLAIM = "cognito:groups"
DEFAULT_PAGE = 50


@cache
def _catalog() -> Catalog:
    env = ApiEnvironment.from_env()
    return Catalog(
        groups=VersionedRecords(env.protection_groups_table, "groupId"),
        plans=VersionedRecords(env.recovery_plans_table, "planId"),
        executions=ExecutionRecords(env.finder.executions_table),
        job_events=JobEventsStore(
            env.finder.job_events_table, env.finder.job_events_retention_days
        ),
        drs=DrsGateway(),
        machines=StateMachines(env.state_machine_arn),
        status_index=env.finder.executions_status_index,
        clock=lambda: to_iso(datetime.now(UTC)),
        holds=ServerHolds(env.server_holds_table),
    )


def caller_groups() -> set[str]:
    """The caller's Cognito groups, however API Gateway rendered the claim."""
    claims = app.current_event.request_context.authorizer.claims or {}
    raw = claims.get(GROUPS_CLAIM, "")
    if isinstance(raw, list):
        return {str(g) for g in raw}
    return {g for g in re.split(r"[\s,\[\]]+", str(raw)) if g}


def guard(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Roles and request schema of the route, from the OpenAPI document, before the route."""
    event = app.current_event
    method, resource = event.http_method.upper(), event.resource
    if (method, resource) in schemas.routes():
        allowed = set(schemas.roles(method, resource))
        if not caller_groups() & allowed:
            msg = f"{method} {resource} needs one of the groups {', '.join(sorted(allowed))}"
            raise ForbiddenError(msg)
        if method in ("POST", "PUT"):
            try:
                body = json.loads(event.body) if event.body else {}
            except ValueError as exc:
                msg = "the body is not JSON"
                raise BadRequestError(msg, [Problem("body", str(exc))]) from exc
            problems = schemas.validate_body(method, resource, body)
            if problems:
                msg = "invalid request"
                raise BadRequestError(msg, problems)
    return next_middleware(app)


app.use(middlewares=[guard])


@app.exception_handler(ApiError)
def api_error(error: ApiError) -> Response:
    body: dict[str, Any] = {"message": str(error)}
    if error.problems:
        body["errors"] = [p.as_dict() for p in error.problems]
    return Response(
        status_code=error.status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


def _body() -> dict[str, Any]:
    return dict(app.current_event.json_body or {})


def _page_args() -> tuple[int, str | None]:
    params = app.current_event.query_string_parameters or {}
    raw = params.get("limit", str(DEFAULT_PAGE))
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("limit", "must be 1 to 100")])
    return int(raw), params.get("nextToken")


def _paged(fetch: Any) -> dict[str, Any]:
    limit, token = _page_args()
    try:
        items, next_token = fetch(limit, token)
    except ValueError as exc:
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("nextToken", str(exc))]) from exc
    return {"items": items, **({"nextToken": next_token} if next_token else {})}


def _created(body: dict[str, Any], status: int = 201) -> Response:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
    )


# -- protection groups -------------------------------------------------------------------


@app.get("/protection-groups")
def list_groups() -> dict[str, Any]:
    return _paged(_catalog().groups.page)


@app.post("/protection-groups")
def create_group() -> Response:
    return _created(_catalog().create_group(_body()))


@app.get("/protection-groups/<groupId>")
def get_group(groupId: str) -> dict[str, Any]:  # noqa: N803 - the path parameter's name
    return _catalog().get_group(groupId)


@app.put("/protection-groups/<groupId>")
def update_group(groupId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().update_group(groupId, _body())


@app.delete("/protection-groups/<groupId>")
def delete_group(groupId: str) -> Response:  # noqa: N803
    _catalog().delete_group(groupId)
    return Response(status_code=204, body="")


# -- recovery plans ----------------------------------------------------------------------


@app.get("/recovery-plans")
def list_plans() -> dict[str, Any]:
    return _paged(_catalog().plans.page)


@app.post("/recovery-plans")
def create_plan() -> Response:
    return _created(_catalog().create_plan(_body()))


@app.get("/recovery-plans/<planId>")
def get_plan(planId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().get_plan(planId)


@app.put("/recovery-plans/<planId>")
def update_plan(planId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().update_plan(planId, _body())


@app.delete("/recovery-plans/<planId>")
def delete_plan(planId: str) -> Response:  # noqa: N803
    _catalog().delete_plan(planId)
    return Response(status_code=204, body="")


@app.post("/recovery-plans/<planId>/executions")
def start_execution(planId: str) -> Response:  # noqa: N803
    return _created(_catalog().start_execution(planId, _body()["mode"]), status=202)


# -- executions --------------------------------------------------------------------------


@app.get("/executions")
def list_executions() -> dict[str, Any]:
    catalog = _catalog()
    status = (app.current_event.query_string_parameters or {}).get("status")
    valid = schemas.document()["components"]["schemas"]["ExecutionStatus"]["enum"]
    if status is not None and status not in valid:
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("status", f"must be one of {', '.join(valid)}")])
    return _paged(
        lambda limit, token: catalog.executions.page(status, catalog.status_index, limit, token)
    )


@app.get("/executions/<executionId>")
def get_execution(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().get_execution(executionId)


@app.get("/executions/<executionId>/job-events")
def job_events(executionId: str) -> dict[str, Any]:  # noqa: N803
    catalog = _catalog()
    catalog.get_execution(executionId)
    return _paged(lambda limit, token: catalog.job_events.page(executionId, limit, token))


@app.post("/executions/<executionId>/cancel")
def cancel(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().cancel(executionId)


@app.post("/executions/<executionId>/resume")
def resume(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().resume(executionId)


@app.post("/executions/<executionId>/terminate-instances")
def terminate_instances(executionId: str) -> Response:  # noqa: N803
    return _created(_catalog().terminate_instances(executionId), status=202)


@app.get("/source-servers")
def source_servers() -> dict[str, Any]:
    return _paged(_catalog().source_server_page)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
