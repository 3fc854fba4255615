// Shapes the REST API answers with, from the types `npm run types` generates out of
// lambdas/drs_orchestrator/api/openapi.json (src/lib/api-schema.ts, never edited by hand):
// the document is the one description of the API, for its validation, its gateway, the
// fuzzer that checks every answer against it, and this console.
import type { components } from "./api-schema";

type Schemas = components["schemas"];

export type Role = "admin" | "operator" | "read-only";

export type FieldError = NonNullable<Schemas["Error"]["errors"]>[number];

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export type ProtectionGroup = Schemas["ProtectionGroup"];
export type Action = Schemas["PlanAction"];
export type Wave = Schemas["PlanWave"];
export type RecoveryPlan = Schemas["RecoveryPlan"];
export type ExecutionStatus = Schemas["ExecutionStatus"];

export const EXECUTION_STATUSES: ExecutionStatus[] = [
  "PENDING",
  "RUNNING",
  "PAUSED",
  "CANCELLING",
  "COMPLETED",
  "FAILED",
  "CANCELLED",
];

export const ACTIVE_STATUSES: ExecutionStatus[] = ["PENDING", "RUNNING", "PAUSED", "CANCELLING"];

export type ExecutionWave = Schemas["ExecutionWave"];
export type TrackedJob = Schemas["TrackedJob"];
export type TrackedServer = Schemas["TrackedServer"];
export type LaunchBatch = Schemas["LaunchBatch"];
export type Execution = Schemas["Execution"];
export type ExecutionSummary = Schemas["ExecutionSummary"];
export type RecoveryTime = NonNullable<Schemas["Execution"]["recoveryTime"]>;
export type WaveTimings = NonNullable<Schemas["Execution"]["timings"]>[number];
export type JobEvent = Schemas["JobEvent"];
export type ExecutionReportLinks = Schemas["ExecutionReportLinks"];
export type AuditEntry = Schemas["AuditEntry"];
export type FailbackReadiness = Schemas["FailbackReadiness"];
export type SourceServer = Schemas["SourceServer"];
export type Target = Schemas["Target"];
export type PlanReadiness = Schemas["PlanReadiness"];
export type RecordedReadiness = Schemas["RecordedReadiness"];
export type LaunchSettings = Schemas["LaunchSettings"];
export type LaunchSettingsApplied = Schemas["LaunchSettingsApplied"];
export type ReadinessSummary = Schemas["ReadinessSummary"];

/** Where a group's servers replicate: its region, and its account when not this one. */
export function whereOf(item: { accountId?: string; region: string }): string {
  return item.accountId ? `${item.region} · account ${item.accountId}` : `${item.region} (this account)`;
}

/** Recovery instances a drill launched that no termination has been asked for yet. */
export function instancesLeft(execution: Execution): string[] {
  const done = new Set((execution.terminations ?? []).flatMap((t) => t.recoveryInstanceIds));
  return Object.values(execution.servers ?? {})
    .filter((s) => s.launchStatus === "LAUNCHED" && s.recoveryInstanceId && !done.has(s.recoveryInstanceId))
    .map((s) => s.recoveryInstanceId as string);
}

