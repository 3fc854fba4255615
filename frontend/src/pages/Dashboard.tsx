import Box from "@cloudscape-design/components/box";
import ColumnLayout from "@cloudscape-design/components/column-layout";
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
import { ACTIVE_STATUSES, type Execution } from "../lib/types";

// DRS service quotas per account and region (domain/plans.py checks plans against them).
export const MAX_CONCURRENT_JOBS = 20;
export const MAX_SERVERS_IN_ACTIVE_JOBS = 500;

/** Jobs and servers the orchestrator has in flight, against DRS's quotas. */
export function quotaUse(executions: readonly Execution[]): { jobs: number; servers: number } {
  let jobs = 0;
  let servers = 0;
  for (const execution of executions) {
    for (const job of Object.values(execution.jobs ?? {})) {
      if (job.status !== "COMPLETED") {
        jobs += 1;
        servers += job.servers?.length ?? 0;
      }
    }
  }
  return { jobs, servers };
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
  const use = quotaUse(running);
  const readiness = usePolling(() => api.all((t) => api.readinessOverview(100, t)), 60000);
  return (
    <ContentLayout header={<Header variant="h1">Dashboard</Header>}>
      <SpaceBetween size="l">
        <ErrorAlert error={polled.error} header="Could not load executions" />
        <Container header={<Header variant="h2">DRS quota headroom</Header>}>
          <ColumnLayout columns={2}>
            <ProgressBar
              label="Concurrent jobs"
              value={(100 * use.jobs) / MAX_CONCURRENT_JOBS}
              additionalInfo={`${use.jobs} of ${MAX_CONCURRENT_JOBS} in use, ${MAX_CONCURRENT_JOBS - use.jobs} free`}
            />
            <ProgressBar
              label="Servers in active jobs"
              value={(100 * use.servers) / MAX_SERVERS_IN_ACTIVE_JOBS}
              additionalInfo={`${use.servers} of ${MAX_SERVERS_IN_ACTIVE_JOBS} in use`}
            />
          </ColumnLayout>
          <Box variant="small">Counted from this deployment's executions; other DRS users of the account share the same quotas.</Box>
        </Container>
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
