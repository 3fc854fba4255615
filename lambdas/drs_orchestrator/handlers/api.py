"""Lambda entry point of the REST API (API Gateway REST, Cognito authorizer).

Routes are Powertools routes; one middleware enforces, for every route, the roles and the
request schema the OpenAPI document gives it, before the route body runs, so a forbidden
or malformed request is answered 403 or 400 and writes nothing.
"""

from __future__ import annotations

import base64
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

from drs_orchestrator.adapters.audit import AuditFilter, AuditTrail
from drs_orchestrator.adapters.dynamodb import (
    ExecutionRecords,
    JobEventsStore,
    ReadinessRecords,
    ServerHolds,
    VersionedRecords,
)
from drs_orchestrator.adapters.functions import ReadinessRequests
from drs_orchestrator.adapters.reports import ReportStore
from drs_orchestrator.adapters.stepfunctions import StateMachines
from drs_orchestrator.adapters.targets import DrsGateways
from drs_orchestrator.adapters.telemetry import Telemetry
from drs_orchestrator.api import schemas
from drs_orchestrator.api.bodies import read_json_body
from drs_orchestrator.domain import audit
from drs_orchestrator.domain.plans import Problem
from drs_orchestrator.domain.timestamps import to_iso
from drs_orchestrator.environment import ApiEnvironment, deployment_name, drs_targets
from drs_orchestrator.errors import (
    UNAVAILABLE,
    ApiError,
    BadRequestError,
    ForbiddenError,
    OrchestratorError,
    ServiceUnavailableError,
    outcome_unknown,
)
from drs_orchestrator.services.audit import AuditRecorder
from drs_orchestrator.services.catalog import Catalog

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
#: As the document bounds ``nextToken``.
MAX_TOKEN_LENGTH = 2048
ACCOUNT_ID = re.compile(r"\d{12}")
#: As the document bounds a region and a target key.
MAX_REGION_LENGTH = 32
MAX_TARGET_LENGTH = 48
TARGET = re.compile(r"(home|\d{12})/[a-z]{2}(-[a-z]+)+-\d")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
#: A page size as the document allows it: ASCII digits only (``str.isdigit`` also takes
#: ``²`` and ``٣``, which ``int`` cannot read or reads as another number).
PAGE_SIZE = re.compile(r"[0-9]{1,3}")


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
        drs=DrsGateways(drs_targets()),
        machines=StateMachines(env.state_machine_arn),
        status_index=env.finder.executions_status_index,
        clock=lambda: to_iso(datetime.now(UTC)),
        holds=ServerHolds(env.server_holds_table),
        readiness_records=ReadinessRecords(env.readiness_table),
        runner_role_arn=env.runner_role_arn,
        reports=ReportStore(env.reports_bucket),
        abandoned_after_seconds=env.abandoned_after_seconds,
    )


@cache
def _audit() -> AuditRecorder:
    env = ApiEnvironment.from_env()
    return AuditRecorder(
        trail=_trail(),
        retention_days=env.audit_retention_days,
        read_object=_read_object,
        clock=lambda: to_iso(datetime.now(UTC)),
        logger=logger,
    )


@cache
def _trail() -> AuditTrail:
    return AuditTrail(ApiEnvironment.from_env().audit_table)


def _read_object(object_type: str, object_id: str) -> dict[str, Any]:
    """An audited request's object as it is before the request (404: None)."""
    catalog = _catalog()
    readers = {
        "protection-group": catalog.get_group,
        "recovery-plan": catalog.get_plan,
        "execution": catalog.get_execution,
    }
    return readers[object_type](object_id)


@cache
def _readiness_requests() -> ReadinessRequests:
    return ReadinessRequests(ApiEnvironment.from_env().readiness_function)


def _evaluate_later(plan_ids: list[str], trigger: str) -> None:
    """Ask the readiness function to evaluate plans a change touched; the change stands
    whatever Lambda answers (the schedule evaluates every plan at least once a period)."""
    refused = _readiness_requests().request(plan_ids, trigger)
    if refused:
        logger.warning(
            "readiness evaluation not queued; the schedule will catch up",
            extra={"planIds": plan_ids, "error": refused},
        )


