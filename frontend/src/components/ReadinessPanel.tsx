import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ExpandableSection from "@cloudscape-design/components/expandable-section";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator, { type StatusIndicatorProps } from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { useCallback, useEffect, useState } from "react";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { when } from "../lib/time";
import type { PlanReadiness, RecordedReadiness } from "../lib/types";
import { ErrorAlert } from "./ErrorAlert";

const STATES: Record<PlanReadiness["state"], [StatusIndicatorProps.Type, string]> = {
  passed: ["success", "Ready"],
  warnings: ["warning", "Ready, with warnings"],
  actionRequired: ["error", "Action required"],
};

/** A readiness state in words and colour; none yet (null, undefined): not evaluated. */
export function ReadinessState({ state }: { state?: PlanReadiness["state"] | null }) {
  const [type, words] = state ? STATES[state] : (["pending", "Not evaluated yet"] as const);
  return <StatusIndicator type={type}>{words}</StatusIndicator>;
}

/** A finding's severity in words and colour (plan and failback readiness alike). */
export function FindingSeverity({ severity }: { severity: PlanReadiness["findings"][number]["severity"] }) {
  const required = severity === "actionRequired";
  return <StatusIndicator type={required ? "error" : "warning"}>{required ? "Action required" : "Warning"}</StatusIndicator>;
}

const TRIGGERS: Record<RecordedReadiness["trigger"], string> = {
  schedule: "schedule",
  "plan-changed": "plan changed",
  "group-changed": "group changed",
  "replication-event": "DRS replication event",
  "on-demand": "on demand",
};

/** The plan's recorded evaluations, newest first: when its state changed, and why. */
export function ReadinessHistory({ planId }: { planId: string }) {
  const { api } = useApp();
  // Loaded once per plan (no polling).
  const { data: items, error } = usePolling(() => api.readinessHistory(planId).then((page) => page.items), 0, false, [api, planId]);
  return (
    <ExpandableSection headerText={`History${items ? ` (${items.length})` : ""}`} data-testid="readiness-history">
      <SpaceBetween size="s">
        <ErrorAlert error={error} header="Could not load the readiness history" />
        <Table
          variant="embedded"
          loading={!items && !error}
          loadingText="Loading recorded evaluations"
          items={items ?? []}
          trackBy="evaluatedAt"
          empty={<Box textAlign="center">Not evaluated by the schedule yet.</Box>}
          columnDefinitions={[
            { id: "when", header: "Evaluated", cell: (e) => when(e.evaluatedAt) },
            {
              id: "state",
              header: "State",
              cell: (e) => <ReadinessState state={e.state} />,
            },
            { id: "findings", header: "Findings", cell: (e) => e.findingCount },
            { id: "trigger", header: "Why", cell: (e) => TRIGGERS[e.trigger] ?? e.trigger },
          ]}
        />
      </SpaceBetween>
    </ExpandableSection>
  );
}

/** Can this plan recover now? Evaluated when shown and on demand (GET .../readiness). */
export function ReadinessPanel({ planId }: { planId: string }) {
  const { api } = useApp();
  const [result, setResult] = useState<PlanReadiness>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(false);
  const check = useCallback(async () => {
    setLoading(true);
    setError(undefined);
    try {
      setResult(await api.readiness(planId));
    } catch (caught) {
      setError(caught);
    } finally {
      setLoading(false);
    }
  }, [api, planId]);
  useEffect(() => {
    void check();
  }, [check]);
  return (
    <Table
      data-testid="readiness"
      loading={loading && !result}
      loadingText="Asking DRS about every server of the plan"
      items={result?.findings ?? []}
      trackBy={(f) => `${f.check}#${f.sourceServerId}`}
      header={
        <Header
          variant="h2"
          description={
            result ? `${result.servers} source server(s) checked ${when(result.evaluatedAt)}` : "Every server in DRS, replicating continuously, lag under the plan's threshold, a recent snapshot."
          }
          actions={
            <Button iconName="refresh" loading={loading} onClick={() => void check()}>
              Check readiness
            </Button>
          }
        >
          <span data-testid="readiness-state">
            Readiness: <ReadinessState state={result?.state} />
          </span>
        </Header>
      }
      empty={<Box textAlign="center">{result ? "Nothing to fix." : "-"}</Box>}
      columnDefinitions={[
        { id: "severity", header: "Severity", cell: (f) => <FindingSeverity severity={f.severity} /> },
        { id: "wave", header: "Wave", cell: (f) => f.wave },
        { id: "server", header: "Source server", cell: (f) => f.sourceServerId },
        { id: "message", header: "Finding", cell: (f) => f.message },
        { id: "fix", header: "Fix", cell: (f) => f.fix },
      ]}
      footer={
        <SpaceBetween size="s">
          <ErrorAlert error={error} header="Could not evaluate the plan's readiness" />
          <ReadinessHistory planId={planId} />
        </SpaceBetween>
      }
    />
  );
}
