import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ExpandableSection from "@cloudscape-design/components/expandable-section";
import Header from "@cloudscape-design/components/header";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import type { AuditQuery } from "../lib/api";
import { useApp } from "../lib/context";
import { usePagedList } from "../lib/paged";
import { when } from "../lib/time";
import type { AuditEntry } from "../lib/types";
import { ErrorAlert } from "./ErrorAlert";

const REFRESH_MS = 15_000;

const OUTCOMES: Record<AuditEntry["outcome"], "success" | "warning" | "error" | "pending"> = {
  succeeded: "success",
  refused: "warning",
  failed: "error",
  unknown: "pending",
};

/** The action in words: "startDrill" -> "start drill". */
export function actionText(action: string): string {
  return action.replace(/([A-Z])/g, " $1").toLowerCase();
}

function Outcome({ entry }: { entry: AuditEntry }) {
  const text =
    entry.outcome === "unknown" ? "outcome not recorded" : `${entry.outcome}${entry.status ? ` (${entry.status})` : ""}`;
  return <StatusIndicator type={OUTCOMES[entry.outcome]}>{text}</StatusIndicator>;
}

function Details({ entry }: { entry: AuditEntry }) {
  const shown = (["before", "after", "request"] as const).filter((key) => entry[key] !== undefined);
  if (!shown.length && !entry.message) return <>-</>;
  return (
    <ExpandableSection headerText={entry.message ?? "Before and after"} variant="footer">
      {shown.map((key) => (
        <Box key={key} margin={{ bottom: "xs" }}>
          <Box variant="awsui-key-label">{key}</Box>
          <Box variant="code">
            <pre style={{ margin: 0, whiteSpace: "pre-wrap" }}>{JSON.stringify(entry[key], null, 2)}</pre>
          </Box>
        </Box>
      ))}
    </ExpandableSection>
  );
}

/**
 * Who changed or operated what, when, and what came of it (refused attempts included),
 * newest first: the whole trail, or one object's or plan's (``filter``).
 */
export function AuditTrail({ filter = {}, title = "Audit trail", testId = "audit-trail" }: { filter?: AuditQuery; title?: string; testId?: string }) {
  const { api } = useApp();
  const key = JSON.stringify(filter);
  const list = usePagedList((token) => api.audit(filter, 50, token), [key], REFRESH_MS);
  return (
    <Table
      data-testid={testId}
      items={list.items}
      loading={list.loading && !list.items.length}
      loadingText="Loading the audit trail"
      trackBy="requestId"
      variant="container"
      header={
        <Header
          counter={`(${list.items.length}${list.nextToken ? "+" : ""})`}
          description="Every change and operator action, refused attempts included: who, when, the object before and after, and the result"
        >
          {title}
        </Header>
      }
      empty={<Box textAlign="center">Nothing recorded yet.</Box>}
      columnDefinitions={[
        { id: "at", header: "When", cell: (e) => when(e.at) },
        {
          id: "who",
          header: "Who",
          cell: (e) => (
            <span data-audit-user={e.actor.user}>
              {e.actor.user} <Box variant="small" display="inline">({e.actor.groups.join(", ") || "no group"})</Box>
            </span>
          ),
        },
        { id: "action", header: "Action", cell: (e) => <span data-audit-action={e.action}>{actionText(e.action)}</span> },
        { id: "object", header: "Object", cell: (e) => (e.objectId ? `${e.objectType} ${e.objectId}` : e.objectType || "-") },
        { id: "result", header: "Result", cell: (e) => <Outcome entry={e} /> },
        { id: "details", header: "Details", cell: (e) => <Details entry={e} /> },
      ]}
      footer={
        <>
          <ErrorAlert error={list.error} header="Could not load the audit trail" />
          {list.nextToken && (
            <Box textAlign="center">
              <Button onClick={() => void list.more()}>Load older</Button>
            </Box>
          )}
        </>
      }
    />
  );
}