def home_account() -> str:
    """The deployment's own account: the one the function runs in (its ARN says)."""
    arn = str(getattr(app.lambda_context, "invoked_function_arn", "") or "")
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""  # noqa: PLR2004 - arn:partition:service:region:account


def _group_body() -> dict[str, Any]:
    """A group's body, with ``accountId`` dropped when it names the deployment's own
    account (the same as omitting it)."""
    body = _body()
    if body.get("accountId") and body["accountId"] == home_account():
        del body["accountId"]
    return body


def caller_groups() -> set[str]:
    """The caller's Cognito groups, exactly.

    A REST API's Cognito authorizer hands the integration every claim as a string, and the
    ``cognito:groups`` array becomes one string joined by commas — lossy, since a group name
    may itself hold a comma (``ops,admin`` would read as ``admin``). The authorizer checked
    the token of the ``Authorization`` header before the request got here, so the groups
    are read from that token's payload, where they are a JSON array; the token must be the
    one the authorizer read (same ``sub``, ``iat`` and ``cognito:groups`` as the claims).
    Claims delivered as JSON values (a JWT authorizer) are used as they are."""
    event = app.current_event
    claims = event.request_context.authorizer.claims or {}
    raw = claims.get(GROUPS_CLAIM)
    if isinstance(raw, list):
        return {str(g) for g in raw}
    if not raw:
        return set()
    payload = token_payload(event.headers.get("Authorization") or "")
    groups = payload.get(GROUPS_CLAIM) if payload else None
    same_token = payload is not None and all(
        str(payload.get(k, "")) == str(claims.get(k, "")) for k in ("sub", "iat")
    )
    if (
        same_token
        and isinstance(groups, list)
        and all(isinstance(g, str) for g in groups)
        and ",".join(groups) == str(raw)
    ):
        return set(groups)
    # Not the token the authorizer read: only an unambiguous claim (one group, no comma).
    return {str(raw)} if "," not in str(raw) else set()


def token_payload(authorization: str) -> dict[str, Any] | None:
    """The payload of the JWT in an ``Authorization`` header (``Bearer`` optional), or None.
    Not verified here: API Gateway's authorizer verified it before invoking the function."""
    token = authorization.removeprefix("Bearer ").strip()
    parts = token.split(".")
    if len(parts) != 3:  # noqa: PLR2004 - header, payload, signature
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    return payload if isinstance(payload, dict) else None


