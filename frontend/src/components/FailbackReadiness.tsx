import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Header from "@cloudscape-design/components/header";
import Table from "@cloudscape-design/components/table";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { when } from "../lib/time";
import { ErrorAlert } from "./ErrorAlert";
import { FindingSeverity, ReadinessState } from "./ReadinessPanel";

/** Bytes in the unit a person reads them in. */
export function size(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
}

/** How often the panel asks again while a failback of the recovery runs. */
const LIVE_MS = 15_000;

/**
 * Can this finished recovery's workload go home now: each server's recovery instance,
 * failback client or origin, failback replication, and the data still to move. Shown on
 * the recovery's page before a failback, and live on the failback's page while it runs
 * (the replication back: its lag, what is left to move).
 */
export function FailbackReadinessPanel({ recoveryExecutionId, live = false }: { recoveryExecutionId: string; live?: boolean }) {
  const { api } = useApp();
  const result = usePolling(() => api.failbackReadiness(recoveryExecutionId), LIVE_MS, live, [recoveryExecutionId]);
  const data = result.data;
  return (
    <Table
      data-testid="failback-readiness"
      loading={result.loading && !data}
      loadingText="Asking DRS about every recovery instance"
      items={data?.findings ?? []}
      trackBy={(f) => `${f.check}#${f.sourceServerId}`}
      header={
        <Header
          variant="h2"
          description={
            data
              ? `${data.servers} recovered server(s) checked ${when(data.evaluatedAt)}; ${size(data.totalBytesToMove)} to move back`
              : "Whether each recovered server can fail back: its recovery instance, failback client or origin, and failback replication."
          }
          actions={
            <Button iconName="refresh" loading={result.loading} onClick={() => void result.refresh()}>
              Check failback readiness
            </Button>
          }
        >
          <span data-testid="failback-readiness-state">
            Failback: <ReadinessState state={data?.state} />
          </span>
        </Header>
      }
      empty={<Box textAlign="center">{data ? "Nothing to fix." : "-"}</Box>}
      columnDefinitions={[
        { id: "severity", header: "Severity", cell: (f) => <FindingSeverity severity={f.severity} /> },
        { id: "server", header: "Source server", cell: (f) => f.sourceServerId },
        { id: "message", header: "Finding", cell: (f) => f.message },
        { id: "fix", header: "Fix", cell: (f) => f.fix },
        { id: "bytes", header: "To move", cell: (f) => size(data?.bytesToMove[f.sourceServerId] ?? 0) },
      ]}
      footer={<ErrorAlert error={result.error} header="Could not evaluate the failback readiness" />}
    />
  );
}
