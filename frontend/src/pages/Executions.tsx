import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import { useState } from "react";
import { ErrorAlert } from "../components/ErrorAlert";
import { Status } from "../components/Status";
import { useApp } from "../lib/context";
import { usePagedList } from "../lib/paged";
import { duration, when } from "../lib/time";
import { EXECUTION_STATUSES, type ExecutionStatus } from "../lib/types";

const ALL = { label: "Any status", value: "" };

/** Executions, newest first, filtered by status (server side) and plan or mode (here). */
export function ExecutionList() {
  const { api } = useApp();
  const [status, setStatus] = useState<{ label?: string; value?: string }>(ALL);
  const [text, setText] = useState("");
  const list = usePagedList(
    (token) => api.executions(50, token, (status.value || undefined) as ExecutionStatus | undefined),
    [status.value],
    10000,
  );
  const { items, nextToken, loading, error } = list;

  const needle = text.toLowerCase();
  const shown = items
    .filter((e) => !needle || `${e.planName} ${e.mode} ${e.executionId} ${(e.targets ?? []).join(" ")}`.toLowerCase().includes(needle))
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return (
    <ContentLayout header={<Header variant="h1">Executions</Header>}>
      <SpaceBetween size="l">
        <ErrorAlert error={error} header="Could not load executions" />
        <Table
          items={shown}
          loading={loading && !items.length}
          loadingText="Loading executions"
          trackBy="executionId"
          header={<Header counter={`(${shown.length}${nextToken ? "+" : ""})`}>Executions</Header>}
          filter={
            <SpaceBetween direction="horizontal" size="xs">
              <TextFilter
                filteringText={text}
                filteringPlaceholder="Find by plan, mode, id or DRS target"
                onChange={({ detail }) => setText(detail.filteringText)}
              />
              <Select
                selectedOption={status}
                ariaLabel="Filter by status"
                onChange={({ detail }) => setStatus(detail.selectedOption)}
                options={[ALL, ...EXECUTION_STATUSES.map((s) => ({ label: s, value: s }))]}
              />
            </SpaceBetween>
          }
          footer={
            nextToken && (
              <Box textAlign="center">
                <Button onClick={() => void list.more()} loading={loading}>Load more</Button>
              </Box>
            )
          }
          empty={<Box textAlign="center">No execution matches.</Box>}
          columnDefinitions={[
            { id: "id", header: "Execution", cell: (e) => <Link href={`#/executions/${e.executionId}`}>{e.executionId}</Link> },
            { id: "plan", header: "Plan", cell: (e) => e.planName },
            { id: "mode", header: "Mode", cell: (e) => e.mode },
            { id: "status", header: "Status", cell: (e) => <Status value={e.status} /> },
            { id: "targets", header: "DRS targets", cell: (e) => e.targets?.join(", ") || "this account" },
            { id: "started", header: "Started", cell: (e) => when(e.startedAt) },
            { id: "took", header: "Duration", cell: (e) => duration(e.startedAt, e.endedAt) },
          ]}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}
