import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Checkbox from "@cloudscape-design/components/checkbox";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import Pagination from "@cloudscape-design/components/pagination";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import { useState } from "react";
import { ConfirmModal } from "../components/ConfirmModal";
import { DependencyGraph } from "../components/DependencyGraph";
import { AuditTrail } from "../components/AuditTrail";
import { ExecutionReport } from "../components/ExecutionReport";
import { FailbackReadinessPanel } from "../components/FailbackReadiness";
import { FailbackSteps } from "../components/FailbackSteps";
import { ExecutionTimings } from "../components/RecoveryTime";
import { ErrorAlert } from "../components/ErrorAlert";
import { Status } from "../components/Status";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { navigate } from "../lib/router";
import { can, needs } from "../lib/roles";
import { duration, when } from "../lib/time";
import { ACTIVE_STATUSES, instancesLeft, type Execution, type JobEvent, type TrackedServer } from "../lib/types";

const EVENTS_PER_PAGE = 25;
const REFRESH_MS = 3000;

type Control = "resume" | "cancel" | "terminate-instances";

/** Still worth refreshing: not loaded yet, still active, or a DRS job still running. */
function isLive(execution?: Execution): boolean {
  return (
    !execution ||
    ACTIVE_STATUSES.includes(execution.status) ||
    Object.values(execution.jobs ?? {}).some((j) => j.status !== "COMPLETED")
  );
}

function serverRows(execution: Execution): TrackedServer[] {
  // Every planned server, launched or not yet, in wave order.
  return execution.waves.flatMap((wave) =>
    wave.servers.map(
      (id) =>
        execution.servers?.[id] ?? {
          sourceServerId: id,
          waveName: wave.name,
          jobId: "",
          launchStatus: wave.status === "SKIPPED" ? "SKIPPED" : "NOT_STARTED",
        },
    ),
  );
}

function describeEvent(event: JobEvent): string {
  const data = event.eventData ?? {};
  return Object.entries(data)
    .filter(([key]) => key !== "sourceServerID")
    .map(([key, value]) => `${key}: ${value}`)
    .join(", ");
}

/** A server launched (a drill or a recovery) or home again (a failback). */
function isDone(item: Execution, server: string): boolean {
  if (item.mode === "FAILBACK") return item.failback?.[server]?.step === "HOME";
  return item.servers?.[server]?.launchStatus === "LAUNCHED";
}

/**
 * One execution: waves and servers as they progress, the live DRS job events, and the
 * operator's controls (resume, cancel, terminate drill instances) for those allowed them.
 */
