import Box from "@cloudscape-design/components/box";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { seconds, when } from "../lib/time";
import type { Execution, ExecutionSummary, RecoveryTime } from "../lib/types";
import { ErrorAlert } from "./ErrorAlert";

/** Actual against objective, in words and colour: the one verdict a DR programme needs. */
export function RecoveryVerdict({ measured, objectiveMinutes }: { measured?: RecoveryTime; objectiveMinutes?: number }) {
  if (!measured) return <StatusIndicator type="pending">Not completed</StatusIndicator>;
  const actual = seconds(measured.seconds);
  if (!objectiveMinutes) return <StatusIndicator type="info">{actual} (no objective)</StatusIndicator>;
  return measured.overObjective ? (
    <StatusIndicator type="error">{`${actual}, over the ${objectiveMinutes} min objective`}</StatusIndicator>
  ) : (
    <StatusIndicator type="success">{`${actual}, within the ${objectiveMinutes} min objective`}</StatusIndicator>
  );
}

/** One bar per completed execution, scaled to the slowest (or the objective): a glance
 *  shows whether the plan recovers faster or slower over time. */
function Trend({ items, objectiveMinutes }: { items: ExecutionSummary[]; objectiveMinutes?: number }) {
  const done = items.filter((i) => i.recoveryTime).reverse();
  if (!done.length) return <Box color="text-body-secondary">No completed execution yet.</Box>;
  const objective = objectiveMinutes ? objectiveMinutes * 60 : 0;
  const top = Math.max(objective, ...done.map((i) => i.recoveryTime?.seconds ?? 0)) || 1;
  return (
    <svg role="img" aria-label="Recovery time of recent executions" viewBox={`0 0 ${done.length * 24} 64`} width={done.length * 24} height={64} data-testid="recovery-trend">
      {done.map((item, index) => {
        const value = item.recoveryTime?.seconds ?? 0;
        const height = Math.max(2, (value / top) * 60);
        return (
          <rect key={item.executionId} x={index * 24 + 4} y={64 - height} width={16} height={height} fill={item.recoveryTime?.overObjective ? "#d91515" : "#037f0c"}>
            <title>{`${when(item.startedAt)}: ${seconds(value)}`}</title>
          </rect>
        );
      })}
      {objective > 0 && <line x1={0} x2={done.length * 24} y1={64 - (objective / top) * 60} y2={64 - (objective / top) * 60} stroke="#5f6b7a" strokeDasharray="4 2" />}
    </svg>
  );
}

/** A plan's recovery time objective and how its recent executions did against it. */
export function RecoveryTimePanel({ planId, objectiveMinutes }: { planId: string; objectiveMinutes?: number }) {
  const { api } = useApp();
  // Loaded once per plan (no polling): the history changes only when a run ends.
  const { data: items, error } = usePolling(() => api.planExecutions(planId, 10).then((page) => page.items), 0, false, [api, planId]);
  return (
    <Container
      header={
        <Header variant="h2" description={objectiveMinutes ? `Objective: ${objectiveMinutes} min` : "No objective set"}>
          Recovery time
        </Header>
      }
      data-testid="recovery-time-panel"
    >
      <SpaceBetween size="s">
        <ErrorAlert error={error} header="Could not load the plan's executions" />
        {items && <Trend items={items} objectiveMinutes={objectiveMinutes} />}
        <Table
          variant="embedded"
          loading={!items && !error}
          loadingText="Loading executions"
          items={items ?? []}
          trackBy="executionId"
          empty={<Box textAlign="center">Not run yet.</Box>}
          columnDefinitions={[
            { id: "started", header: "Started", cell: (i) => <a href={`#/executions/${i.executionId}`}>{when(i.startedAt)}</a> },
            { id: "mode", header: "Mode", cell: (i) => i.mode ?? "-" },
            { id: "status", header: "Status", cell: (i) => i.status ?? "-" },
            {
              id: "time",
              header: "Recovery time",
              cell: (i) => <RecoveryVerdict measured={i.recoveryTime} objectiveMinutes={i.recoveryTimeObjectiveMinutes} />,
            },
          ]}
        />
      </SpaceBetween>
    </Container>
  );
}

/** An execution's recovery time against its objective, and each wave's timings. */
export function ExecutionTimings({ execution }: { execution: Execution }) {
  const timings = execution.timings ?? [];
  const figure = (value?: number) => (value === undefined ? "-" : seconds(value));
  return (
    <Container
      header={<Header variant="h2">Recovery time</Header>}
      data-testid="execution-recovery-time"
    >
      <SpaceBetween size="s">
        <RecoveryVerdict measured={execution.recoveryTime} objectiveMinutes={execution.recoveryTimeObjectiveMinutes} />
        <Table
          variant="embedded"
          items={timings}
          trackBy="wave"
          columnDefinitions={[
            { id: "wave", header: "Wave", cell: (t) => t.wave },
            { id: "started", header: "Started after", cell: (t) => figure(t.startedAfter) },
            { id: "approval", header: "Awaiting approval", cell: (t) => figure(t.awaitingApproval) },
            { id: "launch", header: "Launch", cell: (t) => figure(t.launch) },
            { id: "ready", header: "Ready after", cell: (t) => figure(t.readyAfter) },
          ]}
        />
      </SpaceBetween>
    </Container>
  );
}
