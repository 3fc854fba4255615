"""The whole orchestrator of one deployment, composed from the other components."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws
from drs_orchestrator import environment as env
from drs_orchestrator.domain.wakeups import LAUNCH_RESULT_PATTERN

from infra import iam
from infra.components.api import STAGE, RestApi, RestApiArgs
from infra.components.datastore import Datastore, DatastoreArgs
from infra.components.forwarded_events import (
    STALLED_PATTERN,
    ForwardedDrsEvents,
    ForwardedDrsEventsArgs,
)
from infra.components.frontend import Frontend, FrontendArgs
from infra.components.function import LambdaFunction, LambdaFunctionArgs
from infra.components.identity import Identity, IdentityArgs
from infra.components.observability import FailedInvocations, Monitoring, MonitoringArgs
from infra.components.orchestration import (
    Notifications,
    NotificationsArgs,
    RecoveryStateMachine,
    RecoveryStateMachineArgs,
)
from infra.components.schedule import (
    EventTrigger,
    EventTriggerArgs,
    PollSchedule,
    PollScheduleArgs,
)
from infra.functions import API, EXECUTION_FINDER, READINESS, WAVE_RUNNER
from infra.naming import (
    AUDIT_ACTOR_INDEX,
    AUDIT_OBJECT_INDEX,
    AUDIT_PLAN_INDEX,
    EXECUTIONS_PLAN_INDEX,
    EXECUTIONS_STATUS_INDEX,
    EXECUTIONS_WATCH_INDEX,
    REPORTS_PREFIX,
)
from infra.packaging import build_and_prove

if TYPE_CHECKING:
    from pathlib import Path

    from infra.settings import Settings


@dataclass
class OrchestratorArgs:
    settings: Settings
    """Validated settings of the stack being deployed."""
    console_dir: Path
    """The operator console's build output (``infra.console.build_console``)."""


