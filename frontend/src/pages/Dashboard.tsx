import Box from "@cloudscape-design/components/box";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import ProgressBar from "@cloudscape-design/components/progress-bar";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import { ErrorAlert } from "../components/ErrorAlert";
import { ReadinessState } from "../components/ReadinessPanel";
import { Status } from "../components/Status";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { duration, when } from "../lib/time";
import { ACTIVE_STATUSES, type Execution, type Target } from "../lib/types";

// DRS service quotas, each per account and region (domain/plans.py checks plans against them).
export const MAX_CONCURRENT_JOBS = 20;
export const MAX_SERVERS_IN_ACTIVE_JOBS = 500;

/** One account and region's use of DRS's quotas by this deployment's executions. */
export interface QuotaUse {
  key: string;
  label: string;
  jobs: number;
  servers: number;
}

function label(target: Target): string {
  return target.home ? `${target.accountId} (this deployment's), ${target.region}` : `${target.accountId}, ${target.region}`;
}

/**
 * Jobs and servers the orchestrator has in flight in each account and region, against
 * DRS's quotas there: each target's jobs count against that target's own 20 jobs and 500
 * servers, never against one shared total. Every target is listed, in use or not; a job
 * stored without a target ran at home.
 */
export function quotaUse(executions: readonly Execution[], targets: readonly Target[]): QuotaUse[] {
  const home = targets.find((t) => t.home);
  const homeKey = home?.key ?? "home";
  const use = new Map<string, QuotaUse>(
    targets.map((t) => [t.key, { key: t.key, label: label(t), jobs: 0, servers: 0 }]),
  );
  for (const execution of executions) {
    for (const job of Object.values(execution.jobs ?? {})) {
      if (job.status === "COMPLETED") continue;
      const key = job.target ?? homeKey;
      const entry = use.get(key) ?? { key, label: key.replace("/", ", "), jobs: 0, servers: 0 };
      entry.jobs += 1;
      entry.servers += job.servers?.length ?? 0;
      use.set(key, entry);
    }
  }
  return [...use.values()];
}

export function QuotaHeadroom({ use }: { use: readonly QuotaUse[] }) {
  return (
    <Table
      data-testid="quota-headroom"
      variant="embedded"
      items={[...use]}
      trackBy="key"
      empty={<Box textAlign="center">Loading the deployment's DRS targets.</Box>}
      columnDefinitions={[
        { id: "where", header: "Account and region", cell: (u) => u.label },
        {
          id: "jobs",
          header: "Concurrent jobs",
          cell: (u) => (
            <ProgressBar
              value={(100 * u.jobs) / MAX_CONCURRENT_JOBS}
              additionalInfo={`${u.jobs} of ${MAX_CONCURRENT_JOBS} in use, ${MAX_CONCURRENT_JOBS - u.jobs} free`}
            />
          ),
        },
        {
          id: "servers",
          header: "Servers in active jobs",
          cell: (u) => (
            <ProgressBar
              value={(100 * u.servers) / MAX_SERVERS_IN_ACTIVE_JOBS}
              additionalInfo={`${u.servers} of ${MAX_SERVERS_IN_ACTIVE_JOBS} in use`}
            />
          ),
        },
      ]}
    />
  );
}

const link = (e: Execution) => (
  <Link href={`#/executions/${e.executionId}`}>{e.planName}</Link>
);

export function Dashboard() {
  const { api } = useApp();
  const polled = usePolling(() => api.all((t) => api.executions(100, t)), 5000);
  const executions = polled.data ?? [];
  const running = executions.filter((e) => ACTIVE_STATUSES.includes(e.status));
  const recent = executions
    .filter((e) => !ACTIVE_STATUSES.includes(e.status))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .slice(0, 10);
  // Reaching each target's role is asked of IAM: once a minute is plenty for the list.
  const targets = usePolling(() => api.targets(), 60000);
  const use = quotaUse(running, targets.data?.items ?? []);
  const readiness = usePolling(() => api.all((t) => api.readinessOverview(100, t)), 60000);
  return (
    <ContentLayout header={<Header variant="h1">Dashboard</Header>}>
      <SpaceBetween size="l">
        <ErrorAlert error={polled.error} header="Could not load executions" />
        <Container
          header={
            <Header variant="h2" description="DRS's quotas hold per account and region: each target's own 20 jobs and 500 servers.">
              DRS quota headroom
            </Header>
          }
        >
          <QuotaHeadroom use={use} />
          <Box variant="small">Counted from this deployment's executions; other DRS users of each account share its quotas.</Box>
        </Container>
        <ErrorAlert error={targets.error} header="Could not load the DRS targets" />
        <Table
          data-testid="readiness-overview"
          header={
            <Header description="Recorded by the schedule, after every change of a plan or its groups, and on DRS replication events.">
              Plan readiness
            </Header>
          }
          loading={readiness.loading && !readiness.data}
          loadingText="Loading readiness"
          items={readiness.data ?? []}
          trackBy="planId"
          empty={<Box textAlign="center">No recovery plan yet.</Box>}
          columnDefinitions={[
            {
              id: "plan",
              header: "Plan",
              cell: (r) => <Link href={`#/recovery-plans/${r.planId}`}>{r.planName}</Link>,
            },
            {
              id: "state",
              header: "Readiness",
              cell: (r) => <ReadinessState state={r.state} />,
            },
            { id: "findings", header: "Findings", cell: (r) => r.findingCount ?? "-" },
            { id: "when", header: "Last evaluated", cell: (r) => (r.evaluatedAt ? when(r.evaluatedAt) : "-") },
          ]}
        />
        <ErrorAlert error={readiness.error} header="Could not load plan readiness" />
        <Table
          header={<Header counter={`(${running.length})`}>Running executions</Header>}
          loading={polled.loading && !polled.data}
          loadingText="Loading executions"
          items={running}
          trackBy="executionId"
          empty={<Box textAlign="center">No execution is running.</Box>}
          columnDefinitions={[
            { id: "plan", header: "Plan", cell: link },
            { id: "mode", header: "Mode", cell: (e) => e.mode },
            { id: "status", header: "Status", cell: (e) => <Status value={e.status} /> },
            {
              id: "waves",
              header: "Waves done",
              cell: (e) =>
                `${e.waves.filter((w) => ["COMPLETED", "LAUNCHED"].includes(w.status)).length} / ${e.waves.length}`,
            },
            { id: "running", header: "Running for", cell: (e) => duration(e.startedAt) },
          ]}
        />
        <Table
          header={<Header>Recent results</Header>}
          items={recent}
          trackBy="executionId"
          empty={<Box textAlign="center">No finished execution yet.</Box>}
          columnDefinitions={[
            { id: "plan", header: "Plan", cell: link },
            { id: "mode", header: "Mode", cell: (e) => e.mode },
            { id: "status", header: "Result", cell: (e) => <Status value={e.status} /> },
            { id: "started", header: "Started", cell: (e) => when(e.startedAt) },
            { id: "took", header: "Took", cell: (e) => duration(e.startedAt, e.endedAt ?? e.updatedAt) },
          ]}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}
