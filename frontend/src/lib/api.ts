import type {
  AuditEntry,
  Execution,
  ExecutionReportLinks,
  FailbackReadiness,
  ExecutionSummary,
  ExecutionStatus,
  FieldError,
  JobEvent,
  Page,
  ProtectionGroup,
  RecoveryPlan,
  SourceServer,
  LaunchSettingsApplied,
  PlanReadiness,
  ReadinessSummary,
  RecordedReadiness,
  Target,
} from "./types";

/** What the audit trail can be narrowed to (each optional). */
export interface AuditQuery {
  user?: string;
  object?: string;
  plan?: string;
  action?: string;
  from?: string;
  to?: string;
}

/** An API answer that is not a success, in words a person can act on. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly fieldErrors: FieldError[] = [],
  ) {
    super(message);
  }
}

/** Reasons the API gave for ``field`` or anything under it (``waves[1].dependsOn[0]``). */
export function reasonsUnder(error: ApiError | undefined, field: string): string | undefined {
  const reasons = (error?.fieldErrors ?? [])
    .filter((e) => e.field === field || e.field.startsWith(`${field}[`) || e.field.startsWith(`${field}.`))
    .map((e) => e.reason);
  return reasons.length ? reasons.join("; ") : undefined;
}

const STATUS_WORDS: Record<number, string> = {
  401: "Your sign-in has expired or is not valid; sign in again.",
  403: "You are not allowed to do this.",
  404: "It does not exist (any more).",
  409: "Someone else changed it first; reload and try again.",
  429: "The API is throttling requests; try again in a moment.",
  502: "The API failed to answer (its function raised an error).",
  504: "The API timed out.",
};

export type TokenProvider = () => Promise<string>;

export type GroupInput = Omit<ProtectionGroup, "groupId" | "version" | "resolvedServerIds">;
export type PlanInput = Omit<RecoveryPlan, "planId" | "version">;

export class Api {
  constructor(
    private readonly baseUrl: string,
    private readonly token: TokenProvider,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, {
        method,
        headers: {
          Authorization: await this.token(),
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(`Could not reach the API at ${this.baseUrl}: ${String(error)}`, 0);
    }
    const text = await response.text();
    let data: unknown = undefined;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!response.ok) {
      const answer = (data ?? {}) as { message?: string; errors?: FieldError[] };
      const words = answer.message ?? STATUS_WORDS[response.status] ?? response.statusText;
      throw new ApiError(
        `${method} ${path} failed (${response.status}): ${words}`,
        response.status,
        Array.isArray(answer.errors) ? answer.errors : [],
      );
    }
    return data as T;
  }

  private page<T>(path: string, limit: number, nextToken?: string, extra = ""): Promise<Page<T>> {
    const token = nextToken ? `&nextToken=${encodeURIComponent(nextToken)}` : "";
    return this.request<Page<T>>("GET", `${path}?limit=${limit}${token}${extra}`);
  }

  /** Every item of a paginated list, page by page. */
  async all<T>(fetchPage: (token?: string) => Promise<Page<T>>): Promise<T[]> {
    const items: T[] = [];
    let token: string | undefined;
    do {
      const page = await fetchPage(token);
      items.push(...page.items);
      token = page.nextToken;
    } while (token);
    return items;
  }

  groups(limit = 100, nextToken?: string) {
    return this.page<ProtectionGroup>("/protection-groups", limit, nextToken);
  }
  group(groupId: string) {
    return this.request<ProtectionGroup>("GET", `/protection-groups/${groupId}`);
  }
  createGroup(group: GroupInput) {
    return this.request<ProtectionGroup>("POST", "/protection-groups", group);
  }
  /** Set every server of the group to the group's launch settings (safe to repeat). */
  applyLaunchSettings(groupId: string) {
    return this.request<LaunchSettingsApplied>("POST", `/protection-groups/${groupId}/launch-settings/apply`);
  }
  updateGroup(groupId: string, group: GroupInput & { version: number }) {
    return this.request<ProtectionGroup>("PUT", `/protection-groups/${groupId}`, group);
  }
  deleteGroup(groupId: string) {
    return this.request<void>("DELETE", `/protection-groups/${groupId}`);
  }

