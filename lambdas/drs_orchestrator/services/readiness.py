"""Readiness of recovery plans: evaluated on demand, on a schedule, after every change to a
plan or its groups, and when DRS says a server's replication stalled; each recorded
evaluation is kept as history, and a change of a plan's state is notified.

The evaluation itself is pure (``domain/readiness.py``); this module reads what it needs
from DRS and SSM (``Inventory``), and records. Recording keeps the notification a change of
state owes on the evaluation's item until SNS took it (an outbox): the plan's next
evaluation publishes a notice a failed Publish left behind, so none is lost, and a
function that dies between the record and the publish leaves its notice to the next.
"""

from __future__ import annotations

import contextlib
import time
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from drs_orchestrator.domain import launch, permissions, readiness
from drs_orchestrator.domain.plans import concurrent_demand, wave_servers
from drs_orchestrator.domain.timestamps import parse_drs_timestamp, to_iso
from drs_orchestrator.errors import (
    DrsAccessDeniedError,
    DrsError,
    Ec2Error,
    IamError,
    NotFoundError,
    OrchestratorError,
    ServiceUnavailableError,
    TargetUnreachableError,
)
from drs_orchestrator.services.inventory import (
    groups_of,
    in_threads,
    plan_from,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from drs_orchestrator.adapters.drs import DrsGateway
    from drs_orchestrator.adapters.dynamodb import ReadinessRecords
    from drs_orchestrator.adapters.ec2 import LaunchTemplates
    from drs_orchestrator.adapters.notifications import Notifier
    from drs_orchestrator.domain.plans import RecoveryPlan
    from drs_orchestrator.services.inventory import Inventory

#: How far back readiness looks for DRS jobs still active (jobs run for minutes to hours).
ACTIVE_JOBS_LOOKBACK = timedelta(days=1)
#: How long the history keeps an evaluation (TTL).
HISTORY_DAYS = 90
#: A scheduled run starts no further evaluation with less time than this left.
RESERVE_SECONDS = 30
#: Codes with which DRS or EC2 refuse a call the role may not make.
REFUSED_CODES = frozenset({"UnauthorizedOperation", "AccessDenied", "AccessDeniedException"})
#: Latest evaluations read at once for the dashboard.
LATEST_READERS = 8

TRIGGERS = ("schedule", "plan-changed", "group-changed", "replication-event", "on-demand")


def latest_of(records: ReadinessRecords, plan_ids: list[str]) -> dict[str, dict[str, Any] | None]:
    """Each plan's latest recorded evaluation (None: never evaluated), a few at a time."""
    found = in_threads(records.latest, plan_ids, LATEST_READERS)
    return dict(zip(plan_ids, found, strict=True))


class PlanReadiness:
    """Evaluates plans through an ``Inventory``; with ``records`` and a ``notifier``, keeps
    the history and notifies changes of state."""

    def __init__(
        self,
        inventory: Inventory,
        records: ReadinessRecords | None = None,
        notifier: Notifier | None = None,
        logger: Any = None,
        runner_role_arn: str | None = None,
    ) -> None:
        self.inventory = inventory
        self.records = records
        self.notifier = notifier
        self.logger = logger
        #: The wave runner's role, whose permissions are simulated (None: not checked).
        self.runner_role_arn = runner_role_arn

    def evaluate(self, plan_id: str) -> dict[str, Any]:
        """Evaluate the plan's readiness now (``domain/readiness.py``): each server as DRS
        reports it in its own target (one DescribeSourceServers listing per target) and its
        newest snapshot (one DescribeRecoverySnapshots per server, eight at a time)."""
        record = self.inventory.get_plan(plan_id)
        plan = plan_from(record)
        groups = self.inventory.groups.all()
        by_name = {r["name"]: r for r in groups}
        needed = groups_of(plan)
        unreachable = self._unreachable_targets([by_name[n] for n in needed if n in by_name])
        # An unreachable target's inventory is not read (its servers are not checked).
        inventories: dict[str | None, list[dict[str, Any]]] = dict.fromkeys(unreachable, [])
        servers_by_group = self.inventory.servers_by_group(inventories, groups, needed=needed)
        target_of: dict[str, str | None] = {}
        for name in sorted(needed):
            target = self.inventory.target_of(by_name[name]) if name in by_name else None
            if target is None:
                continue
            if target.stored_key not in inventories:
                inventories[target.stored_key] = self.inventory.inventory(target)
            for server in servers_by_group.get(name, []):
                target_of[server] = target.stored_key
        listed = {
            key: {item["sourceServerID"]: item for item in inventory}
            for key, inventory in inventories.items()
        }
        # Each server as its own target's DRS reports it (None: not there, or its group is
        # bound to no target of the deployment).
        reported = {s: listed.get(key, {}).get(s) for s, key in target_of.items()}
        waves = [(wave.name, wave_servers(wave, servers_by_group)) for wave in plan.waves]
        beyond_reach = {s: key for s, key in target_of.items() if key in unreachable}
        now = self.inventory.clock()
        present = [s for _w, servers in waves for s in servers if reported.get(s)]
        snapshots = {
            server: parse_drs_timestamp(found["timestamp"]) if found else None
            for server, found in self.inventory.newest_snapshots(present, target_of, now).items()
        }
        settings_of = self._settings_of(by_name, servers_by_group)
        refusals: list[readiness.Refusal] = []
        configurations = self._launch_configurations(present, target_of, refusals)
        template_data = self._template_data(configurations, target_of, refusals)
        launch_drift = {
            server: launch.drift(settings_of.get(server, {}), configuration)
            + launch.template_drift(settings_of.get(server, {}), template_data.get(server) or {})
            for server, configuration in configurations.items()
        }
        templates = self._template_checks(configurations, template_data, target_of, refusals)
        lag = record.get("maxReplicationLagSeconds")
        thresholds = readiness.Thresholds(
            max_lag=timedelta(seconds=int(lag)) if lag else readiness.DEFAULT_MAX_LAG
        )
        result = readiness.evaluate(
            waves,
            {s: reported.get(s) for _w, servers in waves for s in servers},
            snapshots,
            parse_drs_timestamp(now),
            thresholds,
            self._action_documents(record),
            self._quota_use(plan, servers_by_group, groups, now, set(unreachable)),
            launch_drift,
            readiness.Unreachable(
                {str(k): reason for k, reason in unreachable.items()}, beyond_reach
            ),
            templates,
            refusals,
            self._denials(record, needed, by_name, set(unreachable), refusals),
        )
        return {"planId": plan_id, "planName": plan.name, "evaluatedAt": now, **result.as_dict()}

    def _unreachable_targets(self, records: list[dict[str, Any]]) -> dict[str | None, str]:
        """Each DRS target of these groups whose role cannot be assumed as configured, with
        DRS's or STS's reason (a finding, not a failed evaluation: a role deleted or no
        longer trusting this deployment is exactly what readiness must report). A transient
        refusal (throttled, no answer) fails the evaluation: the next one tries again."""
        found: dict[str | None, str] = {}
        for record in records:
            target = self.inventory.target_of(record)
            if target is None or target.is_home or target.stored_key in found:
                continue
            try:
                self.inventory.drs.of(target.stored_key, self.inventory.session)
            except TargetUnreachableError as exc:
                if exc.transient:
                    raise ServiceUnavailableError(str(exc)) from exc
                found[target.stored_key] = exc.reason
        return found

    def _denials(
        self,
        record: dict[str, Any],
        needed: set[str],
        groups: dict[str, dict[str, Any]],
        unreachable: set[str | None],
        refusals: list[readiness.Refusal],
    ) -> list[permissions.Denial]:
        """What IAM's simulation says the roles acting for the plan may not do: the wave
        runner at home (one simulation per need), each other target's role in its own
        account (it simulates itself). A target role that may not simulate is a refusal
        (a target stack older than the deployment); an unreachable target is already a
        finding of its own."""
        targets = self.inventory.drs.targets
        used = [
            t for n in sorted(needed) if n in groups and (t := self.inventory.target_of(groups[n]))
        ]
        others = sorted(
            {t for t in used if not t.is_home and t.stored_key not in unreachable},
            key=lambda t: t.key,
        )
        has_actions = any(
            wave.get("preActions") or wave.get("postActions") or wave.get("failbackActions")
            for wave in record["waves"]
        )
        wanted = permissions.needs(
            (targets.home.key, targets.home.region),
            [(t.key, t.region, str(t.role_arn)) for t in others],
            launches_at_home=any(t.is_home for t in used),
            has_actions=has_actions,
        )
        denials: list[permissions.Denial] = []
        for need in wanted:
            at_home = need.principal == permissions.RUNNER
            if at_home and not self.runner_role_arn:
                continue
            key = None if at_home else targets.get(need.target).stored_key
            role = self.runner_role_arn if at_home else targets.get(need.target).role_arn
            try:
                simulator = self.inventory.drs.permissions(key, self.inventory.session)
                results = simulator.evaluate(str(role), need.actions, need.resource, need.region)
            except TargetUnreachableError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
            except IamError as exc:
                if exc.code == "NoSuchEntity":
                    denials.append(permissions.missing_role(need))
                    continue
                if exc.code not in REFUSED_CODES or at_home:
                    raise
                refusals.append(
                    readiness.Refusal(need.target, "iam:SimulatePrincipalPolicy", exc.code)
                )
                continue
            denials += permissions.denials(need, results)
        return denials

    @staticmethod
    def _settings_of(
        groups: dict[str, dict[str, Any]], servers_by_group: dict[str, list[str]]
    ) -> dict[str, dict[str, Any]]:
        """Each server's group launch settings (absent: its group has none)."""
        return {
            server: settings
            for name, servers in servers_by_group.items()
            if (settings := (groups.get(name) or {}).get("launchSettings"))
            for server in servers
        }

    def _refusal(self, key: str | None, exc: DrsError | Ec2Error) -> readiness.Refusal:
        service = "ec2" if isinstance(exc, Ec2Error) else "drs"
        action = "".join(part.title() for part in exc.operation.split("_"))
        target = key or self.inventory.drs.targets.home.key
        return readiness.Refusal(str(target), f"{service}:{action}", exc.code, home=key is None)

    def _launch_configurations(
        self,
        servers: list[str],
        target_of: dict[str, str | None],
        refusals: list[readiness.Refusal],
    ) -> dict[str, dict[str, Any]]:
        """Each server's DRS launch configuration, in its own target (eight at a time); a
        target whose role may not read them is a refusal, its servers left out."""

        def read(drs: DrsGateway, server: str) -> dict[str, Any] | None:
            try:
                return drs.launch_configuration(server)
            except DrsAccessDeniedError as exc:
                refusals.append(self._refusal(target_of.get(server), exc))
                return None

        found = self.inventory.per_server(servers, target_of, read)
        return {server: c for server, c in found.items() if c is not None}

    def _template_data(
        self,
        configurations: dict[str, dict[str, Any]],
        target_of: dict[str, str | None],
        refusals: list[readiness.Refusal],
    ) -> dict[str, dict[str, Any] | None]:
        """The default version's data of each server's EC2 launch template (None: there is
        no such template), read in the server's own target, eight at a time; a server whose
        target's role may not read templates is left out (a refusal)."""
        with_template = sorted(s for s, c in configurations.items() if c.get("ec2LaunchTemplateID"))
        refused: set[str] = set()

        def read(ec2: LaunchTemplates, server: str) -> dict[str, Any] | None:
            try:
                return ec2.default_data(configurations[server]["ec2LaunchTemplateID"])
            except Ec2Error as exc:
                if exc.code not in REFUSED_CODES:
                    raise
                refusals.append(self._refusal(target_of.get(server), exc))
                refused.add(server)
                return None

        found = self.inventory.per_server_templates(with_template, target_of, read)
        return {server: data for server, data in found.items() if server not in refused}

    def _template_checks(
        self,
        configurations: dict[str, dict[str, Any]],
        template_data: dict[str, dict[str, Any] | None],
        target_of: dict[str, str | None],
        refusals: list[readiness.Refusal],
    ) -> dict[str, readiness.TemplateCheck]:
        """Each server's launch template as readiness judges it: whether it exists, and
        whether its subnet exists and its instance type is offered (one DescribeSubnets and
        one DescribeInstanceTypeOfferings per target for all its servers)."""
        views = {s: launch.TemplateView.of(d) for s, d in template_data.items() if d is not None}
        subnets: dict[str | None, set[str]] = {}
        types: dict[str | None, set[str]] = {}
        for server, view in views.items():
            key = target_of.get(server)
            if view.subnet_id:
                subnets.setdefault(key, set()).add(view.subnet_id)
            if view.instance_type:
                types.setdefault(key, set()).add(view.instance_type)
        existing: dict[str | None, set[str]] = {}
        offered: dict[str | None, set[str]] = {}
        unchecked: set[str | None] = set()
        for key in sorted(set(subnets) | set(types), key=str):
            try:
                ec2 = self.inventory.drs.templates(key, self.inventory.session)
            except TargetUnreachableError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
            try:
                existing[key] = ec2.existing_subnets(subnets.get(key, set()))
                offered[key] = ec2.offered_instance_types(types.get(key, set()))
            except Ec2Error as exc:
                if exc.code not in REFUSED_CODES:
                    raise
                refusals.append(self._refusal(key, exc))
                unchecked.add(key)
        checks = {}
        for server, data in template_data.items():
            if target_of.get(server) in unchecked:
                continue
            template_id = str(configurations[server]["ec2LaunchTemplateID"])
            view = views.get(server)
            if data is None or view is None:
                checks[server] = readiness.TemplateCheck(template_id, exists=False)
                continue
            key = target_of.get(server)
            method = configurations[server].get("targetInstanceTypeRightSizingMethod")
            checks[server] = readiness.TemplateCheck(
                template_id,
                instance_type=view.instance_type,
                instance_type_offered=view.instance_type in offered.get(key, set()),
                keeps_instance_type=method in (None, launch.KEEPS_INSTANCE_TYPE),
                subnet_id=view.subnet_id,
                subnet_exists=view.subnet_id in existing.get(key, set()),
            )
        return checks

    def _quota_use(
        self,
        plan: RecoveryPlan,
        servers_by_group: dict[str, list[str]],
        groups: list[dict[str, Any]],
        now: str,
        unreachable: set[str | None],
    ) -> list[readiness.QuotaUse]:
        """In each DRS target the plan launches in: the jobs active there now (one
        DescribeJobs listing of the last day's jobs) and what the plan may need at once."""
        since = to_iso(parse_drs_timestamp(now) - ACTIVE_JOBS_LOOKBACK)
        uses = []
        for key, (jobs, servers) in concurrent_demand(
            plan, servers_by_group, self.inventory.group_targets(groups)
        ).items():
            if key in unreachable:
                continue
            try:
                active = self.inventory.drs.of(key, self.inventory.session).active_jobs(since)
            except TargetUnreachableError as exc:
                raise ServiceUnavailableError(str(exc)) from exc
            uses.append(
                readiness.QuotaUse(
                    key or self.inventory.drs.targets.home.key,
                    len(active),
                    sum(len(j.get("participatingServers") or []) for j in active),
                    jobs,
                    servers,
                )
            )
        return uses

    def _action_documents(self, record: dict[str, Any]) -> list[readiness.ActionDocument]:
        """Every pre-wave, post-wave and failback action of the plan with its SSM document's
        type (one DescribeDocument per distinct document)."""
        found: dict[str, str | None] = {}
        actions = []
        for wave in record["waves"]:
            for phase in ("pre", "post", "failback"):
                for index, action in enumerate(wave.get(f"{phase}Actions") or []):
                    name = action["document"]
                    if name not in found:
                        found[name] = self.inventory.automations.document_type(name)
                    actions.append(
                        readiness.ActionDocument(wave["name"], phase, index, name, found[name])
                    )
        return actions

    # -- recorded evaluations ------------------------------------------------------------

    def _records(self) -> ReadinessRecords:
        if self.records is None:  # pragma: no cover - a wiring error
            msg = "readiness history is not configured"
            raise RuntimeError(msg)
        return self.records

    def evaluate_and_record(self, plan_id: str, trigger: str) -> dict[str, Any]:
        """Evaluate one plan, keep the evaluation, and notify a change of its state (after
        any notice an earlier evaluation still owes)."""
        records = self._records()
        previous = records.latest(plan_id)
        # Notices an earlier evaluation could not publish go first, and go on with this
        # evaluation's item if they still cannot: none is lost while SNS refuses.
        carried = self._send(previous) if previous and previous.get("notices") else []
        result = self.evaluate(plan_id)
        expires_at = int(time.time()) + HISTORY_DAYS * 86400
        entry = readiness.stored(result, trigger, expires_at)
        notice = readiness.change_notice(previous, entry)
        pending = carried + ([notice] if notice else [])
        if pending:
            entry["notices"] = pending
        records.record(entry)
        if carried:  # now on the new item: the old one no longer owes them
            records.notices_left(plan_id, previous["evaluatedAt"] if previous else "", [])
        if pending:
            self._send(entry)
        return entry

    def _send(self, entry: dict[str, Any]) -> list[dict[str, Any]]:
        """Publish an evaluation's notices in order, dropping each once SNS took it; a
        refusal stops there and leaves the rest on the item. Returns what is left."""
        left = list(entry["notices"])
        try:
            while left:
                if self.notifier is not None:
                    self.notifier.publish_message(left[0]["subject"], left[0]["message"])
                left.pop(0)
            self._records().notices_left(entry["planId"], entry["evaluatedAt"], left)
        except OrchestratorError as exc:
            self._log("warning", "readiness notices kept for the next evaluation", entry, exc)
            with contextlib.suppress(OrchestratorError):  # else all are sent again: harmless
                self._records().notices_left(entry["planId"], entry["evaluatedAt"], left)
        return left

    def run(
        self,
        plan_ids: Iterable[str] | None,
        trigger: str,
        remaining: Callable[[], float] | None = None,
    ) -> dict[str, Any]:
        """Evaluate and record ``plan_ids`` (None: every plan, least recently evaluated
        first, so a run cut short by its time budget does not leave the same plans behind
        every time). One plan's failure is logged and counted; the others go on."""
        if plan_ids is None:
            wanted = self._stalest_first([r["planId"] for r in self.inventory.plans.all()])
        else:
            wanted = list(dict.fromkeys(plan_ids))
        report: dict[str, Any] = {
            "trigger": trigger,
            "plans": len(wanted),
            "evaluated": 0,
            "missing": 0,
            "failed": 0,
            "deferred": 0,
            "states": {},
        }
        for index, plan_id in enumerate(wanted):
            if remaining is not None and remaining() < RESERVE_SECONDS:
                report["deferred"] = len(wanted) - index
                break
            try:
                entry = self.evaluate_and_record(plan_id, trigger)
            except NotFoundError:
                report["missing"] += 1  # deleted since it was asked for
                continue
            except (OrchestratorError, ServiceUnavailableError) as exc:
                report["failed"] += 1
                self._log("error", "readiness evaluation failed", {"planId": plan_id}, exc)
                continue
            report["evaluated"] += 1
            report["states"][entry["state"]] = report["states"].get(entry["state"], 0) + 1
        return report

    def _stalest_first(self, plan_ids: list[str]) -> list[str]:
        latest = latest_of(self._records(), plan_ids)
        return sorted(plan_ids, key=lambda p: (latest.get(p) or {}).get("evaluatedAt", ""))

    def plans_with_servers(self, server_ids: set[str]) -> list[str]:
        """The plans whose waves launch any of ``server_ids`` (a DRS event names one)."""
        groups = self.inventory.groups.all()
        servers_by_group = self.inventory.servers_by_group(groups=groups)
        touched = {name for name, servers in servers_by_group.items() if server_ids & set(servers)}
        return sorted(
            record["planId"]
            for record in self.inventory.plans.all()
            if touched & groups_of(plan_from(record))
        )

    def _log(self, level: str, message: str, where: dict[str, Any], exc: Exception) -> None:
        if self.logger is not None:
            getattr(self.logger, level)(
                message, extra={"planId": where.get("planId"), "error": str(exc)}
            )
