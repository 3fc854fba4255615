import Header from "@cloudscape-design/components/header";
import StatusIndicator, { type StatusIndicatorProps } from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import type { Execution } from "../lib/types";

/** Each step in words and colour: what the operator sees while the workload comes home. */
const STEPS: Record<string, [StatusIndicatorProps.Type, string]> = {
  WAITING: ["pending", "Waiting for its wave"],
  REVERSE_INTENDED: ["in-progress", "Reversing replication"],
  AWAITING_CLIENT: ["warning", "Waiting for its failback client"],
  REPLICATING: ["in-progress", "Replicating back"],
  READY: ["success", "Ready for launch"],
  LAUNCH_INTENDED: ["in-progress", "Launch asked"],
  LAUNCHING: ["in-progress", "Launching"],
  HOME: ["success", "Home"],
  FAILED: ["error", "Failed"],
};

/** A failback execution's servers: where each came from and where its failback is. */
export function FailbackSteps({ execution }: { execution: Execution }) {
  const servers = Object.entries(execution.failback ?? {}).map(([id, s]) => ({ id, ...s }));
  return (
    <Table
      data-testid="failback-steps"
      header={<Header variant="h2" description={`Bringing home the workload of recovery ${execution.recoveryExecutionId ?? ""}`}>Failback</Header>}
      items={servers}
      trackBy="id"
      columnDefinitions={[
        { id: "server", header: "Source server", cell: (s) => s.id },
        { id: "instance", header: "Recovery instance", cell: (s) => s.instance },
        { id: "origin", header: "Goes back to", cell: (s) => (s.origin ? `AWS ${s.origin}` : "on premises") },
        {
          id: "step",
          header: "Step",
          cell: (s) => {
            const [type, words] = STEPS[s.step] ?? (["info", s.step] as const);
            return (
              <span data-failback-step={s.id}>
                <StatusIndicator type={type}>{words}</StatusIndicator>
              </span>
            );
          },
        },
        { id: "detail", header: "Detail", cell: (s) => s.reason ?? s.jobId ?? s.reversedServer ?? "-" },
      ]}
    />
  );
}