  plans(limit = 100, nextToken?: string) {
    return this.page<RecoveryPlan>("/recovery-plans", limit, nextToken);
  }
  plan(planId: string) {
    return this.request<RecoveryPlan>("GET", `/recovery-plans/${planId}`);
  }
  createPlan(plan: PlanInput) {
    return this.request<RecoveryPlan>("POST", "/recovery-plans", plan);
  }
  updatePlan(planId: string, plan: PlanInput & { version: number }) {
    return this.request<RecoveryPlan>("PUT", `/recovery-plans/${planId}`, plan);
  }
  deletePlan(planId: string) {
    return this.request<void>("DELETE", `/recovery-plans/${planId}`);
  }
  /** Start a drill or recovery; ``pointInTime`` (UTC, ``2026-11-29T03:00:00Z``) recovers
   * every server from its newest snapshot taken at or before it instead of the latest. */
  /** Evaluate the plan's readiness now (every server in DRS, replicating, recent snapshot). */
  readiness(planId: string) {
    return this.request<PlanReadiness>("GET", `/recovery-plans/${planId}/readiness`);
  }
  startExecution(planId: string, mode: "DRILL" | "RECOVERY", pointInTime?: string) {
    return this.request<Execution>("POST", `/recovery-plans/${planId}/executions`, {
      mode,
      ...(pointInTime ? { pointInTime } : {}),
    });
  }

  executions(limit = 50, nextToken?: string, status?: ExecutionStatus) {
    const filter = status ? `&status=${status}` : "";
    return this.page<Execution>("/executions", limit, nextToken, filter);
  }
  /** The plan's executions, newest first, as summaries (its recovery-time trend). */
  planExecutions(planId: string, limit = 10, nextToken?: string) {
    return this.page<ExecutionSummary>(`/recovery-plans/${planId}/executions`, limit, nextToken);
  }
  execution(executionId: string) {
    return this.request<Execution>("GET", `/executions/${executionId}`);
  }
  /** The plan's recorded evaluations (schedule, changes, DRS events), newest first. */
  readinessHistory(planId: string, limit = 20, nextToken?: string) {
    return this.page<RecordedReadiness>(`/recovery-plans/${planId}/readiness/history`, limit, nextToken);
  }
  /** Every plan with its latest recorded evaluation (the dashboard). */
  readinessOverview(limit = 100, nextToken?: string) {
    return this.page<ReadinessSummary>("/readiness", limit, nextToken);
  }
  jobEvents(executionId: string, limit = 100, nextToken?: string) {
    return this.page<JobEvent>(`/executions/${executionId}/job-events`, limit, nextToken);
  }
  /** The audit trail, newest first, narrowed by ``filter`` (user, object, plan, action,
   *  from, to: the API's query parameters). */
  audit(filter: AuditQuery = {}, limit = 50, nextToken?: string) {
    const extra = Object.entries(filter)
      .filter(([, value]) => value)
      .map(([key, value]) => `&${key}=${encodeURIComponent(String(value))}`)
      .join("");
    return this.page<AuditEntry>("/audit", limit, nextToken, extra);
  }
  /** Whether a finished recovery's workload can fail back now (409 for a drill). */
  failbackReadiness(executionId: string) {
    return this.request<FailbackReadiness>("GET", `/executions/${executionId}/failback-readiness`);
  }
  /** Links to the execution's stored report (404 until the finder has stored it). */
  executionReport(executionId: string) {
    return this.request<ExecutionReportLinks>("GET", `/executions/${executionId}/report`);
  }
  /** Start bringing a finished recovery's workload home (admin): the failback execution. */
  startFailback(executionId: string, options: { restartReplication?: boolean; terminateRecoveryInstances?: boolean } = {}) {
    return this.request<Execution>("POST", `/executions/${executionId}/failback`, options);
  }
  control(executionId: string, action: "resume" | "cancel" | "terminate-instances") {
    return this.request<Execution>("POST", `/executions/${executionId}/${action}`);
  }

  /** The inventory of every DRS target, or of one (``where``: its account and region). */
  sourceServers(limit = 100, nextToken?: string, where?: { accountId?: string; region?: string }) {
    const filter = [
      where?.accountId ? `&accountId=${encodeURIComponent(where.accountId)}` : "",
      where?.region ? `&region=${encodeURIComponent(where.region)}` : "",
    ].join("");
    return this.page<SourceServer>("/source-servers", limit, nextToken, filter);
  }

  /** The deployment's DRS targets, each with whether its role can be assumed now. */
  targets() {
    return this.request<{ items: Target[] }>("GET", "/targets");
  }
}
