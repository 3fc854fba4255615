"""``drsctl sandbox``: the whole orchestrator on localhost, without an AWS account.

Start order: evaluate each stack's program offline; start the AWS gateway (moto in server
mode, DRS simulators in front); deploy each stack's run-time resources into it; start each
deployment's site (API + console); seed; start the clock (schedules, DRS pacing). Stop is
the reverse, and ends every process the sandbox started.
"""

from __future__ import annotations

import gc
import json
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.request import urlopen

import boto3

from drsctl.sandbox import SANDBOX_SECRET
from drsctl.sandbox.accounts import act_as_functions, alnum, create_target_roles, fan_out
from drsctl.sandbox.clock import SCHEDULE_INVOKE_CONFIG, Clock, ScheduledRule
from drsctl.sandbox.deploy import Deployment, Pacing, deploy
from drsctl.sandbox.drs import DrsSimulator
from drsctl.sandbox.dynamodb_wire import send_dynamodb_results_as_json
from drsctl.sandbox.ec2 import MotoLaunchTemplates
from drsctl.sandbox.events import EventBus, Forwarding
from drsctl.sandbox.gateway import AwsGateway, GatewayServer
from drsctl.sandbox.metrics import EmittedMetrics
from drsctl.sandbox.moto_actions import find_actions_once
from drsctl.sandbox.records import stored_items
from drsctl.sandbox.runtime import LambdaRuntime
from drsctl.sandbox.seed import (
    AWS_SOURCES,
    SOURCE_SERVERS,
    seed_catalog,
    seed_source_servers,
    seed_target,
    seed_target_groups,
    targets_config,
)
from drsctl.sandbox.site import SandboxUser, Site
from drsctl.sandbox.ssm import AutomationSimulator
from infra.components.forwarded_events import forwarder_role_arn
from infra.components.identity import ROLE_GROUPS
from infra.console import build_console
from infra.naming import Naming
from infra.project_config import Declaration

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from botocore.config import Config

    from drsctl.sandbox.sts import TrustChecker

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Written in the workdir once the sandbox is ready, removed when it stops.
STATE_FILE = "sandbox.json"


@dataclass
class SandboxOptions:
    stacks: Sequence[str] = ("dev",)
    port: int = 8080
    """Port of the first deployment's site; the next deployments take the next ports (0:
    any free port)."""
    time_scale: float = 20.0
    drs_phase_seconds: float = 3.0
    throttle_rate: float = 0.0
    #: Share of the wave runner's and the finder's AWS calls that meet a random fault
    #: (throttle, 5xx, answer lost, the function dying before or after the call).
    chaos_rate: float = 0.0
    chaos_seed: int = 0
    #: Lose every event DRS sends instead of delivering it to the deployment's rules.
    drop_drs_events: bool = False
    failing_servers: Sequence[str] = ()
    groups: Sequence[str] = ("admin",)
    seed: bool = True
    #: Give a stack without ``drsTargets`` two simulated DRS targets (``seed.TARGETS``).
    targets: bool = True
    console: bool = True
    workdir: Path = field(default_factory=lambda: PROJECT_ROOT / ".sandbox")
    #: Where function packages are unpacked, one directory per digest (default
    #: ``workdir/packages``); sandboxes given the same directory share them.
    packages: Path | None = None


@dataclass
class RunningDeployment:
    deployment: Deployment
    simulator: DrsSimulator
    access_key: str
    site: Site
    #: The deployment's DRS targets, (account, region) each.
    targets: tuple[tuple[str, str], ...] = ()
    #: The default bus of the deployment's account and region (DRS's events).
    bus: EventBus | None = None
    #: The deployment's own bus, for what its targets forward (None without targets).
    target_bus: EventBus | None = None
    #: What its functions would send CloudWatch (their EMF log lines, summed).
    metrics: EmittedMetrics | None = None


