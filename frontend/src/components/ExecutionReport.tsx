import Box from "@cloudscape-design/components/box";
import Container from "@cloudscape-design/components/container";
import Header from "@cloudscape-design/components/header";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { ApiError } from "../lib/api";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { when } from "../lib/time";
import { ACTIVE_STATUSES, type Execution } from "../lib/types";
import { ErrorAlert } from "./ErrorAlert";

/** How often the links are asked for again: they work for five minutes, and a report not
 *  stored yet appears within a minute of the finder storing it. */
export const REPORT_REFRESH_MS = 30_000;

/**
 * The execution's report as the deployment stored it when the execution settled: the
 * printable page opens in a new tab, the JSON downloads. The links go straight to S3
 * (signed by the API, valid five minutes, signed again while the page is open).
 */
export function ExecutionReport({ execution }: { execution: Execution }) {
  const { api } = useApp();
  const ended = !ACTIVE_STATUSES.includes(execution.status);
  const links = usePolling(
    () => (ended ? api.executionReport(execution.executionId) : Promise.resolve(undefined)),
    REPORT_REFRESH_MS,
    ended,
    [execution.executionId, ended],
  );
  const pending = links.error instanceof ApiError && links.error.status === 404;
  return (
    <Container
      header={
        <Header variant="h2" description="Timeline, objective against actual, every server, DRS job and job event, and who did what">
          Report
        </Header>
      }
      data-testid="execution-report"
    >
      {!ended ? (
        <Box color="text-body-secondary">The report is written once the execution has ended.</Box>
      ) : links.data ? (
        <SpaceBetween direction="horizontal" size="l" alignItems="center">
          <Link external href={links.data.html} data-testid="report-html">
            Open the report
          </Link>
          <Link href={links.data.json} data-testid="report-json">
            Download the JSON
          </Link>
          <Box color="text-body-secondary">Stored {when(links.data.storedAt)}</Box>
        </SpaceBetween>
      ) : pending ? (
        <Box color="text-body-secondary" data-testid="report-pending">
          {(links.error as ApiError).message}
        </Box>
      ) : links.error ? (
        <ErrorAlert error={links.error} header="Could not find the report" />
      ) : (
        <Box>Loading…</Box>
      )}
    </Container>
  );
}
