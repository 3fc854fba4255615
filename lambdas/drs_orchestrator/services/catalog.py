"""What the REST API does: protection groups, recovery plans and executions.

Every check runs before any write, so a rejected request changes nothing: a bad body or
plan is a ``BadRequestError`` listing each field and reason, a missing record a
``NotFoundError``, a stale version or a clash with other records a ``ConflictError``
(``errors.py`` maps each to its HTTP status).

A group's servers are checked against, and its tag selectors resolved in, the inventory of
its DRS target (``services/inventory.py``); an execution launches each group's servers in
the group's target.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from drs_orchestrator.adapters.dynamodb import (
    USED_BY,
    WATCHED,
    RecordInUseError,
    ReferenceConflictError,
    StaleExecutionError,
    VersionConflictError,
)
from drs_orchestrator.adapters.ec2 import known_instance_types
from drs_orchestrator.adapters.reports import LINK_SECONDS as REPORT_LINK_SECONDS
from drs_orchestrator.domain import failback as failback_core
from drs_orchestrator.domain import failback_readiness as failback
from drs_orchestrator.domain import launch
from drs_orchestrator.domain.groups import membership_conflicts, resolve
from drs_orchestrator.domain.plans import (
    Problem,
    RecoveryPlan,
    stored_size_problem,
    validate_plan,
)
from drs_orchestrator.domain.recovery_time import wave_timings
from drs_orchestrator.domain.states import TERMINAL_EXECUTION, ExecutionStatus
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import (
    BadRequestError,
    ConflictError,
    DrsError,
    NotFoundError,
    OrchestratorError,
    OutcomeUnknownError,
    ServiceUnavailableError,
    TargetUnreachableError,
)
from drs_orchestrator.services import executions as execution_controls
from drs_orchestrator.services.inventory import (
    Inventory,
    group_from,
    groups_of,
    plan_from,
)
from drs_orchestrator.services.readiness import PlanReadiness, latest_of

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import (
        ExecutionRecords,
        JobEventsStore,
        ReadinessRecords,
        ServerHolds,
        VersionedRecords,
    )
    from drs_orchestrator.adapters.ec2 import LaunchTemplates
    from drs_orchestrator.adapters.reports import ReportStore
    from drs_orchestrator.adapters.ssm import Automations
    from drs_orchestrator.adapters.stepfunctions import StateMachines
    from drs_orchestrator.adapters.targets import DrsGateways
    from drs_orchestrator.domain.jobs import DrsJob
    from drs_orchestrator.domain.targets import Target

ACTIVE = ("PENDING", "RUNNING", "PAUSED", "CANCELLING")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
TERMINATE_BATCH = 200


def _as_it_ran(plan: dict[str, Any], groups: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan and its groups exactly as an execution of it starts: later edits of either
    never change what the execution says it ran."""
    used = {g for w in plan["waves"] for g in w["protectionGroups"]}
    definition = (
        "groupId",
        "version",
        "accountId",
        "region",
        "description",
        "sourceServerIds",
        "tagSelectors",
    )
    return {
        "plan": {
            k: plan[k]
            for k in ("name", "description", "waves", "version", "recoveryTimeObjectiveMinutes")
            if k in plan
        },
        "protectionGroups": {
            g["name"]: {k: g[k] for k in definition if k in g} for g in groups if g["name"] in used
        },
    }


def _used_by(plan_id: str, groups: list[dict[str, Any]]) -> list[str]:
    """The ids of the groups whose ``usedBy`` names the plan."""
    return [g["groupId"] for g in groups if plan_id in (g.get(USED_BY) or [])]


def _older_than(stamp: str, now: str, seconds: int) -> bool:
    from drs_orchestrator.domain.timestamps import parse_drs_timestamp

    return (parse_drs_timestamp(now) - parse_drs_timestamp(stamp)).total_seconds() > seconds


#: Execution attributes the API never returns: the approval's task token is a capability
#: to move the state machine on (Step Functions' SendTaskSuccess), not something to show
#: (the sleep's token is kept apart, in the execution's sleep item, never returned).
PRIVATE_EXECUTION_ATTRIBUTES = frozenset({"taskToken"})


def public_execution(item: dict[str, Any]) -> dict[str, Any]:
    """An execution item as the API returns it: without its private attributes."""
    return {k: v for k, v in item.items() if k not in PRIVATE_EXECUTION_ATTRIBUTES}


def apply_template(
    templates: LaunchTemplates,
    configuration: dict[str, Any],
    settings: dict[str, Any],
    description: str,
) -> None:
    """Give the server's EC2 launch template (its DRS launch configuration names it) the
    group's overrides; nothing is written when it already has them."""
    template_id = str(configuration.get("ec2LaunchTemplateID") or "")
    found = templates.versions(template_id) if template_id else None
    if found is None:
        msg = (
            f"the EC2 launch template {template_id or '(none)'} of "
            f"{configuration.get('sourceServerID')} does not exist"
        )
        raise OrchestratorError(msg)
    data = launch.template_data(settings, found["default"].get("LaunchTemplateData") or {})
    if data is not None:
        templates.apply(template_id, found, data, description)


