// Shapes the REST API answers with (lambdas/drs_orchestrator/api/openapi.json and the
// items the API stores); only what the console reads is typed.

export type Role = "admin" | "operator" | "read-only";

export interface FieldError {
  field: string;
  reason: string;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

export interface ProtectionGroup {
  groupId: string;
  name: string;
  description?: string;
  region: string;
  sourceServerIds?: string[];
  tagSelectors?: Record<string, string[]>;
  resolvedServerIds?: string[];
  version: number;
}

export interface Action {
  document: string;
  parameters?: Record<string, string[]>;
  maxWaitSeconds?: number;
}

export interface Wave {
  name: string;
  protectionGroups: string[];
  dependsOn?: string[];
  pauseBefore?: boolean;
  preActions?: Action[];
  postActions?: Action[];
}

export interface RecoveryPlan {
  planId: string;
  name: string;
  description?: string;
  waves: Wave[];
  version: number;
}

export type ExecutionStatus =
  | "PENDING"
  | "RUNNING"
  | "PAUSED"
  | "CANCELLING"
  | "COMPLETED"
  | "FAILED"
  | "CANCELLED";

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

export interface ExecutionWave {
  name: string;
  dependsOn: string[];
  pauseBefore: boolean;
  approved: boolean;
  servers: string[];
  status: string;
  jobIds: string[];
  startedAt?: string;
  launchedAt?: string;
  endedAt?: string;
  /** Why the wave failed or was skipped, in the runner's words. */
  reason?: string;
}

export interface TrackedJob {
  jobId: string;
  waveName: string;
  status: string;
  type: string;
  servers: string[];
  createdAt?: string;
  endDateTime?: string;
}

export interface TrackedServer {
  sourceServerId: string;
  waveName: string;
  jobId: string;
  launchStatus: string;
  recoveryInstanceId?: string;
}

export interface Execution {
  executionId: string;
  planId: string;
  planName: string;
  mode: "DRILL" | "RECOVERY";
  status: ExecutionStatus;
  startedAt: string;
  updatedAt: string;
  endedAt?: string;
  waves: ExecutionWave[];
  jobs: Record<string, TrackedJob>;
  servers: Record<string, TrackedServer>;
  terminations?: {
    jobId?: string;
    recoveryInstanceIds: string[];
    requestedAt: string;
    status?: "REQUESTED" | "STARTED" | "FAILED";
  }[];
  /** Why the execution ended FAILED or CANCELLED (a wave, a state machine that failed). */
  reason?: string;
  /** Launch batches of at most 100 servers; DEFERRED ones wait for DRS (quota, throttling). */
  batches?: Record<string, LaunchBatch>;
  planVersion?: number;
  version: number;
}

export interface LaunchBatch {
  batchId: string;
  wave: string;
  servers: string[];
  status: "PLANNED" | "INTENDED" | "STARTED" | "DEFERRED" | "REFUSED" | "CANCELLED";
  jobId?: string;
  lastError?: string;
  reason?: string;
}

/** Recovery instances a drill launched that no termination has been asked for yet. */
export function instancesLeft(execution: Execution): string[] {
  const done = new Set((execution.terminations ?? []).flatMap((t) => t.recoveryInstanceIds));
  return Object.values(execution.servers ?? {})
    .filter((s) => s.launchStatus === "LAUNCHED" && s.recoveryInstanceId && !done.has(s.recoveryInstanceId))
    .map((s) => s.recoveryInstanceId as string);
}

export interface JobEvent {
  eventKey: string;
  jobId: string;
  event: string;
  logDateTime: string;
  sourceServerId?: string;
  eventData?: Record<string, string>;
}

export interface SourceServer {
  sourceServerID: string;
  hostname?: string;
  tags?: Record<string, string>;
  protectionGroup?: string;
}