class Sandbox:
    """Everything ``drsctl sandbox`` runs, started and stopped together."""

    def __init__(self, options: SandboxOptions, say: Callable[[str], None] = print) -> None:
        self.options = options
        self.say = say
        self.deployments: dict[str, RunningDeployment] = {}
        self._gateway: GatewayServer | None = None
        self._runtime: LambdaRuntime | None = None
        self._clock: Clock | None = None
        self._restore: list[Callable[[], None]] = []
        self._chaos_draws = 0
        self._targets: dict[tuple[str, str], DrsSimulator] = {}
        self._trust: TrustChecker | None = None

    # -- start ------------------------------------------------------------------------

    def start(self) -> None:

        options = self.options
        running = running_sandbox(options.workdir)
        if running:
            msg = (
                f"a sandbox started from {options.workdir} still answers at {running}; "
                "stop it first, or pass another --workdir"
            )
            raise SandboxBusyError(msg)
        if options.workdir.exists():
            shutil.rmtree(options.workdir)
        options.workdir.mkdir(parents=True)
        console_dir = build_console(say=self.say) if options.console else None
        evaluations = self._evaluations()

        simulators = {}
        automations: dict[str, AutomationSimulator] = {}
        for index, evaluation in enumerate(evaluations):
            simulator = DrsSimulator(
                region=str(evaluation.config["aws:region"]),
                pace_seconds=options.drs_phase_seconds,
                throttle_rate=options.throttle_rate,
            )
            simulator.failing_servers = set(options.failing_servers)
            simulator.templates = MotoLaunchTemplates(simulator.account, simulator.region)
            seed_source_servers(simulator)
            simulators[f"SANDBOX{index}{alnum(evaluation.stack)}"] = simulator
            automations[f"SANDBOX{index}{alnum(evaluation.stack)}"] = AutomationSimulator()
        targets = self._target_simulators(evaluations)
        # A reverse replication puts its reversed server in the origin's DRS: a deployment's
        # own, or a target's.
        by_place = {(sim.account, sim.region): sim for sim in simulators.values()} | targets
        for sim in [*simulators.values(), *targets.values()]:
            sim.origin_drs = lambda region, account: by_place.get((account, region))
        for evaluation, home in zip(evaluations, simulators.values(), strict=True):
            create_target_roles(evaluation, home.account)
        self._configure_moto()
        self._restore.append(send_dynamodb_results_as_json())
        self._restore.append(find_actions_once())
        aws_gateway = AwsGateway(simulators, targets, automations=automations)
        self._trust = aws_gateway.trust
        self._gateway = GatewayServer(aws_gateway)
        self._gateway.start()
        os.environ["MOTO_PORT"] = str(self._gateway.port)  # moto's Step Functions calls Lambda here
        self.say(
            "AWS services (moto server mode + DRS and SSM Automation simulators): "
            f"{self._gateway.url}"
        )

        keys_by_function: dict[str, str] = {}
        self._runtime = LambdaRuntime(
            options.workdir,
            partial(self._function_environment, keys_by_function),
            options.packages,
        )
        self._install_lambda_runtime(self._runtime)
        pacing = Pacing(options.time_scale)
        rules = []
        #: Each target's forwarding to each deployment that names it, by (account, region).
        forwarders: dict[tuple[str, str], list[Forwarding]] = {}
        secret, issued_at = secrets.token_urlsafe(16), int(time.time())
        user = SandboxUser(
            username="sandbox-user",
            email="sandbox-user@example.com",
            groups=tuple(options.groups),
            secret=secret,
            issued_at=issued_at,
        )
        # One user per role besides: the console signs in as any of them (its user menu).
        by_role = {
            role: SandboxUser(
                username=f"sandbox-{role}",
                email=f"sandbox-{role}@example.com",
                groups=(role,),
                secret=secret,
                issued_at=issued_at,
            )
            for role in ROLE_GROUPS
        }
        for index, ((access_key, simulator), evaluation) in enumerate(
            zip(simulators.items(), evaluations, strict=True)
        ):
            clients = partial(self.client, access_key, str(evaluation.config["aws:region"]))
            self.say(f"deploying {evaluation.stack} into the sandbox...")
            deployment = deploy(evaluation, clients, pacing, self.say)
            keys_by_function.update(
                act_as_functions(aws_gateway, deployment, access_key, simulator.account)
            )
            port = options.port + index if options.port else 0
            site = Site(
                deployment,
                clients("lambda"),
                simulator,
                user,
                console_dir,
                partial(self.state, evaluation.stack),
                port,
                others=list(by_role.values()),
                records=partial(self._records, aws_gateway, simulator, deployment.deployment_name),
            )
            site.start()
            # DRS's events reach the default bus of their own account and region, as in
            # AWS; each target's reach the deployment's own bus through its forwarding.
            bus = EventBus(
                deployment.event_rules,
                clients("events"),
                clients("lambda"),
                self.say,
                drop=options.drop_drs_events,
            )
            bus.start()
            simulator.on_event = bus.put
            target_bus = self._target_bus(deployment, clients, evaluation, forwarders)
            emitted = EmittedMetrics(
                [self._runtime.log_path(name) for name in deployment.functions.values()]
            )
            self.deployments[evaluation.stack] = RunningDeployment(
                deployment,
                simulator,
                access_key,
                site,
                _targets_of(evaluation),
                bus,
                target_bus,
                emitted,
            )
            # EventBridge invokes a schedule's target once per firing: never again because
            # an answer was slow (botocore retries a read time-out), and a run may take as
            # long as the function's own time-out.
            schedule_invoker = clients("lambda", SCHEDULE_INVOKE_CONFIG)
            rules += [
                ScheduledRule(name, clients("events"), schedule_invoker, deployment.region)
                for name in deployment.schedule_rules
            ]
            if options.seed:
                # The catalog is an admin's to make, whoever the console signs in as.
                admin = by_role["admin"].token
                seed_catalog(f"{site.url}/api", admin, deployment.region)
                seed_target_groups(f"{site.url}/api", admin, list(_targets_of(evaluation)))
                self.say(
                    f"  {evaluation.stack}: seeded {len(SOURCE_SERVERS) + len(AWS_SOURCES)} "
                    "source servers, 3 groups, 1 plan"
                )
            for account, region in _targets_of(evaluation):
                self.say(f"  {evaluation.stack}: DRS target {account}/{region} (simulated)")
        self._targets = targets
        for key, target in targets.items():
            target.on_event = fan_out(forwarders.get(key, []))
        self._clock = Clock(rules, [*simulators.values(), *targets.values()], pacing, self.say)
        self._clock.start()
        # Where each deployment answers, for tools run beside the sandbox (drsctl compare).
        (options.workdir / STATE_FILE).write_text(
            json.dumps({stack: r.site.url for stack, r in self.deployments.items()})
        )

    def _evaluations(self) -> list[Any]:
        """Each stack evaluated offline, with the sandbox's two DRS targets where it lists
        none (``--no-targets``: none)."""
        from infra import offline
        from infra.stacks import load_stack_config

        key = Declaration.of(PROJECT_ROOT / "Pulumi.yaml").key("drsTargets").full_name
        evaluations = []
        for stack in self.options.stacks:
            self.say(f"evaluating stack {stack} offline (program, packages, handler proofs)...")
            # Told by the stack's config, not by evaluating the program twice.
            listed = json.loads(load_stack_config(stack, PROJECT_ROOT).get(key) or "[]")
            overrides = {key: targets_config(stack)} if self.options.targets and not listed else {}
            evaluations.append(offline.evaluate(stack, config_overrides=overrides))
        return evaluations

    def _target_simulators(self, evaluations: list[Any]) -> dict[tuple[str, str], DrsSimulator]:
        """Each DRS target is one account's DRS in one region, shared by the deployments
        that name it (as in AWS)."""
        targets: dict[tuple[str, str], DrsSimulator] = {}
        for evaluation in evaluations:
            for account, region in _targets_of(evaluation):
                if (account, region) not in targets:
                    target = DrsSimulator(
                        region=region,
                        account=account,
                        pace_seconds=self.options.drs_phase_seconds,
                        throttle_rate=self.options.throttle_rate,
                    )
                    target.templates = MotoLaunchTemplates(account, region)
                    seed_target(target, account, region)
                    targets[(account, region)] = target
        return targets

    def _target_bus(
        self,
        deployment: Deployment,
        clients: Callable[..., Any],
        evaluation: Any,
        forwarders: dict[tuple[str, str], list[Forwarding]],
    ) -> EventBus | None:
        """The deployment's own bus for its targets' DRS events, started, and the
        forwarding of each of its targets to it (what each target program declares)."""
        if not deployment.bus_rules:
            return None
        [(name, bus_rules)] = deployment.bus_rules.items()
        bus = EventBus(
            bus_rules,
            clients("events"),
            clients("lambda"),
            self.say,
            drop=self.options.drop_drs_events,
            bus_name=name,
        )
        bus.start()
        naming = Naming(deployment.deployment_name)
        for account, region in _targets_of(evaluation):
            role = forwarder_role_arn("aws", account, naming)
            policy = deployment.bus_policies.get(name, {})
            forwarders.setdefault((account, region), []).append(
                Forwarding(bus, policy, account, role)
            )
        return bus

    def client(
        self, access_key: str, region: str, service: str, config: Config | None = None
    ) -> Any:
        gateway = self._started_gateway()
        return boto3.client(
            service,
            config=config,
            region_name=region,
            endpoint_url=gateway.url,
            aws_access_key_id=access_key,
            aws_secret_access_key=SANDBOX_SECRET,
        )

    def _function_environment(self, keys: dict[str, str], function_name: str) -> dict[str, str]:
        """What Lambda puts in every function's environment, pointed at the sandbox (and,
        with ``--chaos``, the fault rate for the execution core's functions)."""
        chaos = {}
        if self.options.chaos_rate and not function_name.endswith("-api"):
            # Each environment draws its own faults: a restarted one must not replay them.
            self._chaos_draws += 1
            chaos = {
                "SANDBOX_CHAOS_RATE": str(self.options.chaos_rate),
                "SANDBOX_CHAOS_SEED": str(self.options.chaos_seed * 1000 + self._chaos_draws),
            }
        return {
            **chaos,
            "AWS_ENDPOINT_URL": self._started_gateway().url,
            "AWS_ACCESS_KEY_ID": keys[function_name],
            "AWS_SECRET_ACCESS_KEY": SANDBOX_SECRET,
            "AWS_REGION": self._region_of(function_name),
            "AWS_DEFAULT_REGION": self._region_of(function_name),
            "PATH": "/usr/bin:/bin",
            "TZ": "UTC",
        }

    def _started_gateway(self) -> GatewayServer:
        if self._gateway is None:
            msg = "the sandbox's AWS gateway is not started"
            raise RuntimeError(msg)
        return self._gateway

    def _region_of(self, function_name: str) -> str:
        for running in self.deployments.values():
            if function_name in running.deployment.functions.values():
                return running.deployment.region
        return "us-east-1"

    @staticmethod
    def _configure_moto() -> None:
        from moto.core.config import default_user_config

        default_user_config["lambda"] = {"use_docker": False}
        default_user_config["stepfunctions"] = {"execute_state_machine": True}

    def _install_lambda_runtime(self, runtime: LambdaRuntime) -> None:
        from moto.awslambda_simple.models import LambdaSimpleBackend

        original = LambdaSimpleBackend.invoke

        def invoke(
            backend: LambdaSimpleBackend,
            function_name: str,
            qualifier: str | None,
            body: Any,
            headers: Any,
            response_headers: Any,
        ) -> bytes:
            function = backend.get_function(function_name, qualifier)
            if (headers or {}).get("X-Amz-Invocation-Type") == "Event":
                # Queued, as Lambda queues it: the caller (the API) does not wait.
                threading.Thread(target=runtime.invoke, args=(function, body), daemon=True).start()
                return b""
            result = runtime.invoke(function, body)
            if result.failed:
                response_headers["x-amz-function-error"] = "Unhandled"
            return result.payload

        LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
        self._restore.append(lambda: setattr(LambdaSimpleBackend, "invoke", original))

    # -- look ---------------------------------------------------------------------------

    @staticmethod
    def _records(
        gateway: AwsGateway, home: DrsSimulator, deployment_name: str, tables: list[str]
    ) -> dict[str, Any]:
        """The deployment's stored items as digests (``/sandbox/records``)."""
        return gateway.read_moto(
            partial(stored_items, home.account, home.region, deployment_name, tables)
        )

    def state(self, stack: str) -> dict[str, Any]:
        running = self.deployments[stack]
        rules = [
            r
            for r in (self._clock.rules if self._clock else [])
            if r.name in running.deployment.schedule_rules
        ]
        return {
            "stack": stack,
            "deploymentName": running.deployment.deployment_name,
            "drs": running.simulator.snapshot(),
            "targets": {
                f"{account}/{region}": self._targets[(account, region)].snapshot()
                for account, region in running.targets
                if (account, region) in self._targets
            },
            "invocations": {
                name: (self._runtime.invocations.get(name, 0) if self._runtime else 0)
                for name in running.deployment.functions.values()
            },
            "schedules": [
                {
                    "rule": r.name,
                    "firings": r.firings,
                    "overlapped": r.overlapped,
                    "errors": list(r.errors)[-5:],
                }
                for r in rules
            ],
            "clock": {
                "alive": bool(self._clock and self._clock.alive),
                "steps": self._clock.steps if self._clock else 0,
                "errors": list(self._clock.errors)[-5:] if self._clock else [],
            },
            "events": {
                "sent": running.simulator.events_sent,
                **(dict(running.bus.counts) if running.bus else {}),
                "errors": running.bus.errors[-5:] if running.bus else [],
                # What the targets forwarded to the deployment's own bus.
                "fromTargets": {
                    **(dict(running.target_bus.counts) if running.target_bus else {}),
                    "errors": running.target_bus.errors[-5:] if running.target_bus else [],
                },
            },
            # Every background loop's newest failures in one place: the clock's, each
            # schedule's and the event bus's (each loop recorded it and went on).
            "errors": [
                *(list(self._clock.errors) if self._clock else []),
                *(e for r in rules for e in r.errors),
                *(running.bus.errors if running.bus else []),
                *(running.target_bus.errors if running.target_bus else []),
            ][-20:],
            # AssumeRoles the sandbox's STS refused (a role's trust did not allow them).
            "assumeRoleRefused": list(self._trust.refused[-5:]) if self._trust else [],
            "workerPids": self._runtime.pids() if self._runtime else [],
            # The sandbox's own garbage collector (``drsctl/collector.py``).
            "collector": {"frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold()},
            # The metrics its alarms and dashboard would read (EMF in the function logs).
            "metrics": running.metrics.snapshot() if running.metrics else [],
            # How to reach this deployment's emulated AWS directly (drsctl compare reads
            # the state machine's history with it).
            "aws": {
                "endpoint": self._started_gateway().url,
                "accessKeyId": running.access_key,
                "region": running.deployment.region,
                "stateMachineArn": running.deployment.state_machine_arn,
            },
        }

    def ready_line(self) -> str:
        return "sandbox ready: " + json.dumps(
            {stack: r.site.url for stack, r in self.deployments.items()}
        )

    # -- stop -----------------------------------------------------------------------------

    def stop(self) -> None:
        if self._clock:
            self._clock.stop()
        for running in self.deployments.values():
            running.site.stop()
            if running.bus:
                running.bus.stop()
            if running.target_bus:
                running.target_bus.stop()
        if self._runtime:
            self._runtime.stop()
        if self._gateway:
            self._gateway.stop()
        (self.options.workdir / STATE_FILE).unlink(missing_ok=True)
        for restore in reversed(self._restore):
            restore()
        self._restore.clear()


class SandboxBusyError(RuntimeError):
    """Raised when another sandbox runs from the same workdir."""


def running_sandbox(workdir: Path) -> str | None:
    """The URL of a sandbox that wrote ``workdir``'s state file and still answers, if any."""
    try:
        urls = json.loads((workdir / STATE_FILE).read_text())
    except (OSError, ValueError):
        return None
    for url in urls.values():
        try:
            with urlopen(f"{url}/config.json", timeout=2):  # noqa: S310  # nosec B310
                return str(url)
        except OSError:
            continue
    return None


def _targets_of(evaluation: Any) -> tuple[tuple[str, str], ...]:
    """The DRS targets a deployment was planned with (its ``drsTargets`` output)."""
    keys = [k.strip() for k in str(evaluation.outputs.get("drsTargets") or "").split(",")]
    return tuple((k.split("/")[0], k.split("/")[1]) for k in keys if "/" in k)