class Catalog(Inventory):
    """Protection groups, recovery plans and executions, as the REST API changes them."""

    def __init__(
        self,
        groups: VersionedRecords,
        plans: VersionedRecords,
        executions: ExecutionRecords,
        job_events: JobEventsStore,
        drs: DrsGateway | DrsGateways,
        machines: StateMachines,
        status_index: str,
        clock: Callable[[], str],
        holds: ServerHolds,
        automations: Automations | None = None,
        readiness_records: ReadinessRecords | None = None,
        runner_role_arn: str | None = None,
        reports: ReportStore | None = None,
        abandoned_after_seconds: int = 300,
    ) -> None:
        super().__init__(groups, plans, drs, clock, automations)
        #: A start's holds without its execution written this long are abandoned (it died).
        self.abandoned_after_seconds = abandoned_after_seconds
        #: Where the finder stores each finished execution's report.
        self.reports = reports
        self.readiness_records = readiness_records
        #: The wave runner's role, whose permissions readiness simulates.
        self.runner_role_arn = runner_role_arn
        self.executions = executions
        self.job_events = job_events
        self.machines = machines
        self.status_index = status_index
        self.holds = holds

    # -- protection groups ---------------------------------------------------------------

    def _unbound_groups(self, plan: RecoveryPlan, records: list[dict[str, Any]]) -> list[Problem]:
        """A problem for each group of the plan whose DRS target the deployment lacks."""
        by_name = {r["name"]: r for r in records}
        return [
            Problem(
                f"waves[{index}].protectionGroups[{j}]",
                f"protection group '{name}' is in {_where(by_name[name])}, which is not one "
                "of this deployment's DRS targets",
            )
            for index, wave in enumerate(plan.waves)
            for j, name in enumerate(wave.protection_groups)
            if name in by_name and self.target_of(by_name[name]) is None
        ]

    def source_server_page(
        self,
        limit: int,
        token: str | None,
        *,
        account_id: str | None = None,
        region: str | None = None,
        home_account: str = "",
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the DRS inventory of every target (or those in ``account_id`` and
        ``region``) with each server's account, region and protection group; each target's
        inventory is read once and serves both the page and the tag selectors."""
        if token and not (token.isascii() and token.isdigit()):
            msg = "nextToken is not a token this API issued"
            raise ValueError(msg)
        start = int(token or 0)
        inventories: dict[str | None, list[dict[str, Any]]] = {}
        listed: list[dict[str, Any]] = []
        for target in self.drs.targets.all():
            account = home_account if target.is_home else target.account_id
            if (account_id and account != account_id) or (region and target.region != region):
                continue
            inventories[target.stored_key] = self.inventory(target)
            listed += [_server(s, target, account) for s in inventories[target.stored_key]]
        membership = {
            server: name
            for name, servers in self.servers_by_group(inventories).items()
            for server in servers
        }
        items = [
            {**s, "protectionGroup": membership.get(s["sourceServerID"])}
            for s in listed[start : start + limit]
        ]
        more = start + limit < len(listed)
        return items, str(start + limit) if more else None

    def _check_group(self, body: dict[str, Any], group_id: str | None) -> dict[str, Any]:
        if not body.get("sourceServerIds") and not body.get("tagSelectors"):
            msg = "invalid protection group"
            raise BadRequestError(
                msg,
                [Problem("sourceServerIds", "give source server ids, tag selectors, or both")],
            )
        settings = body.get("launchSettings") or {}
        known = known_instance_types() if launch.template_overrides(settings) else frozenset()
        wrong = [Problem(field, rule) for field, rule in launch.problems(settings, known)]
        if wrong:
            msg = "invalid launch settings"
            raise BadRequestError(msg, wrong)
        target = self.target_of(body)
        if target is None:
            known = ", ".join(t.describe() for t in self.drs.targets.all())
            if body.get("accountId"):
                problem = Problem(
                    "accountId",
                    f"{_where(body)} is not one of this deployment's DRS targets ({known}); "
                    "add it to the stack's drsTargets first",
                )
            else:
                problem = Problem(
                    "region",
                    f"'{body['region']}' is not a region this deployment acts in in its own "
                    f"account (its DRS targets: {known})",
                )
            msg = "invalid protection group"
            raise BadRequestError(msg, [problem])
        others = [r for r in self.groups.all() if r["groupId"] != group_id]
        if any(r["name"] == body["name"] for r in others):
            msg = f"a protection group named '{body['name']}' already exists"
            raise ConflictError(msg)
        inventories = {target.stored_key: self.inventory(target)}
        inventory = inventories[target.stored_key]
        known = {item.get("sourceServerID") for item in inventory}
        missing = [
            Problem(
                f"sourceServerIds[{index}]",
                f"source server {server} is not in DRS in {target.describe()}",
            )
            for index, server in enumerate(body.get("sourceServerIds") or [])
            if server not in known
        ]
        if missing:
            msg = "invalid protection group"
            raise BadRequestError(msg, missing)
        servers = resolve(group_from(body), inventory)
        conflicts = membership_conflicts(
            body["name"], servers, self.servers_by_group(inventories, others)
        )
        if conflicts:
            msg = "source servers already belong to another group"
            raise ConflictError(msg, conflicts)
        return {**body, "resolvedServerIds": servers}

    def create_group(self, body: dict[str, Any]) -> dict[str, Any]:
        checked = self._check_group(body, None)
        record = {**body, "groupId": f"pg-{uuid.uuid4().hex[:12]}", "createdAt": self.clock()}
        return {**self.groups.create(record), "resolvedServerIds": checked["resolvedServerIds"]}

    def update_group(self, group_id: str, body: dict[str, Any]) -> dict[str, Any]:
        current = self.get_group(group_id)
        version = body.pop("version")
        if body["name"] != current["name"]:
            users = self._plans_using(current)
            if users:
                msg = (
                    f"protection group '{current['name']}' is used by recovery plan(s) "
                    f"{', '.join(users)}, which refer to it by name; take it out of them "
                    "before renaming it"
                )
                raise ConflictError(msg, [Problem("name", "a group in use keeps its name")])
        checked = self._check_group(body, group_id)
        record = {
            **body,
            "groupId": group_id,
            "createdAt": current.get("createdAt"),
            "updatedAt": self.clock(),
        }
        if current.get(USED_BY):
            # Plans that took a reference since ``current`` was read raised its version,
            # so this version-checked write can only carry the references as they are.
            record[USED_BY] = current[USED_BY]
        try:
            saved = self.groups.replace(record, version)
        except VersionConflictError as exc:
            raise ConflictError(str(exc)) from exc
        return {**saved, "resolvedServerIds": checked["resolvedServerIds"]}

    def _plans_using(self, group: dict[str, Any]) -> list[str]:
        """Names of the plans referring to ``group``: its ``usedBy`` set, and plans saved
        before references were recorded, which name it in a wave."""
        plans = self.plans.all()
        referring = set(group.get(USED_BY) or [])
        return sorted(
            p["name"]
            for p in plans
            if p["planId"] in referring
            or any(group["name"] in w["protectionGroups"] for w in p["waves"])
        )

    def get_group(self, group_id: str) -> dict[str, Any]:
        record = self.groups.get(group_id)
        if record is None:
            msg = f"protection group {group_id} does not exist"
            raise NotFoundError(msg)
        return record

    def apply_launch_settings(self, group_id: str) -> dict[str, Any]:
        """Give every server of the group the group's launch settings, in the group's
        target, eight servers at a time: UpdateLaunchConfiguration with the DRS fields, then
        the launch template overrides as a new default version of the server's EC2 launch
        template. A server DRS or EC2 refuses is reported, the others are applied; applying
        again is harmless (a template already as wanted is not written)."""
        record = self.get_group(group_id)
        wanted = record.get("launchSettings") or {}
        settings = launch.update_request(wanted)
        overrides = launch.template_overrides(wanted)
        if not settings and not overrides:
            msg = "the group has no launch settings to apply"
            raise BadRequestError(msg, [Problem("launchSettings", "set at least one field")])
        target = self.target_of(record)
        if target is None:
            msg = f"protection group '{record['name']}' is in {_where(record)}, not a DRS target"
            raise BadRequestError(msg, [Problem("region", "not one of the deployment's targets")])
        servers = self.servers_by_group(groups=[record])[record["name"]]
        templates: LaunchTemplates | None = None
        if overrides:
            try:
                templates = self.drs.templates(target.stored_key, self.session)
            except TargetUnreachableError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
        description = f"launch settings of protection group {record['name']}"

        def apply(drs: DrsGateway, server: str) -> str | None:
            try:
                if settings:
                    configuration = drs.update_launch_configuration(server, settings)
                else:
                    configuration = drs.launch_configuration(server)
                if templates is not None:
                    apply_template(templates, configuration, wanted, description)
            except OrchestratorError as exc:
                return str(exc)
            return None

        errors = self.per_server(servers, dict.fromkeys(servers, target.stored_key), apply)
        return {
            "groupId": group_id,
            "applied": [s for s, e in errors.items() if e is None],
            "failed": [
                {"sourceServerId": s, "error": e} for s, e in errors.items() if e is not None
            ],
        }

    def delete_group(self, group_id: str) -> None:
        record = self.get_group(group_id)
        users = self._plans_using(record)
        if not users:
            try:
                self.groups.delete(group_id, unless_used=True)
            except RecordInUseError:
                users = self._plans_using(self.get_group(group_id))
            else:
                return
        msg = f"protection group '{record['name']}' is used by recovery plan(s) {', '.join(users)}"
        raise ConflictError(msg)

    # -- recovery plans ------------------------------------------------------------------

    def _check_plan(
        self, body: dict[str, Any], plan_id: str | None
    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
        """Check a plan before it is written; the ids of the groups it uses, with the names
        it uses them by, and every group as read for the check."""
        if any(p["name"] == body["name"] and p["planId"] != plan_id for p in self.plans.all()):
            msg = f"a recovery plan named '{body['name']}' already exists"
            raise ConflictError(msg)
        too_large = stored_size_problem(json.dumps(body, separators=(",", ":")).encode())
        if too_large:
            msg = "invalid recovery plan"
            raise BadRequestError(msg, [too_large])
        groups = self.groups.all()
        plan = plan_from(body)
        problems = self._unbound_groups(plan, groups) + validate_plan(
            plan,
            self.servers_by_group(groups=groups, needed=groups_of(plan)),
            self.group_targets(groups),
        )
        if problems:
            msg = "invalid recovery plan"
            raise BadRequestError(msg, problems)
        used = {g for w in body["waves"] for g in w["protectionGroups"]}
        return {r["groupId"]: r["name"] for r in groups if r["name"] in used}, groups

    def _save_plan(
        self, record: dict[str, Any], version: int | None, take: dict[str, str], release: list[str]
    ) -> dict[str, Any]:
        try:
            return self.plans.save_referencing(record, version, self.groups, take, release)
        except ReferenceConflictError as exc:
            if record["planId"] in exc.ids:
                msg = (
                    f"planId {record['planId']} is no longer at version {version}; read it "
                    "again and reapply your change"
                )
                raise ConflictError(msg) from exc
            names = sorted(take.get(i, i) for i in exc.ids)
            msg = (
                f"protection group(s) {', '.join(names) or 'of the plan'} changed while the "
                "plan was saved; try again"
            )
            raise ConflictError(msg) from exc

    def create_plan(self, body: dict[str, Any]) -> dict[str, Any]:
        take, _groups = self._check_plan(body, None)
        record = {**body, "planId": f"rp-{uuid.uuid4().hex[:12]}", "createdAt": self.clock()}
        return self._save_plan(record, None, take, [])

    def update_plan(self, plan_id: str, body: dict[str, Any]) -> dict[str, Any]:
        current = self.get_plan(plan_id)
        version = body.pop("version")
        if body["name"] != current["name"]:
            self._refuse_while_running(current, "renamed")
        take, groups = self._check_plan(body, plan_id)
        record = {
            **body,
            "planId": plan_id,
            "createdAt": current.get("createdAt"),
            "updatedAt": self.clock(),
        }
        return self._save_plan(record, version, take, _used_by(plan_id, groups))

    def _refuse_while_running(self, plan: dict[str, Any], change: str) -> None:
        running = sorted(
            e["executionId"]
            for status in ACTIVE
            for e in self._all_with_status(status)
            if e.get("planId") == plan["planId"]
        )
        if running:
            msg = (
                f"recovery plan '{plan['name']}' cannot be {change} while execution(s) "
                f"{', '.join(running)} run it"
            )
            raise ConflictError(msg)

    def readiness(self, plan_id: str) -> dict[str, Any]:
        """The plan's readiness now, evaluated on demand and not recorded."""
        return PlanReadiness(self, runner_role_arn=self.runner_role_arn).evaluate(plan_id)

    def readiness_history(
        self, plan_id: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of the plan's recorded evaluations, newest first."""
        self.get_plan(plan_id)
        items, next_token = self._history().page(plan_id, limit, token)
        return [_evaluation(item) for item in items], next_token

    def readiness_page(
        self, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of plans, each with its latest recorded evaluation (or none yet)."""
        plans, next_token = self.plans.page(limit, token)
        latest = latest_of(self._history(), [p["planId"] for p in plans])
        items = []
        for plan in plans:
            found = latest.get(plan["planId"])
            summary = {"planId": plan["planId"], "planName": plan["name"], "state": None}
            if found:
                summary.update(_evaluation(found, with_findings=False))
            items.append(summary)
        return items, next_token

    def _history(self) -> ReadinessRecords:
        if self.readiness_records is None:  # pragma: no cover - a wiring error
            msg = "readiness history is not configured"
            raise ServiceUnavailableError(msg)
        return self.readiness_records

    def delete_plan(self, plan_id: str) -> None:
        plan = self.get_plan(plan_id)
        self._refuse_while_running(plan, "deleted")
        try:
            self.plans.delete_referencing(
                plan_id, self.groups, _used_by(plan_id, self.groups.all())
            )
        except ReferenceConflictError as exc:
            msg = f"recovery plan '{plan['name']}' or its groups changed meanwhile; try again"
            raise ConflictError(msg) from exc

    # -- executions ----------------------------------------------------------------------

    def start_execution(
        self, plan_id: str, mode: str, point_in_time: str | None = None
    ) -> dict[str, Any]:
        """Validate the plan, hold its servers, write the execution and start its state
        machine. Two starts sharing a server: exactly one wins (``ServerHolds``); a
        refused start writes nothing; a state machine that does not start leaves the
        execution FAILED with the reason and its servers free. With ``point_in_time``,
        every server launches from its newest snapshot taken at or before it; a server
        with none that old refuses the start (400 naming it) before anything is held."""
        if point_in_time is not None:
            try:  # the document's pattern lets a 31 February through: a real date is needed
                parse_drs_timestamp(point_in_time)
            except ValueError as exc:
                msg = "invalid request"
                rule = f"{point_in_time} is not a date and time: {exc}"
                raise BadRequestError(msg, [Problem("pointInTime", rule)]) from exc
        record = self.get_plan(plan_id)
        plan = plan_from(record)
        groups = self.groups.all()
        servers_by_group = self.servers_by_group(groups=groups, needed=groups_of(plan))
        group_targets = self.group_targets(groups)
        problems = self._unbound_groups(plan, groups) + validate_plan(
            plan, servers_by_group, group_targets
        )
        if problems:
            msg = "the plan is no longer valid"
            raise BadRequestError(msg, problems)
        wanted = sorted(
            {
                s
                for w in plan.waves
                for g in w.protection_groups
                for s in servers_by_group.get(g, [])
            }
        )
        snapshots = {}
        if point_in_time is not None:
            target_of = {
                server: group_targets.get(group)
                for group in groups_of(plan)
                for server in servers_by_group.get(group, [])
            }
            snapshots = self._snapshots_before(point_in_time, wanted, target_of)
        execution_id = f"ex-{uuid.uuid4().hex[:16]}"
        now = self.clock()
        item = execution_controls.new_execution(
            execution_id,
            plan_id,
            plan,
            servers_by_group,
            mode,
            now,
            int(record["version"]),
            {name: key for name, key in group_targets.items() if key is not None},
        )
        item.update(_as_it_ran(record, groups))
        if record.get("recoveryTimeObjectiveMinutes"):
            item["recoveryTimeObjectiveMinutes"] = int(record["recoveryTimeObjectiveMinutes"])
        if point_in_time is not None:
            item.update(pointInTime=point_in_time, snapshots=snapshots)
        used = groups_of(plan)
        item["targets"] = sorted(
            {
                key or self.drs.targets.home.key
                for name, key in group_targets.items()
                if name in used
            }
        )
        self._create_held(item, wanted, now)
        self._start_machine(execution_id)
        return self.get_execution(execution_id)

    def _start_machine(self, execution_id: str) -> None:
        """Start the execution's state machine; one that does not start leaves the
        execution FAILED with the reason (and its servers free): 503, nothing launched.

        A failed start is first checked against Step Functions: a start whose answer was
        lost may have begun its run (named after the execution), which then launches DRS
        jobs; ended as unstarted, its servers would be freed under it. A run found means
        the start stands; when Step Functions cannot say either, nothing is ended: the
        answer says so, and the janitor ends the execution if its run never began."""
        try:
            self.machines.start(execution_id)
        except OrchestratorError as exc:
            try:
                status = self.machines.run_status(execution_id)
            except OrchestratorError as unknown:
                msg = (
                    f"execution {execution_id}: whether its state machine started is unknown "
                    f"({exc}; then {unknown}); if it did not, the janitor ends it and frees "
                    "its servers"
                )
                raise ServiceUnavailableError(msg) from exc
            if status != "MISSING":
                return  # the answer was lost, the run began: the start stands
            reason = f"its state machine did not start: {exc}"
            execution_controls.end_unstarted(self.executions, self.holds, execution_id, reason)
            msg = f"execution {execution_id} could not start ({exc}); nothing was launched"
            raise ServiceUnavailableError(msg) from exc

    def _snapshots_before(
        self, moment: str, servers: list[str], target_of: dict[str, str | None]
    ) -> dict[str, str]:
        """Each server's snapshot id for a start at ``moment``; a 400 naming every server
        with none that old."""
        found = self.newest_snapshots(servers, target_of, moment)
        missing = [
            Problem(
                "pointInTime", f"source server {server} has no snapshot taken at or before {moment}"
            )
            for server, snapshot in found.items()
            if snapshot is None
        ]
        if missing:
            msg = "the plan cannot be recovered to that point in time"
            raise BadRequestError(msg, missing)
        return {
            server: str(snapshot["snapshotID"]) for server, snapshot in found.items() if snapshot
        }

    def _create_held(self, item: dict[str, Any], servers: list[str], now: str) -> None:
        """Hold ``servers`` for the execution, then write it; a write that fails frees them
        again. A clash answers 409 before anything is written (``_hold``)."""
        execution_id = item["executionId"]
        self._hold(execution_id, servers, now)
        try:
            self.executions.create(item)
        except OrchestratorError:
            self.holds.release(execution_id, servers)
            raise

    def _hold(self, execution_id: str, servers: list[str], now: str) -> None:
        """Hold every server in sorted order, taking over holds of ended executions; on a
        clash, free what was taken and answer 409 naming the holder. A hold that fails
        (throttled, the table unavailable) frees what was taken too: only a start that
        died keeps its holds, until they are abandoned (``abandoned_after_seconds``)."""
        taken: list[str] = []
        try:
            for server in servers:
                refused_by = self._take(execution_id, server, now)
                if refused_by is not None:
                    self._clash(server, *refused_by)
                taken.append(server)
        except OrchestratorError:
            self.holds.release(execution_id, taken)
            raise

    def _take(
        self, execution_id: str, server: str, now: str
    ) -> tuple[str, dict[str, Any] | None] | None:
        """Hold ``server``, from a holder that ended or abandoned it if need be: None once
        held, else the holder that keeps it and its execution (None: not written yet)."""
        if self.holds.take(execution_id, server, now):
            return None
        found = self.holds.holder(server)
        holder, held_at = found if found else ("", "")
        held = self.executions.get(holder) if holder else None
        # A holder that ended, or that never wrote its execution (a start that died
        # between its holds and its record) long enough ago, gives the server up.
        abandoned = (
            held is None
            and bool(held_at)
            and _older_than(held_at, now, self.abandoned_after_seconds)
        )
        ended = held is not None and held["status"] in TERMINAL
        if (
            holder
            and (ended or abandoned)
            and self.holds.take(execution_id, server, now, from_holder=holder)
        ):
            return None
        return holder, held

    def _clash(self, server: str, holder: str, held: dict[str, Any] | None) -> None:
        """409 naming the execution that holds ``server`` (``starting``: not written yet)."""
        status = held["status"] if held else "starting"
        msg = f"execution {holder} ({status}) already uses source server(s) {server}"
        if held is None and holder:
            msg += (
                f"; a start that died leaves its holds for {self.abandoned_after_seconds} s, "
                "then they are free"
            )
        raise ConflictError(msg)

    def _all_with_status(self, status: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page, token = self.executions.page(status, self.status_index, 100, token)
            items += page
            if not token:
                return items

    def get_execution(self, execution_id: str) -> dict[str, Any]:
        item = self.executions.get(execution_id)
        if item is None:
            msg = f"execution {execution_id} does not exist"
            raise NotFoundError(msg)
        return {**public_execution(item), "timings": wave_timings(item)}

    def report_links(self, execution_id: str) -> dict[str, Any]:
        """Download links of the execution's stored report (``adapters/reports.py``).

        The finder's janitor stores it once the execution has ended and settled (every DRS
        job ended), so a running execution, or one that ended moments ago, has none yet:
        404 with the reason, and the caller asks again later."""
        item = self.get_execution(execution_id)
        if self.reports is None:
            msg = "this deployment keeps no execution reports"
            raise NotFoundError(msg)
        stored_at = self.reports.stored_at(execution_id)
        if stored_at is None:
            if ExecutionStatus(item["status"]) in TERMINAL_EXECUTION:
                msg = (
                    f"the report of execution {execution_id} is not stored yet: it is "
                    "written once every DRS job of the execution has ended, on the "
                    "finder's next run"
                )
            else:
                msg = (
                    f"execution {execution_id} is {item['status']}: its report is "
                    "written once it has ended"
                )
            raise NotFoundError(msg)
        links = self.reports.links(execution_id)
        return {
            "executionId": execution_id,
            "storedAt": stored_at,
            "expiresInSeconds": REPORT_LINK_SECONDS,
            "html": links["html"],
            "json": links["json"],
        }

    def failback_readiness(self, execution_id: str, home_account: str) -> dict[str, Any]:
        """Can a finished recovery's workload go home now (``domain/failback_readiness.py``):
        its recovery instances and their sources read from DRS where each runs."""
        item = self._finished_recovery(execution_id)
        launched = failback.launched_servers(item)
        instances: dict[str, dict[str, Any] | None] = {s.instance: None for s in launched}
        for key, servers in _by_target(launched).items():
            wanted = [s.instance for s in servers]
            for found in self.drs.of(key, self.session).recovery_instances(instance_ids=wanted):
                instances[found["recoveryInstanceID"]] = found
        origins = self._source_origins(launched)
        launched = [replace(s, origin=origins.get(s.server)) for s in launched]
        reachable = set(self._reachable(home_account))
        result = failback.evaluate(launched, instances, reachable)
        return {"executionId": execution_id, "evaluatedAt": self.clock(), **result.as_dict()}

    def start_failback(
        self, execution_id: str, home_account: str, options: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Start bringing a finished recovery's workload home (``domain/failback.py``): a
        FAILBACK execution of its waves, run by the same state machine. Refused (409) for
        a drill, a recovery still running, one whose failback is running, AWS sources
        whose origin the deployment does not reach, or servers another execution holds.
        Its servers are held as any start's are, so no drill or recovery launches them
        while they come home; they are freed when it ends."""
        recovery = self._finished_recovery(execution_id)
        origins = self._failback_origins(recovery, home_account)
        now = self.clock()
        for attempt in range(1, 100):
            failback_id = f"fb-{execution_id.removeprefix('ex-')}-{attempt}"
            earlier = self.executions.get(failback_id)
            if earlier is None:
                break
            if ExecutionStatus(earlier["status"]) not in TERMINAL_EXECUTION:
                msg = f"failback {failback_id} of execution {execution_id} is {earlier['status']}"
                raise ConflictError(msg)
        item = failback_core.new_failback(failback_id, recovery, origins, now, options)
        item["watch"] = WATCHED
        self._create_held(item, sorted({s for w in item["waves"] for s in w["servers"]}), now)
        self._start_machine(failback_id)
        return self.get_execution(failback_id)

    def _finished_recovery(self, execution_id: str) -> dict[str, Any]:
        """The execution, if it is a RECOVERY that has ended (what fails back); else 409."""
        item = self.get_execution(execution_id)
        if item.get("mode") != "RECOVERY":
            msg = f"execution {execution_id} is a {item.get('mode')}: only a recovery fails back"
            raise ConflictError(msg)
        if ExecutionStatus(item["status"]) not in TERMINAL_EXECUTION:
            msg = f"execution {execution_id} is {item['status']}: it fails back once ended"
            raise ConflictError(msg)
        return item

    def _reachable(self, home_account: str) -> dict[str, str | None]:
        """Where the deployment reaches DRS, by ``account/region``: each target's stored
        key (None at home)."""
        return {
            f"{home_account}/{t.region}" if t.is_home else t.key: t.stored_key
            for t in self.drs.targets.all()
        }

    def _source_origins(self, launched: list[failback.LaunchedServer]) -> dict[str, str | None]:
        """Each launched server's origin (``account/region`` of an AWS source, None on
        premises), from its source server in the DRS target it ran in."""
        origins: dict[str, str | None] = {}
        for key, servers in _by_target(launched).items():
            wanted = {s.server for s in servers}
            for source in self.drs.of(key, self.session).source_servers():
                if source["sourceServerID"] in wanted:
                    origins[source["sourceServerID"]] = failback.origin_of(source)
        return origins

    def _failback_origins(
        self, recovery: dict[str, Any], home_account: str
    ) -> dict[str, str | None]:
        """Each AWS source's origin as a DRS target key (``HOME`` for the deployment's
        own); a 409 naming every server whose origin the deployment does not reach."""
        keys = self._reachable(home_account)
        origins: dict[str, str | None] = {}
        unreachable = []
        for server, origin in sorted(
            self._source_origins(failback.launched_servers(recovery)).items()
        ):
            if origin is None:
                continue
            if origin not in keys:
                unreachable.append(f"{server} (from {origin})")
            origins[server] = keys.get(origin) or failback_core.HOME
        if unreachable:
            msg = (
                "the failback cannot launch where these servers came from; add their "
                f"origins to drsTargets: {', '.join(sorted(unreachable))}"
            )
            raise ConflictError(msg)
        return origins

    def execution_page(
        self, status: str | None, limit: int, token: str | None, target: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of executions (of ``status``, or all; acting in ``target``, or
        anywhere) as the API returns them."""
        items, next_token = self.executions.page(status, self.status_index, limit, token, target)
        return [public_execution(item) for item in items], next_token

    def plan_executions(
        self, plan_id: str, limit: int, token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a plan's executions, newest first, as summaries (404 for a plan that
        does not exist; a deleted plan's history is not listed)."""
        self.get_plan(plan_id)
        return self.executions.plan_page(plan_id, limit, token)

    def cancel(self, execution_id: str) -> dict[str, Any]:
        return self._control(execution_controls.cancel, execution_id)

    def resume(self, execution_id: str) -> dict[str, Any]:
        return self._control(execution_controls.resume, execution_id)

    def _control(self, control: Callable[..., dict[str, Any]], execution_id: str) -> dict[str, Any]:
        """An operator's control of an execution (404 when it does not exist, 409 when its
        status forbids it), answered with the execution as the API shows it."""
        self.get_execution(execution_id)
        try:
            item = control(self.executions, self.machines, execution_id, self.clock())
        except execution_controls.ExecutionStateError as exc:
            raise ConflictError(str(exc)) from exc
        return public_execution(item)

    def terminate_instances(self, execution_id: str) -> dict[str, Any]:
        """Terminate a finished drill's recovery instances, ≤ 200 per call, recording the
        TERMINATE jobs on the execution.

        The request is written down first (``REQUESTED``, version-checked), so of two
        requests at once exactly one goes on and the other is answered 409; then DRS is
        asked, and each TERMINATE job is recorded and followed by the finder (the execution
        is watched again until those jobs end)."""
        for _ in range(8):
            item = self.get_execution(execution_id)
            batches = self._instances_to_terminate(item)
            requested = [
                {
                    "requestId": f"term-{uuid.uuid4().hex[:12]}",
                    "recoveryInstanceIds": batch,
                    "requestedAt": self.clock(),
                    "status": "REQUESTED",
                    **({"target": key} if key else {}),
                }
                for key, batch in batches
            ]
            terminations = [*item.get("terminations", []), *requested]
            try:
                version = self.executions.save(
                    execution_id,
                    item["version"],
                    {"terminations": terminations, "updatedAt": self.clock(), "watch": WATCHED},
                )
            except (StaleExecutionError, OrchestratorError) as exc:
                # Refused as stale, or its answer lost: botocore's retry of a save that took
                # effect is refused as stale too. Written, the request goes on.
                written = self._written_down(execution_id, requested)
                if written is None and isinstance(exc, StaleExecutionError):
                    continue
                if written is None:
                    raise
                version, terminations = written
            break
        else:
            msg = f"execution {execution_id} kept changing; try again"
            raise ConflictError(msg)
        new_jobs: dict[str, dict[str, Any]] = {}
        failure: Exception | None = None
        unknown: Exception | None = None
        for termination in requested:
            try:
                job = self._ask_drs_to_terminate(termination)
            except OutcomeUnknownError as exc:
                # DRS may have started it and could not be asked: it stays asked for
                # (REQUESTED), and the janitor records its TERMINATE job once it finds it.
                unknown = exc
                continue
            except OrchestratorError as exc:
                termination.update(status="FAILED", reason=str(exc))
                failure = exc
                continue
            termination.update(status="STARTED", jobId=job.job_id)
            new_jobs.update(execution_controls.termination_job(termination, job))
        self._record_terminations(execution_id, version, terminations, new_jobs)
        if failure is not None:
            msg = f"DRS refused to terminate some instances ({failure}); ask again to retry them"
            raise ServiceUnavailableError(msg) from failure
        if unknown is not None:
            msg = (
                f"DRS's answer was lost ({unknown}): if it started the termination, the "
                "finder's schedule records its job; if not, ask again in "
                f"{int(execution_controls.TERMINATION_IN_FLIGHT.total_seconds() // 60)} minutes"
            )
            raise ServiceUnavailableError(msg) from unknown
        return self.get_execution(execution_id)

    def _ask_drs_to_terminate(self, termination: dict[str, Any]) -> DrsJob:
        """DRS's TERMINATE job for ``termination``. An answer lost (a time-out, a 5xx) is
        checked at once: DRS lists a job it started (``terminations_of``), so a job found is
        the one started, and none found means none was (``DrsError``: ask again). Only when
        DRS cannot be asked that either does the outcome stay unknown."""
        gateway = self.drs.of(termination.get("target"), self.session)
        try:
            return gateway.terminate_recovery_instances(termination["recoveryInstanceIds"])
        except OutcomeUnknownError as lost:
            try:
                found = execution_controls.terminations_found(gateway, termination)
            except OrchestratorError:
                raise lost from None
            if found:
                return found[-1]
            why = f"{lost}, and DRS lists no TERMINATE job of these instances: none was started"
            raise DrsError(lost.operation, "OutcomeUnknown", why) from lost

    def _written_down(
        self, execution_id: str, requested: list[dict[str, Any]]
    ) -> tuple[int, list[dict[str, Any]]] | None:
        """The execution's version and terminations (``requested``'s own objects in them)
        if every request of ``requested`` is on it (a save whose answer was lost took
        effect); None if not, or if it cannot be read."""
        try:
            item = self.get_execution(execution_id)
        except OrchestratorError:
            return None
        mine = {r["requestId"]: r for r in requested}
        on_record = [t for t in item.get("terminations") or [] if t.get("requestId") in mine]
        if len(on_record) < len(mine):
            return None
        # The requests as this call goes on to update them (their DRS job, their status).
        terminations = [mine.get(t.get("requestId", ""), t) for t in item["terminations"]]
        return int(item["version"]), terminations

    def _instances_to_terminate(self, item: dict[str, Any]) -> list[tuple[str | None, list[str]]]:
        """The recovery instances still to terminate, at most 200 per request, each request
        in the DRS target the instances were launched in."""
        execution_id = item["executionId"]
        if item["mode"] != "DRILL":
            msg = "only a drill's recovery instances are terminated here"
            raise ConflictError(msg)
        if item["status"] not in TERMINAL:
            msg = f"execution {execution_id} is {item['status']}; wait for it to end"
            raise ConflictError(msg)
        # A request still REQUESTED after a while died before it reached DRS: retried
        # (the janitor keeps the execution watched for as long: one rule for both).
        now = parse_drs_timestamp(self.clock())
        done = {
            i
            for t in item.get("terminations", [])
            if t.get("status", "STARTED") == "STARTED"
            or execution_controls.requested_recently(t, now)
            for i in t["recoveryInstanceIds"]
        }
        by_target: dict[str | None, list[str]] = {}
        for server in item["servers"].values():
            instance = server.get("recoveryInstanceId")
            if instance and server.get("launchStatus") == "LAUNCHED" and instance not in done:
                job = (item.get("jobs") or {}).get(server.get("jobId", "")) or {}
                by_target.setdefault(job.get("target"), []).append(instance)
        if not by_target:
            raise ConflictError(_nothing_to_terminate(execution_id, item, now))
        return [
            (key, instances[start : start + TERMINATE_BATCH])
            for key, unsorted in sorted(by_target.items(), key=lambda kv: kv[0] or "")
            for instances in [sorted(unsorted)]
            for start in range(0, len(instances), TERMINATE_BATCH)
        ]

    def _record_terminations(
        self,
        execution_id: str,
        version: int,
        terminations: list[dict[str, Any]],
        new_jobs: dict[str, dict[str, Any]],
    ) -> None:
        """Record what DRS answered on the request written down before asking it, and keep
        the execution watched: its new jobs are followed by the finder even if the schedule
        settled it meanwhile (a request slower than the janitor's patience)."""
        mine = {t["requestId"]: t for t in terminations if "requestId" in t}
        for _ in range(8):
            try:
                self.executions.save(
                    execution_id,
                    version,
                    {"terminations": terminations, "updatedAt": self.clock(), "watch": WATCHED},
                    new_jobs,
                )
            except StaleExecutionError:
                item = self.get_execution(execution_id)
                version = item["version"]
                terminations = [
                    mine.get(t.get("requestId", ""), t) for t in item.get("terminations", [])
                ]
                continue
            return


def _nothing_to_terminate(execution_id: str, item: dict[str, Any], now: datetime) -> str:
    """Why a termination request has nothing to ask DRS for; when one asked for recently
    has not started, when to ask again if it never does (its function may have died
    before DRS was asked)."""
    pending = [
        t for t in item.get("terminations", []) if execution_controls.requested_recently(t, now)
    ]
    if not pending:
        return f"execution {execution_id} has no recovery instance left to terminate"
    asked = max(t["requestedAt"] for t in pending)
    again = to_iso(parse_drs_timestamp(asked) + execution_controls.TERMINATION_IN_FLIGHT)
    return (
        f"the termination of execution {execution_id}'s recovery instances was asked for "
        f"at {asked} and DRS has not started it yet; if it does not start, ask again after "
        f"{again}"
    )


def _evaluation(item: dict[str, Any], *, with_findings: bool = True) -> dict[str, Any]:
    """A recorded evaluation as the API shows it (without its TTL and pending notice)."""
    hidden = {"expiresAt", "notices"} | (set() if with_findings else {"findings"})
    return {k: v for k, v in item.items() if k not in hidden}


def _where(record: dict[str, Any]) -> str:
    """'eu-west-1 of account 111122223333' or 'us-east-1' (home), for messages."""
    account = record.get("accountId")
    return f"{record['region']} of account {account}" if account else record["region"]


def _server(item: dict[str, Any], target: Target, account: str) -> dict[str, Any]:
    """A DescribeSourceServers item as the API lists it: where it replicates, and whether
    it is an extended source server (another staging account's server, seen here)."""
    staging = item.get("stagingArea") or {}
    server = {
        "sourceServerID": item["sourceServerID"],
        "accountId": account,
        "region": target.region,
        "target": target.key,
        "tags": item.get("tags", {}),
        "hostname": ((item.get("sourceProperties") or {}).get("identificationHints") or {}).get(
            "hostname"
        ),
        "extended": staging.get("status") == "EXTENDED",
    }
    if staging.get("stagingAccountID"):
        server["stagingAccountId"] = staging["stagingAccountID"]
    return server


def _by_target(
    launched: list[failback.LaunchedServer],
) -> dict[str | None, list[failback.LaunchedServer]]:
    """Launched servers grouped by the DRS target they ran in (None: home)."""
    groups: dict[str | None, list[failback.LaunchedServer]] = {}
    for server in launched:
        groups.setdefault(server.target, []).append(server)
    return groups
