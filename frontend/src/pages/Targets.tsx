import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Header from "@cloudscape-design/components/header";
import SpaceBetween from "@cloudscape-design/components/space-between";
import StatusIndicator from "@cloudscape-design/components/status-indicator";
import Table from "@cloudscape-design/components/table";
import { ErrorAlert } from "../components/ErrorAlert";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import type { Target } from "../lib/types";

/** Whether the deployment can act in a target now: its role assumed a moment ago. */
export function Reachability({ target }: { target: Target }) {
  if (target.reachable) return <StatusIndicator type="success">Reachable</StatusIndicator>;
  return <StatusIndicator type="error">{`Unreachable: ${target.reason ?? "unknown reason"}`}</StatusIndicator>;
}

/** The DRS accounts and regions this deployment orchestrates (the stack's drsTargets). */
export function TargetList() {
  const { api } = useApp();
  const polled = usePolling(() => api.targets().then((answer) => answer.items), 60000);
  return (
    <ContentLayout
      header={
        <Header
          variant="h1"
          description="Where this deployment orchestrates DRS: its own account and Region, and each target account it assumes a role in (drsTargets in the stack; docs/TARGETS.md)."
          actions={<Button iconName="refresh" ariaLabel="Check again" onClick={() => void polled.refresh()} />}
        >
          DRS targets
        </Header>
      }
    >
      <SpaceBetween size="l">
        <ErrorAlert error={polled.error} header="Could not load the DRS targets" />
        <Table
          items={polled.data ?? []}
          loading={polled.loading && !polled.data}
          loadingText="Assuming each target's role"
          trackBy="key"
          empty={<Box textAlign="center">No DRS target.</Box>}
          columnDefinitions={[
            { id: "account", header: "Account", cell: (t) => (t.home ? `${t.accountId} (this deployment's)` : t.accountId) },
            { id: "region", header: "Region", cell: (t) => t.region },
            { id: "role", header: "Role assumed", cell: (t) => t.roleArn ?? "-" },
            { id: "reachable", header: "Reachability", cell: (t) => <Reachability target={t} /> },
          ]}
        />
      </SpaceBetween>
    </ContentLayout>
  );
}