export function ExecutionDetail({ executionId }: { executionId: string }) {
  const { api, session } = useApp();
  const execution = usePolling(
    () => api.execution(executionId),
    REFRESH_MS,
    isLive,
    [executionId],
  );
  const events = usePolling(
    () => api.all((t) => api.jobEvents(executionId, 100, t)),
    REFRESH_MS,
    isLive(execution.data),
    [executionId],
  );
  const [busy, setBusy] = useState<Control>();
  const [confirm, setConfirm] = useState<Control>();
  const [actionError, setActionError] = useState<unknown>();
  const [page, setPage] = useState(1);
  const [filter, setFilter] = useState("");

  const item = execution.data;
  const operate = can(session.groups, "operate");
  const recover = can(session.groups, "recover");
  const [startingFailback, setStartingFailback] = useState(false);
  const [askFailback, setAskFailback] = useState(false);
  const [failbackOptions, setFailbackOptions] = useState({ restartReplication: true, terminateRecoveryInstances: false });
  const failBack = async () => {
    setAskFailback(false);
    setStartingFailback(true);
    setActionError(undefined);
    try {
      const started = await api.startFailback(executionId, failbackOptions);
      navigate(`/executions/${started.executionId}`);
    } catch (error) {
      setActionError(error);
    } finally {
      setStartingFailback(false);
    }
  };
  const act = async (control: Control) => {
    setConfirm(undefined);
    setBusy(control);
    setActionError(undefined);
    try {
      await api.control(executionId, control);
      await execution.refresh();
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(undefined);
    }
  };

  if (!item) {
    return (
      <ContentLayout header={<Header variant="h1">Execution {executionId}</Header>}>
        {execution.error ? <ErrorAlert error={execution.error} header="Could not load the execution" /> : <Box>Loading…</Box>}
      </ContentLayout>
    );
  }

  const left = instancesLeft(item);
  const terminal = !ACTIVE_STATUSES.includes(item.status);
  const needle = filter.toLowerCase();
  const allEvents = [...(events.data ?? [])].sort((a, b) => b.eventKey.localeCompare(a.eventKey));
  const shownEvents = allEvents.filter(
    (e) => !needle || `${e.event} ${e.sourceServerId ?? ""} ${e.jobId}`.toLowerCase().includes(needle),
  );
  const pages = Math.max(1, Math.ceil(shownEvents.length / EVENTS_PER_PAGE));
  const current = Math.min(page, pages);
  const failedServers = Object.values(item.servers ?? {}).filter((s) => s.launchStatus === "FAILED");
  const awaiting = item.waves.find((w) => w.status === "AWAITING_APPROVAL");
  const waitingForDrs = Object.values(item.batches ?? {}).filter((b) => b.status === "DEFERRED");
  const reason = operate ? undefined : needs("operate");

  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description={`${item.mode === "DRILL" ? "Drill" : "Recovery"} of ${item.planName} · ${item.executionId}${
            item.pointInTime ? ` · to the point in time ${item.pointInTime}` : ""
          }`}
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button
                disabled={!operate || item.status !== "PAUSED"}
                disabledReason={reason ?? "Only a paused execution can be resumed"}
                loading={busy === "resume"}
                onClick={() => void act("resume")}
              >
                Approve and resume
              </Button>
              <Button
                disabled={!operate || !["PENDING", "RUNNING", "PAUSED"].includes(item.status)}
                disabledReason={reason ?? "Only an execution that has not ended can be cancelled"}
                loading={busy === "cancel"}
                onClick={() => setConfirm("cancel")}
              >
                Cancel execution
              </Button>
              {item.mode === "RECOVERY" && (
                <Button
                  disabled={!recover || !terminal}
                  disabledReason={recover ? "Wait for the recovery to end" : `${needs("recover")}: failback is a cut-over`}
                  loading={startingFailback}
                  onClick={() => setAskFailback(true)}
                >
                  Start failback
                </Button>
              )}
              <Button
                disabled={!operate || item.mode !== "DRILL" || !terminal || left.length === 0}
                disabledReason={reason ?? (terminal ? "No drill instance is left" : "Wait for the execution to end")}
                loading={busy === "terminate-instances"}
                onClick={() => setConfirm("terminate-instances")}
              >
                Terminate drill instances
              </Button>
            </SpaceBetween>
          }
        >
          <SpaceBetween direction="horizontal" size="s">
            <span>{item.planName}</span>
            <span data-testid="execution-status">
              <Status value={item.status} />
            </span>
          </SpaceBetween>
        </Header>
      }
    >
      <SpaceBetween size="l">
        <ErrorAlert error={actionError} header="The action failed" />
        <ErrorAlert error={execution.error} header="Could not refresh the execution (showing the last good copy)" />
        {awaiting && (
          <Alert type="warning" header={`Wave ${awaiting.name} waits for approval`}>
            {operate ? "Approve and resume to launch it." : "An operator or admin must approve it."}
          </Alert>
        )}
        {terminal && item.reason && (
          <Alert type={item.status === "COMPLETED" ? "info" : "error"} header={`Execution ${item.status.toLowerCase()}`} data-testid="execution-reason">
            {item.reason}
          </Alert>
        )}
        {waitingForDrs.length > 0 && (
          <Alert type="warning" header={`${waitingForDrs.length} launch batch(es) wait for DRS`} data-testid="waiting-for-drs">
            {waitingForDrs.map((b) => `wave ${b.wave}, ${b.servers.length} server(s): ${b.lastError ?? "asked again at the next tick"}`).join("; ")}
          </Alert>
        )}
        {Object.keys(item.unreachableTargets ?? {}).length > 0 && (
          <Alert type="warning" header="DRS target(s) out of reach" data-testid="unreachable-targets">
            {Object.entries(item.unreachableTargets ?? {})
              .map(([key, seen]) => `${key} since ${when(seen.since ?? item.updatedAt)}: ${seen.reason ?? "unknown reason"}`)
              .join("; ")}
            . A wave that needs one fails once it has been out of reach for an hour.
          </Alert>
        )}
        {failedServers.length > 0 && (
          <Alert type="error" header={`${failedServers.length} server(s) failed to launch`} data-testid="failed-servers">
            {failedServers.map((s) => `${s.sourceServerId} (wave ${s.waveName}, job ${s.jobId})`).join(", ")}
          </Alert>
        )}
        {(item.terminations ?? []).length > 0 && (
          <Alert type="info" header="Drill instances terminated" data-testid="terminations">
            Termination asked for {(item.terminations ?? []).reduce((n, t) => n + t.recoveryInstanceIds.length, 0)} instance(s) in{" "}
            {(item.terminations ?? []).map((t) => t.jobId ?? `${t.status ?? "REQUESTED"}`).join(", ")}.
          </Alert>
        )}
        <Container header={<Header variant="h2">Overview</Header>}>
          <ColumnLayout columns={4} variant="text-grid">
            <div>
              <Box variant="awsui-key-label">Started</Box>
              <div>{when(item.startedAt)}</div>
            </div>
            <div>
              <Box variant="awsui-key-label">Duration</Box>
              <div>{duration(item.startedAt, item.endedAt)}</div>
            </div>
            <div>
              <Box variant="awsui-key-label">DRS jobs</Box>
              <div>{Object.keys(item.jobs ?? {}).length}</div>
            </div>
            <div>
              <Box variant="awsui-key-label">Last refreshed</Box>
              <div>{execution.updatedAt?.toLocaleTimeString() ?? "-"}</div>
            </div>
          </ColumnLayout>
        </Container>
        <ExecutionTimings execution={item} />
        <ExecutionReport execution={item} />
        {item.mode === "RECOVERY" && terminal && <FailbackReadinessPanel recoveryExecutionId={item.executionId} />}
        {item.mode === "FAILBACK" && <FailbackSteps execution={item} />}
        {item.mode === "FAILBACK" && item.recoveryExecutionId && (
          <FailbackReadinessPanel recoveryExecutionId={item.recoveryExecutionId} live={!terminal} />
        )}
        <AuditTrail filter={{ object: executionId }} title="Who did what" testId="execution-audit" />
        <Container header={<Header variant="h2">Waves</Header>}>
          <DependencyGraph
            waves={item.waves.map((w) => ({ name: w.name, protectionGroups: [], dependsOn: w.dependsOn }))}
            statuses={Object.fromEntries(item.waves.map((w) => [w.name, w.status]))}
          />
        </Container>
        <Table
          data-testid="waves-table"
          header={<Header variant="h2">Wave progress</Header>}
          items={item.waves}
          trackBy="name"
          columnDefinitions={[
            { id: "name", header: "Wave", cell: (w) => w.name },
            { id: "status", header: "Status", cell: (w) => <span data-wave-status={w.name}><Status value={w.status} /></span> },
            { id: "after", header: "After", cell: (w) => w.dependsOn.join(", ") || "-" },
            {
              id: "servers",
              header: item.mode === "FAILBACK" ? "Home" : "Launched",
              cell: (w) => `${w.servers.filter((s) => isDone(item, s)).length} / ${w.servers.length}`,
            },
            { id: "jobs", header: "DRS jobs", cell: (w) => w.jobIds.join(", ") || "-" },
            {
              id: "actions",
              header: "Actions",
              cell: (w) => (
                <span data-wave-actions={w.name}>
                  {(w.actionRuns ?? []).map((r) => `${r.phase === "pre" ? "before" : "after"}: ${r.document} ${r.status}`).join("; ") || "-"}
                </span>
              ),
            },
            { id: "took", header: "Duration", cell: (w) => (w.startedAt ? duration(w.startedAt, w.endedAt) : "-") },
            { id: "reason", header: "Note", cell: (w) => w.reason ?? (w.pauseBefore && !w.approved && w.status === "PENDING" ? "pauses for approval" : "-") },
          ]}
        />
        <Table
          data-testid="servers-table"
          header={<Header variant="h2">Servers</Header>}
          items={serverRows(item)}
          trackBy="sourceServerId"
          columnDefinitions={[
            { id: "id", header: "Source server", cell: (s) => s.sourceServerId },
            { id: "wave", header: "Wave", cell: (s) => s.waveName },
            { id: "status", header: "Launch status", cell: (s) => <span data-server-status={s.sourceServerId}><Status value={s.launchStatus} /></span> },
            { id: "job", header: "DRS job", cell: (s) => s.jobId || "-" },
            { id: "target", header: "DRS target", cell: (s) => (s.jobId ? (item.jobs?.[s.jobId]?.target ?? "this account") : "-") },
            { id: "instance", header: "Recovery instance", cell: (s) => s.recoveryInstanceId ?? "-" },
          ]}
        />
        <Table
          data-testid="job-events"
          header={
            <Header
              variant="h2"
              counter={`(${allEvents.length})`}
              description={terminal ? "All DRS job events of this execution." : `Live: refreshed every ${REFRESH_MS / 1000} s.`}
            >
              DRS job events
            </Header>
          }
          items={shownEvents.slice((current - 1) * EVENTS_PER_PAGE, current * EVENTS_PER_PAGE)}
          trackBy="eventKey"
          loading={events.loading && !events.data}
          loadingText="Loading job events"
          filter={<TextFilter filteringText={filter} filteringPlaceholder="Find by event, server or job" onChange={({ detail }) => { setFilter(detail.filteringText); setPage(1); }} />}
          pagination={<Pagination currentPageIndex={current} pagesCount={pages} onChange={({ detail }) => setPage(detail.currentPageIndex)} />}
          empty={<Box textAlign="center">No DRS job event yet.</Box>}
          columnDefinitions={[
            { id: "time", header: "Time", cell: (e) => when(e.logDateTime) },
            { id: "event", header: "Event", cell: (e) => e.event },
            { id: "server", header: "Source server", cell: (e) => e.sourceServerId ?? "-" },
            { id: "job", header: "DRS job", cell: (e) => e.jobId },
            { id: "data", header: "Details", cell: describeEvent },
          ]}
        />
        <ErrorAlert error={events.error} header="Could not refresh the job events" />
        <ConfirmModal
          visible={confirm !== undefined}
          header={confirm === "cancel" ? "Cancel the execution" : "Terminate drill instances"}
          confirmText={confirm === "cancel" ? "Cancel execution" : `Terminate ${left.length} instance(s)`}
          dismissText="Keep going"
          onConfirm={() => confirm && void act(confirm)}
          onDismiss={() => setConfirm(undefined)}
        >
          {confirm === "cancel"
            ? "No further wave will start; launches already in flight finish."
            : `DRS terminates the ${left.length} recovery instance(s) this drill launched.`}
        </ConfirmModal>
        <ConfirmModal
          visible={askFailback}
          header="Fail back to where the workload came from"
          confirmText="Start failback"
          dismissText="Not now"
          onConfirm={() => void failBack()}
          onDismiss={() => setAskFailback(false)}
        >
          <SpaceBetween size="s">
            <Box>
              Wave by wave, in the plan's order: replication reversed (AWS sources) or awaited from each failback
              client (on premises), the cut-over approved where the plan pauses, then the launch back.
            </Box>
            <Checkbox
              checked={failbackOptions.restartReplication}
              onChange={({ detail }) => setFailbackOptions({ ...failbackOptions, restartReplication: detail.checked })}
            >
              Restart forward replication once home
            </Checkbox>
            <Checkbox
              checked={failbackOptions.terminateRecoveryInstances}
              onChange={({ detail }) => setFailbackOptions({ ...failbackOptions, terminateRecoveryInstances: detail.checked })}
            >
              Terminate the recovery instances once home
            </Checkbox>
          </SpaceBetween>
        </ConfirmModal>
      </SpaceBetween>
    </ContentLayout>
  );
}