class Orchestrator(pulumi.ComponentResource):
    """Tables, the execution finder and its schedule, the wave runner and its state machine,
    the API function and the notifications topic, for one deployment."""

    def __init__(
        self, name: str, args: OrchestratorArgs, opts: pulumi.ResourceOptions | None = None
    ):
        super().__init__("drs-orchestrator:orchestrator:Orchestrator", name, None, opts)
        settings = args.settings
        child = pulumi.ResourceOptions(parent=self)
        # Every package is built and proven before any function is declared: a package
        # that cannot import its handler stops the program with nothing declared for it.
        for spec in (EXECUTION_FINDER, WAVE_RUNNER, API, READINESS):
            build_and_prove(spec)

        names = settings.naming
        self.datastore = Datastore(
            "datastore", DatastoreArgs(names, protect_data=settings.protect_data), child
        )
        executions, job_events = self.datastore.executions, self.datastore.job_events

        holds = self.datastore.server_holds
        self.failed_invocations = FailedInvocations("failed-invocations", names, child)
        self.notifications = Notifications(
            "notifications", NotificationsArgs(names, admin_email=settings.admin_email), child
        )
        finder_environment = {
            env.DEPLOYMENT_NAME: settings.deployment_name,
            env.EXECUTIONS_TABLE: executions.name,
            env.EXECUTIONS_STATUS_INDEX: EXECUTIONS_STATUS_INDEX,
            env.JOB_EVENTS_TABLE: job_events.name,
            env.JOB_EVENTS_RETENTION_DAYS: str(settings.job_events_retention_days),
            env.SERVER_HOLDS_TABLE: holds.name,
        }
        # DRS targets besides home (drsTargets): where each function may act, and the one
        # role per target it may assume there. Nothing is added for a home-only deployment.
        listed = [
            {
                "account": t.account_id,
                "region": t.region,
                "roleArn": t.role_arn(settings.partition),
                "externalId": t.external_id,
            }
            for t in settings.targets
        ]
        assume_targets = []
        if listed:
            finder_environment[env.DRS_TARGETS] = json.dumps(listed)
            roles = [target["roleArn"] for target in listed]
            assume_targets = [iam.statement(["sts:AssumeRole"], roles)]
        indexes = [
            pulumi.Output.concat(executions.arn, "/index/", index)
            for index in (EXECUTIONS_STATUS_INDEX, EXECUTIONS_WATCH_INDEX)
        ]
        self.wave_runner = LambdaFunction(
            "wave-runner",
            LambdaFunctionArgs(
                naming=names,
                log_retention_days=settings.log_retention_days,
                deployment_bucket=settings.deployment_bucket,
                failure_queue_arn=self.failed_invocations.queue.arn,
                package=WAVE_RUNNER,
                description="Runs the waves of a recovery execution for its state machine.",
                timeout_seconds=120,
                environment={
                    **finder_environment,
                    env.TOPIC_ARN: self.notifications.topic.arn,
                    env.POLL_SECONDS: "30",
                    "POWERTOOLS_SERVICE_NAME": "wave-runner",
                },
                statements=[
                    # PutItem: the sleep's token, in the execution's sleep item beside it.
                    iam.statement(
                        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"],
                        [executions.arn],
                    ),
                    iam.statement(["dynamodb:Query"], indexes),
                    iam.statement(
                        ["dynamodb:BatchWriteItem", "dynamodb:PutItem"], [job_events.arn]
                    ),
                    # Frees the servers an ended execution held; finds the execution
                    # holding the server a DRS launch result names (a wake).
                    iam.statement(["dynamodb:DeleteItem", "dynamodb:GetItem"], [holds.arn]),
                    iam.statement(["sns:Publish"], [self.notifications.topic.arn]),
                    iam.unscoped_statement(
                        [
                            "drs:DescribeJobs",
                            "drs:DescribeJobLogItems",
                            "drs:StartRecovery",
                            "drs:CreateRecoveryInstanceForDrs",
                            "drs:ListTagsForResource",
                            "drs:TagResource",
                            "ssm:GetAutomationExecution",
                            "ssm:StartAutomationExecution",
                            # A resume that lands while the machine enters its wait;
                            # a wake that ends the machine's sleep between ticks.
                            "states:SendTaskSuccess",
                        ]
                    ),
                    *assume_targets,
                ],
            ),
            child,
        )
        self.recovery = RecoveryStateMachine(
            "recovery",
            RecoveryStateMachineArgs(
                names, settings.log_retention_days, self.wave_runner.function.arn
            ),
            child,
        )
        # Declared after the machine, which names the runner: the runner hands a long
        # execution over to a fresh run of its own machine (continue-as-new).
        self.wave_runner_run_policy = aws.iam.RolePolicy(
            "wave-runner-run-policy",
            name=names.function_run_policy(WAVE_RUNNER.function),
            role=self.wave_runner.role.id,
            policy=iam.document(
                [iam.statement(["states:StartExecution"], [self.recovery.state_machine.arn])]
            ),
            opts=child,
        )
        # Each finished execution's report, in the deployment bucket (adapters/reports.py):
        # the finder's janitor writes it, the API signs download links for it.
        reports_arn = (
            f"arn:{settings.partition}:s3:::{settings.deployment_bucket}/{REPORTS_PREFIX}*"
        )
        runs_arn = pulumi.Output.concat(
            self.recovery.state_machine.arn.apply(
                lambda arn: arn.replace(":stateMachine:", ":execution:")
            ),
            ":*",
        )
        self.execution_finder = LambdaFunction(
            "execution-finder",
            LambdaFunctionArgs(
                naming=names,
                log_retention_days=settings.log_retention_days,
                deployment_bucket=settings.deployment_bucket,
                failure_queue_arn=self.failed_invocations.queue.arn,
                package=EXECUTION_FINDER,
                description="Polls DRS jobs of running executions and records their events; "
                "heals executions whose state machine is gone.",
                environment={
                    **finder_environment,
                    env.TOPIC_ARN: self.notifications.topic.arn,
                    env.STATE_MACHINE_ARN: self.recovery.state_machine.arn,
                    env.REPORTS_BUCKET: settings.deployment_bucket,
                    "POWERTOOLS_SERVICE_NAME": "execution-finder",
                },
                statements=[
                    iam.statement(["dynamodb:Query"], indexes),
                    iam.statement(["dynamodb:GetItem", "dynamodb:UpdateItem"], [executions.arn]),
                    # Query: a settled execution's job events, for its report.
                    iam.statement(
                        ["dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:Query"],
                        [job_events.arn],
                    ),
                    iam.statement(["s3:PutObject"], [reports_arn]),
                    iam.statement(["dynamodb:DeleteItem"], [holds.arn]),
                    iam.statement(["sns:Publish"], [self.notifications.topic.arn]),
                    iam.statement(["states:DescribeExecution"], [runs_arn]),
                    iam.unscoped_statement(["drs:DescribeJobLogItems", "drs:DescribeJobs"]),
                    *assume_targets,
                ],
            ),
            child,
        )
        groups, plans = self.datastore.protection_groups, self.datastore.recovery_plans
        readiness = self.datastore.readiness
        audit = self.datastore.audit
        self.readiness = LambdaFunction(
            "readiness",
            LambdaFunctionArgs(
                naming=names,
                log_retention_days=settings.log_retention_days,
                deployment_bucket=settings.deployment_bucket,
                failure_queue_arn=self.failed_invocations.queue.arn,
                package=READINESS,
                description="Evaluates the readiness of every recovery plan, records it and "
                "notifies changes of state.",
                timeout_seconds=900,
                environment={
                    env.DEPLOYMENT_NAME: settings.deployment_name,
                    env.PROTECTION_GROUPS_TABLE: groups.name,
                    env.RECOVERY_PLANS_TABLE: plans.name,
                    env.READINESS_TABLE: readiness.name,
                    env.TOPIC_ARN: self.notifications.topic.arn,
                    **(
                        {env.DRS_TARGETS: finder_environment[env.DRS_TARGETS]}
                        if env.DRS_TARGETS in finder_environment
                        else {}
                    ),
                    env.WAVE_RUNNER_ROLE_ARN: self.wave_runner.role.arn,
                    "POWERTOOLS_SERVICE_NAME": "readiness",
                },
                statements=[
                    iam.statement(["dynamodb:GetItem", "dynamodb:Scan"], [groups.arn, plans.arn]),
                    iam.statement(
                        ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
                        [readiness.arn],
                    ),
                    iam.statement(["sns:Publish"], [self.notifications.topic.arn]),
                    # Readiness asks IAM whether the wave runner may launch the plan.
                    iam.statement(["iam:SimulatePrincipalPolicy"], [self.wave_runner.role.arn]),
                    iam.unscoped_statement(
                        [
                            "drs:DescribeJobs",
                            "drs:DescribeRecoverySnapshots",
                            "drs:DescribeSourceServers",
                            "drs:GetLaunchConfiguration",
                            "ssm:DescribeDocument",
                            *iam.LAUNCH_TEMPLATE_READS,
                        ]
                    ),
                    *assume_targets,
                ],
            ),
            child,
        )
        self.api = LambdaFunction(
            "api",
            LambdaFunctionArgs(
                naming=names,
                log_retention_days=settings.log_retention_days,
                deployment_bucket=settings.deployment_bucket,
                failure_queue_arn=self.failed_invocations.queue.arn,
                package=API,
                description="The REST API: protection groups, recovery plans, executions.",
                timeout_seconds=29,
                environment={
                    **finder_environment,
                    env.PROTECTION_GROUPS_TABLE: groups.name,
                    env.RECOVERY_PLANS_TABLE: plans.name,
                    env.STATE_MACHINE_ARN: self.recovery.state_machine.arn,
                    env.READINESS_TABLE: readiness.name,
                    env.READINESS_FUNCTION: self.readiness.function.name,
                    env.WAVE_RUNNER_ROLE_ARN: self.wave_runner.role.arn,
                    env.REPORTS_BUCKET: settings.deployment_bucket,
                    env.AUDIT_TABLE: audit.name,
                    env.AUDIT_RETENTION_DAYS: str(settings.audit_retention_days),
                    "POWERTOOLS_SERVICE_NAME": "api",
                },
                statements=[
                    iam.statement(
                        [
                            "dynamodb:DeleteItem",
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:Scan",
                        ],
                        [groups.arn, plans.arn],
                    ),
                    # A plan's save or delete updates the groups it uses (``usedBy``) in the
                    # same transaction as the plan (TransactWriteItems is authorised per item).
                    iam.statement(["dynamodb:UpdateItem"], [groups.arn]),
                    iam.statement(
                        [
                            "dynamodb:GetItem",
                            "dynamodb:PutItem",
                            "dynamodb:Scan",
                            "dynamodb:UpdateItem",
                        ],
                        [executions.arn],
                    ),
                    # The status index (lists), a plan's executions (its recovery-time
                    # trend), the job events.
                    iam.statement(
                        ["dynamodb:Query"],
                        [
                            indexes[0],
                            pulumi.Output.concat(executions.arn, "/index/", EXECUTIONS_PLAN_INDEX),
                            job_events.arn,
                        ],
                    ),
                    # The audit trail: records are put (never over one) and read, nothing
                    # else (the table's own policy denies every other write to anyone).
                    iam.statement(["dynamodb:PutItem", "dynamodb:Query"], [audit.arn]),
                    # An entry listed by the object its intent named reads its outcome by
                    # key when the outcome names another object (a failback start).
                    iam.statement(["dynamodb:GetItem"], [audit.arn]),
                    iam.statement(
                        ["dynamodb:Query"],
                        [
                            pulumi.Output.concat(audit.arn, "/index/", index)
                            for index in (AUDIT_ACTOR_INDEX, AUDIT_OBJECT_INDEX, AUDIT_PLAN_INDEX)
                        ],
                    ),
                    # Finds a stored report (HeadObject) and signs its download links: the
                    # links act with this role's GetObject.
                    iam.statement(["s3:GetObject"], [reports_arn]),
                    # Holds the plan's servers while the execution runs (conditional puts).
                    iam.statement(
                        ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem"],
                        [holds.arn],
                    ),
                    iam.statement(["states:StartExecution"], [self.recovery.state_machine.arn]),
                    # Reads the readiness history; asks for an evaluation after a change.
                    iam.statement(["dynamodb:Query"], [readiness.arn]),
                    iam.statement(["lambda:InvokeFunction"], [self.readiness.function.arn]),
                    # On-demand readiness asks IAM whether the wave runner may launch the plan.
                    iam.statement(["iam:SimulatePrincipalPolicy"], [self.wave_runner.role.arn]),
                    iam.unscoped_statement(
                        [
                            "drs:DescribeRecoveryInstances",
                            "drs:DescribeRecoverySnapshots",
                            "drs:DescribeSourceServers",
                            "drs:GetLaunchConfiguration",
                            "drs:ListTagsForResource",
                            "drs:TerminateRecoveryInstances",
                            "drs:UpdateLaunchConfiguration",
                            "ec2:DescribeLaunchTemplateVersions",
                            "ssm:DescribeDocument",
                            "states:SendTaskSuccess",
                        ]
                    ),
                    # A group's launch template overrides, on DRS's own templates only.
                    iam.drs_templates_statement(),
                    *assume_targets,
                ],
            ),
            child,
        )
        self.identity = Identity(
            "identity",
            IdentityArgs(
                names, admin_email=settings.admin_email, protect_data=settings.protect_data
            ),
            child,
        )
        self.rest_api = RestApi(
            "api-gateway",
            RestApiArgs(
                naming=names,
                log_retention_days=settings.log_retention_days,
                function_name=self.api.function.name,
                function_invoke_arn=self.api.function.invoke_arn,
                user_pool_arn=self.identity.user_pool.arn,
            ),
            child,
        )
        self.schedule = PollSchedule(
            "execution-finder-schedule",
            PollScheduleArgs(
                naming=names,
                schedule=settings.poll_schedule,
                function_short_name=EXECUTION_FINDER.function,
                function_arn=self.execution_finder.function.arn,
                function_name=self.execution_finder.function.name,
            ),
            child,
        )
        self.readiness_schedule = PollSchedule(
            "readiness-schedule",
            PollScheduleArgs(
                naming=names,
                schedule=settings.readiness_schedule,
                function_short_name=READINESS.function,
                function_arn=self.readiness.function.arn,
                function_name=self.readiness.function.name,
            ),
            child,
        )
        # DRS sends these in the source server's own account and region: these rules hear
        # the deployment's own; its targets forward theirs (ForwardedDrsEvents below).
        self.readiness_events = EventTrigger(
            "readiness-drs-events",
            EventTriggerArgs(
                naming=names,
                function_short_name=READINESS.function,
                purpose="drs-events",
                description="Evaluates the plans of a source server whose data replication "
                "stalled or recovered.",
                event_pattern=STALLED_PATTERN,
                function_arn=self.readiness.function.arn,
                function_name=self.readiness.function.name,
            ),
            child,
        )
        # DRS's launch results wake the execution holding the server, so a dependent
        # wave starts within seconds. Best effort: without them (an event lost) the next
        # tick, at most POLL_SECONDS later, sees the launch.
        self.launch_events = EventTrigger(
            "wave-runner-launch-events",
            EventTriggerArgs(
                naming=names,
                function_short_name=WAVE_RUNNER.function,
                purpose="launch-events",
                description="Wakes the recovery execution of a source server whose drill or "
                "recovery launch ended.",
                event_pattern=LAUNCH_RESULT_PATTERN,
                function_arn=self.wave_runner.function.arn,
                function_name=self.wave_runner.function.name,
                # A wake is worth only its promptness: the next tick finds the launch anyway.
                maximum_event_age_seconds=60,
            ),
            child,
        )
        # The same events from every other target, forwarded to a bus of the deployment's.
        self.forwarded_events = (
            ForwardedDrsEvents(
                "forwarded-drs-events",
                ForwardedDrsEventsArgs(
                    naming=names,
                    partition=settings.partition,
                    targets=settings.targets,
                    wave_runner_arn=self.wave_runner.function.arn,
                    wave_runner_name=self.wave_runner.function.name,
                    readiness_arn=self.readiness.function.arn,
                    readiness_name=self.readiness.function.name,
                ),
                child,
            )
            if settings.targets
            else None
        )
        self.monitoring = Monitoring(
            "monitoring",
            MonitoringArgs(
                naming=names,
                topic_arn=self.notifications.topic.arn,
                poll_schedule=settings.poll_schedule,
                state_machine_arn=self.recovery.state_machine.arn,
                rest_api_name=names.rest_api(),
                stage_name=STAGE,
                queue_name=self.failed_invocations.queue.name,
                function_names={
                    spec.function: function.function.name
                    for spec, function in (
                        (EXECUTION_FINDER, self.execution_finder),
                        (WAVE_RUNNER, self.wave_runner),
                        (API, self.api),
                        (READINESS, self.readiness),
                    )
                },
            ),
            child,
        )
        self.frontend = Frontend(
            "console",
            FrontendArgs(
                naming=names,
                region=settings.region,
                partition=settings.partition,
                build_dir=args.console_dir,
                api_url=self.rest_api.url,
                user_pool_id=self.identity.user_pool.id,
                user_pool_client_id=self.identity.client.id,
            ),
            child,
        )
        self.outputs: dict[str, pulumi.Input[str]] = {
            "deploymentName": settings.deployment_name,
            "region": settings.region,
            "deploymentBucket": settings.deployment_bucket,
            "executionsTableName": executions.name,
            "executionsTableArn": executions.arn,
            "executionsStatusIndex": EXECUTIONS_STATUS_INDEX,
            "jobEventsTableName": job_events.name,
            "jobEventsTableArn": job_events.arn,
            "executionFinderFunctionName": self.execution_finder.function.name,
            "executionFinderFunctionArn": self.execution_finder.function.arn,
            "executionFinderHandler": EXECUTION_FINDER.handler,
            "executionFinderRoleArn": self.execution_finder.role.arn,
            "executionFinderLogGroup": self.execution_finder.log_group.name,
            "executionFinderPackageKey": self.execution_finder.package_object.key,
            "executionFinderPackageSha256": self.execution_finder.package_sha256,
            "protectionGroupsTableName": groups.name,
            "recoveryPlansTableName": plans.name,
            "serverHoldsTableName": holds.name,
            "waveRunnerFunctionName": self.wave_runner.function.name,
            "waveRunnerFunctionArn": self.wave_runner.function.arn,
            "waveRunnerHandler": WAVE_RUNNER.handler,
            "waveRunnerPackageSha256": self.wave_runner.package_sha256,
            "apiFunctionName": self.api.function.name,
            "apiFunctionArn": self.api.function.arn,
            "apiHandler": API.handler,
            "apiPackageSha256": self.api.package_sha256,
            "stateMachineArn": self.recovery.state_machine.arn,
            "topicArn": self.notifications.topic.arn,
            "apiUrl": self.rest_api.url,
            "userPoolId": self.identity.user_pool.id,
            "userPoolClientId": self.identity.client.id,
            "consoleUrl": self.frontend.url,
            "consoleBucket": self.frontend.bucket.bucket,
            "pollScheduleRuleName": self.schedule.rule.name,
            "pollScheduleRuleArn": self.schedule.rule.arn,
            "readinessTableName": readiness.name,
            "readinessFunctionName": self.readiness.function.name,
            "readinessHandler": READINESS.handler,
            "readinessPackageSha256": self.readiness.package_sha256,
            "readinessScheduleRuleName": self.readiness_schedule.rule.name,
            "readinessEventRuleName": self.readiness_events.rule.name,
            "waveRunnerLaunchEventRuleName": self.launch_events.rule.name,
            "auditTableName": audit.name,
            "dashboardName": self.monitoring.dashboard.dashboard_name,
            # JSON: drsctl verify reads every alarm back by its name.
            "alarmNames": pulumi.Output.all(
                *[a.name for a in self.monitoring.alarms.values()]
            ).apply(lambda names: json.dumps(sorted(names))),
            "failedInvocationsQueueName": self.failed_invocations.queue.name,
            # <account>/<region> of each DRS target besides the deployment's own.
            "drsTargets": ", ".join(target.key for target in settings.targets),
        }
        if self.forwarded_events is not None:
            self.outputs["drsEventBusArn"] = self.forwarded_events.bus.arn
        self.register_outputs(self.outputs)