def guard(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """Roles and request schema of the route, from the OpenAPI document, before the route;
    an audited request refused here leaves its one record in the trail."""
    event = app.current_event
    method, resource = event.http_method.upper(), event.resource
    if (method, resource) in schemas.routes():
        try:
            _check_query(method, resource)
            _check(app, method, resource)
        except (ForbiddenError, BadRequestError) as refusal:
            if schemas.audited(method, resource):
                _audit().refuse(_request(method, resource), refusal.status, str(refusal))
            raise
    return next_middleware(app)


def _check_query(method: str, resource: str) -> None:
    """A query parameter the operation does not take is refused, never ignored (``GET
    /audit?since=...`` answered the whole trail as if filtered)."""
    event = app.current_event
    given = {
        *(event.query_string_parameters or {}),
        *(event.multi_value_query_string_parameters or {}),
    }
    known = schemas.query_parameters(method, resource)
    unknown = sorted(given - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        msg = f"unknown query parameter(s) {', '.join(unknown)}; {method} {resource} takes: {takes}"
        raise BadRequestError(
            msg, [Problem(name, "is not a parameter of this operation") for name in unknown]
        )


def _check(app: APIGatewayRestResolver, method: str, resource: str) -> None:
    event = app.current_event
    allowed = set(schemas.roles(method, resource))
    if not caller_groups() & allowed:
        msg = f"{method} {resource} needs one of the groups {', '.join(sorted(allowed))}"
        raise ForbiddenError(msg)
    if method in ("POST", "PUT"):
        body = read_json_body(event.body)
        app.append_context(body=body)  # the route reads it parsed (cleared per request)
        problems = schemas.validate_body(method, resource, body)
        if problems:
            msg = "invalid request"
            raise BadRequestError(msg, problems)
        mode = body.get("mode") if isinstance(body, dict) else None
        narrowed = schemas.roles_for_mode(method, resource, str(mode))
        if narrowed is not None and not caller_groups() & set(narrowed):
            msg = f"a {mode} needs one of the groups {', '.join(sorted(narrowed))}"
            raise ForbiddenError(msg)


def _request(method: str, resource: str) -> audit.Request:
    """Who asks what of which object, as an audit record names it."""
    event = app.current_event
    claims = event.request_context.authorizer.claims or {}
    return audit.Request(
        request_id=event.request_context.request_id or "",
        actor=audit.actor_from(dict(claims), caller_groups()),
        operation_id=schemas.operation_id(method, resource),
        method=method,
        path=event.path,
        path_parameters=dict(event.path_parameters or {}),
        body=app.context.get("body"),
    )


def audited(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """The audit trail of an audited operation (``x-audit``): its intent written before it
    runs (if that fails it does not run), its outcome after, whatever it answered."""
    event = app.current_event
    method, resource = event.http_method.upper(), event.resource
    if not schemas.audited(method, resource):
        return next_middleware(app)
    recorder = _audit()
    written = recorder.begin(_request(method, resource))
    try:
        response = next_middleware(app)
    except ApiError as error:
        recorder.finish(written, error.status, None, str(error))
        raise
    except UNAVAILABLE as error:
        recorder.finish(written, 503, None, str(error), uncertain=outcome_unknown(error))
        raise
    except Exception as error:
        recorder.finish(written, 500, None, type(error).__name__)
        raise
    answer = response.body
    if isinstance(answer, str) and answer:
        try:
            answer = json.loads(answer)
        except ValueError:
            answer = None
    recorder.finish(written, int(response.status_code), answer, None)
    return response


app.use(middlewares=[guard, audited])


@app.exception_handler(ApiError)
def api_error(error: ApiError) -> Response:
    body: dict[str, Any] = {"message": str(error)}
    if error.problems:
        body["errors"] = [p.as_dict() for p in error.problems]
    return Response(
        status_code=error.status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


@app.exception_handler(list(UNAVAILABLE))
def aws_unavailable(error: OrchestratorError) -> Response:
    """DynamoDB or DRS throttled or failed (after the clients' own retries): every write
    path checks before it writes, so nothing was left half done and a retry is safe."""
    logger.warning("AWS call failed", extra={"error": str(error)})
    return api_error(ServiceUnavailableError(f"try again: {error}"))


@app.not_found
def no_such_route(_error: Exception) -> Response:
    """A path or method the API does not have (the catch-all below would call it a 500)."""
    event = app.current_event
    body = {"message": f"no such operation: {event.http_method.upper()} {event.path}"}
    return Response(
        status_code=404, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


@app.exception_handler(Exception)
def unexpected_error(error: Exception) -> Response:
    """Anything unforeseen is logged with its trace and answered as JSON, never as a crash
    (which API Gateway would turn into a bare 502)."""
    logger.exception("unexpected error", extra={"error": type(error).__name__})
    body = {"message": "internal error; the request may not have been carried out"}
    return Response(
        status_code=500, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


def _body() -> dict[str, Any]:
    """The body the guard parsed and checked against the route's schema."""
    return dict(app.context.get("body") or {})


def _page_args() -> tuple[int, str | None]:
    params = app.current_event.query_string_parameters or {}
    raw = params.get("limit", str(DEFAULT_PAGE))
    if not PAGE_SIZE.fullmatch(raw) or not 1 <= int(raw) <= 100:  # noqa: PLR2004
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("limit", "must be 1 to 100")])
    token = params.get("nextToken") or None  # blank (``?nextToken=``) is no token
    if token is not None and len(token) > MAX_TOKEN_LENGTH:
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("nextToken", f"at most {MAX_TOKEN_LENGTH} characters")])
    return int(raw), token


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
    account_id, region = _where_args()
    where: dict[str, str | None] = {}
    if account_id:  # a group in the deployment's own account has no accountId
        where["accountId"] = None if account_id == home_account() else account_id
    if region:
        where["region"] = region
    groups = _catalog().groups
    return _paged(lambda limit, token: groups.page(limit, token, where or None))


@app.post("/protection-groups")
def create_group() -> Response:
    return _created(_catalog().create_group(_group_body()))


@app.get("/protection-groups/<groupId>")
def get_group(groupId: str) -> dict[str, Any]:  # noqa: N803 - the path parameter's name
    return _catalog().get_group(groupId)


@app.put("/protection-groups/<groupId>")
def update_group(groupId: str) -> dict[str, Any]:  # noqa: N803
    updated = _catalog().update_group(groupId, _group_body())
    _evaluate_later(list(updated.get("usedBy") or []), "group-changed")
    return updated


@app.post("/protection-groups/<groupId>/launch-settings/apply")
def apply_launch_settings(groupId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().apply_launch_settings(groupId)


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
    created = _catalog().create_plan(_body())
    _evaluate_later([created["planId"]], "plan-changed")
    return _created(created)


@app.get("/recovery-plans/<planId>")
def get_plan(planId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().get_plan(planId)


@app.put("/recovery-plans/<planId>")
def update_plan(planId: str) -> dict[str, Any]:  # noqa: N803
    updated = _catalog().update_plan(planId, _body())
    _evaluate_later([planId], "plan-changed")
    return updated


@app.get("/recovery-plans/<planId>/readiness")
def plan_readiness(planId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().readiness(planId)


@app.get("/recovery-plans/<planId>/readiness/history")
def plan_readiness_history(planId: str) -> dict[str, Any]:  # noqa: N803
    catalog = _catalog()
    return _paged(lambda limit, token: catalog.readiness_history(planId, limit, token))


@app.get("/readiness")
def readiness_overview() -> dict[str, Any]:
    return _paged(_catalog().readiness_page)


@app.delete("/recovery-plans/<planId>")
def delete_plan(planId: str) -> Response:  # noqa: N803
    _catalog().delete_plan(planId)
    return Response(status_code=204, body="")


@app.post("/recovery-plans/<planId>/executions")
def start_execution(planId: str) -> Response:  # noqa: N803
    body = _body()
    return _created(
        _catalog().start_execution(planId, body["mode"], body.get("pointInTime")), status=202
    )


@app.get("/recovery-plans/<planId>/executions")
def list_plan_executions(planId: str) -> dict[str, Any]:  # noqa: N803
    catalog = _catalog()
    return _paged(lambda limit, token: catalog.plan_executions(planId, limit, token))


# -- executions --------------------------------------------------------------------------


@app.get("/executions")
def list_executions() -> dict[str, Any]:
    catalog = _catalog()
    params = app.current_event.query_string_parameters or {}
    status, target = params.get("status"), params.get("target")
    valid = schemas.document()["components"]["schemas"]["ExecutionStatus"]["enum"]
    if status is not None and status not in valid:
        msg = "invalid request"
        raise BadRequestError(msg, [Problem("status", f"must be one of {', '.join(valid)}")])
    if target is not None and (len(target) > MAX_TARGET_LENGTH or not TARGET.fullmatch(target)):
        msg = "invalid request"
        rule = "must be a DRS target key: <account>/<region> or home/<region>"
        raise BadRequestError(msg, [Problem("target", rule)])
    return _paged(lambda limit, token: catalog.execution_page(status, limit, token, target))


@app.get("/executions/<executionId>")
def get_execution(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().get_execution(executionId)


@app.get("/executions/<executionId>/job-events")
def job_events(executionId: str) -> dict[str, Any]:  # noqa: N803
    catalog = _catalog()
    catalog.get_execution(executionId)
    return _paged(lambda limit, token: catalog.job_events.page(executionId, limit, token))


@app.post("/executions/<executionId>/failback")
def start_failback(executionId: str) -> Response:  # noqa: N803
    failback = _catalog().start_failback(executionId, home_account(), _body())
    return _created(failback, status=202)


@app.get("/executions/<executionId>/failback-readiness")
def failback_readiness(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().failback_readiness(executionId, home_account())


@app.get("/executions/<executionId>/report")
def execution_report(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().report_links(executionId)


# -- audit trail -------------------------------------------------------------------------

#: A moment as the trail's filters take it (UTC, ``Z``), as long as the document allows.
MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T[0-9:.]+Z")
MAX_MOMENT_LENGTH = 32
#: The trail's text filters and their longest values (the document's maxLength).
AUDIT_FILTER_LENGTHS = {"user": 256, "object": 128, "plan": 128, "action": 64}


@app.get("/audit")
def audit_trail() -> dict[str, Any]:
    params = app.current_event.query_string_parameters or {}
    problems = [
        Problem(name, "must be a moment in UTC like 2026-11-30T12:00:00Z")
        for name in ("from", "to")
        if name in params
        and (len(params[name]) > MAX_MOMENT_LENGTH or not MOMENT.fullmatch(params[name]))
    ]
    problems += [
        Problem(name, f"must be 1 to {longest} characters")
        for name, longest in AUDIT_FILTER_LENGTHS.items()
        if name in params and not 0 < len(params[name]) <= longest
    ]
    if not problems and params.get("from") and params.get("to") and params["from"] > params["to"]:
        problems.append(Problem("to", "must not be before from"))
    if problems:
        msg = "invalid request"
        raise BadRequestError(msg, problems)
    wanted = AuditFilter(
        user=params.get("user"),
        object_id=params.get("object"),
        plan_id=params.get("plan"),
        action=params.get("action"),
        since=params.get("from"),
        until=params.get("to"),
    )
    return _paged(lambda limit, token: _trail().page(wanted, limit, token))


@app.post("/executions/<executionId>/cancel")
def cancel(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().cancel(executionId)


@app.post("/executions/<executionId>/resume")
def resume(executionId: str) -> dict[str, Any]:  # noqa: N803
    return _catalog().resume(executionId)


@app.post("/executions/<executionId>/terminate-instances")
def terminate_instances(executionId: str) -> Response:  # noqa: N803
    return _created(_catalog().terminate_instances(executionId), status=202)


def _where_args() -> tuple[str | None, str | None]:
    """The ``accountId`` and ``region`` filters of a list request, checked (blank is not a
    value the document allows: 400, like any other)."""
    params = app.current_event.query_string_parameters or {}
    account_id, region = params.get("accountId"), params.get("region")
    problems = [
        Problem(name, rule)
        for name, value, pattern, rule in (
            ("accountId", account_id, ACCOUNT_ID, "must be a 12-digit account id"),
            ("region", region, REGION, "must be a region name such as us-east-1"),
        )
        if value is not None and (len(value) > MAX_REGION_LENGTH or not pattern.fullmatch(value))
    ]
    if problems:
        msg = "invalid request"
        raise BadRequestError(msg, problems)
    return account_id, region


@app.get("/source-servers")
def source_servers() -> dict[str, Any]:
    account_id, region = _where_args()
    catalog = _catalog()
    return _paged(
        lambda limit, token: catalog.source_server_page(
            limit, token, account_id=account_id, region=region, home_account=home_account()
        )
    )


@app.get("/targets")
def targets() -> dict[str, Any]:
    return {"items": _catalog().targets(home_account())}


@cache
def _telemetry() -> Telemetry:
    return Telemetry(deployment_name(), "api")


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    try:
        return app.resolve(event, context)
    finally:
        _telemetry().emit_calls()
