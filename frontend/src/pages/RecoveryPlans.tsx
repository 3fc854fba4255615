import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import Textarea from "@cloudscape-design/components/textarea";
import { useEffect, useState } from "react";
import { ConfirmModal } from "../components/ConfirmModal";
import { ErrorAlert } from "../components/ErrorAlert";
import { ReadinessPanel } from "../components/ReadinessPanel";
import { AuditTrail } from "../components/AuditTrail";
import { RecoveryTimePanel } from "../components/RecoveryTime";
import { WaveEditor } from "../components/WaveEditor";
import { ApiError, reasonsUnder } from "../lib/api";
import { useApp } from "../lib/context";
import { usePolling } from "../lib/polling";
import { can, needs } from "../lib/roles";
import { navigate } from "../lib/router";
import type { RecoveryPlan, Wave } from "../lib/types";
import { cleanWaves } from "../lib/waves";

export function RecoveryPlanList() {
  const { api, session } = useApp();
  const polled = usePolling(() => api.all((t) => api.plans(100, t)), 15000);
  const [selected, setSelected] = useState<RecoveryPlan[]>([]);
  const [starting, setStarting] = useState<"DRILL" | "RECOVERY">();
  const [confirmRecovery, setConfirmRecovery] = useState("");
  // Blank: the latest snapshots. A UTC time: each server's newest snapshot at or before it.
  const [pointInTime, setPointInTime] = useState("");
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const admin = can(session.groups, "manageCatalog");
  const operator = can(session.groups, "operate");
  const recover = can(session.groups, "recover");
  const plan = selected[0];
  const start = async (mode: "DRILL" | "RECOVERY") => {
    setActionError(undefined);
    try {
      const at = mode === "RECOVERY" ? pointInTime.trim() || undefined : undefined;
      const execution = await api.startExecution(plan.planId, mode, at);
      navigate(`/executions/${execution.executionId}`);
    } catch (error) {
      setActionError(error);
    } finally {
      setStarting(undefined);
    }
  };
  const remove = async () => {
    setConfirmDelete(false);
    try {
      await api.deletePlan(plan.planId);
      setSelected([]);
      await polled.refresh();
    } catch (error) {
      setActionError(error);
    }
  };
  return (
    <ContentLayout header={<Header variant="h1" description="Waves of protection groups, launched in dependency order.">Recovery plans</Header>}>
      <SpaceBetween size="l">
        <ErrorAlert error={polled.error} header="Could not load recovery plans" />
        <ErrorAlert error={actionError} header="The action failed" />
        <Table
          items={polled.data ?? []}
          loading={polled.loading && !polled.data}
          loadingText="Loading recovery plans"
          trackBy="planId"
          selectionType="single"
          selectedItems={selected}
          onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
          ariaLabels={{
            selectionGroupLabel: "Recovery plans",
            itemSelectionLabel: (_d, p) => `Select ${p.name}`,
            allItemsSelectionLabel: () => "Select all",
          }}
          empty={<Box textAlign="center">No recovery plan yet.</Box>}
          header={
            <Header
              counter={polled.data ? `(${polled.data.length})` : undefined}
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  <Button disabled={!admin || !plan} onClick={() => setConfirmDelete(true)}>Delete</Button>
                  <Button disabled={!admin || !plan} onClick={() => navigate(`/recovery-plans/${plan.planId}`)}>Edit</Button>
                  <Button
                    disabled={!recover || !plan}
                    disabledReason={recover ? "Select a plan" : `${needs("recover")}: operators run drills`}
                    onClick={() => setStarting("RECOVERY")}
                  >
                    Start recovery
                  </Button>
                  <Button
                    disabled={!operator || !plan}
                    disabledReason={operator ? "Select a plan" : needs("operate")}
                    loading={starting === "DRILL"}
                    onClick={() => {
                      setStarting("DRILL");
                      void start("DRILL");
                    }}
                  >
                    Start drill
                  </Button>
                  <Button variant="primary" disabled={!admin} disabledReason={needs("manageCatalog")} onClick={() => navigate("/recovery-plans/new")}>
                    Create recovery plan
                  </Button>
                </SpaceBetween>
              }
            >
              Recovery plans
            </Header>
          }
          columnDefinitions={[
            { id: "name", header: "Name", cell: (p) => <Link href={`#/recovery-plans/${p.planId}`}>{p.name}</Link> },
            { id: "waves", header: "Waves", cell: (p) => p.waves.map((w) => w.name).join(" → ") },
            { id: "description", header: "Description", cell: (p) => p.description ?? "-" },
            { id: "version", header: "Version", cell: (p) => p.version },
          ]}
        />
        <ConfirmModal
          visible={starting === "RECOVERY"}
          header="Start a recovery"
          confirmText="Start recovery"
          confirmDisabled={confirmRecovery !== "recover"}
          onConfirm={() => void start("RECOVERY")}
          onDismiss={() => setStarting(undefined)}
        >
          <SpaceBetween size="s">
            <Box>
              A recovery launches <b>{plan?.name}</b> as production instances, not a drill. Type <b>recover</b> to go on.
            </Box>
            <FormField
              label="Point in time - optional"
              description="Leave blank to recover from the latest snapshots. A UTC time (2026-11-29T03:00:00Z) recovers every server from its newest snapshot taken at or before it, for example from before a ransomware attack."
            >
              <Input
                value={pointInTime}
                placeholder="2026-11-29T03:00:00Z"
                onChange={({ detail }) => setPointInTime(detail.value)}
                ariaLabel="Point in time"
              />
            </FormField>
            <Input value={confirmRecovery} onChange={({ detail }) => setConfirmRecovery(detail.value)} ariaLabel="Type recover" />
          </SpaceBetween>
        </ConfirmModal>
        <ConfirmModal
          visible={confirmDelete}
          header="Delete recovery plan"
          confirmText="Delete"
          onConfirm={() => void remove()}
          onDismiss={() => setConfirmDelete(false)}
        >
          Delete <b>{plan?.name}</b>? Its past executions stay.
        </ConfirmModal>
      </SpaceBetween>
    </ContentLayout>
  );
}

/** Create or edit a recovery plan with the wave editor; API errors land on their field. */
export function RecoveryPlanEditor({ planId }: { planId?: string }) {
  const { api, session } = useApp();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [waves, setWaves] = useState<Wave[]>([{ name: "Wave 1", protectionGroups: [] }]);
  const [version, setVersion] = useState<number>();
  // Readiness: the replication lag over which a server is a warning (blank: the default).
  const [maxLag, setMaxLag] = useState("");
  // The recovery time objective in minutes (blank: none).
  const [objective, setObjective] = useState("");
  const [groupNames, setGroupNames] = useState<string[]>([]);
  const [loadError, setLoadError] = useState<unknown>();
  const [saveError, setSaveError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const admin = can(session.groups, "manageCatalog");

  useEffect(() => {
    api.all((t) => api.groups(100, t)).then((groups) => setGroupNames(groups.map((g) => g.name)), setLoadError);
    if (!planId) return;
    api.plan(planId).then((plan) => {
      setName(plan.name);
      setDescription(plan.description ?? "");
      setWaves(plan.waves);
      setVersion(plan.version);
      setMaxLag(plan.maxReplicationLagSeconds ? String(plan.maxReplicationLagSeconds) : "");
      setObjective(plan.recoveryTimeObjectiveMinutes ? String(plan.recoveryTimeObjectiveMinutes) : "");
    }, setLoadError);
  }, [api, planId]);

  const error = saveError instanceof ApiError ? saveError : undefined;
  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    const body = {
      name: name.trim(),
      waves: cleanWaves(waves),
      ...(description.trim() ? { description: description.trim() } : {}),
      ...(maxLag.trim() ? { maxReplicationLagSeconds: Number(maxLag.trim()) } : {}),
      ...(objective.trim() ? { recoveryTimeObjectiveMinutes: Number(objective.trim()) } : {}),
    };
    try {
      if (planId && version !== undefined) await api.updatePlan(planId, { ...body, version });
      else await api.createPlan(body);
      navigate("/recovery-plans");
    } catch (caught) {
      setSaveError(caught);
    } finally {
      setSaving(false);
    }
  };
  return (
    <ContentLayout header={<Header variant="h1">{planId ? `Edit ${name || "recovery plan"}` : "Create recovery plan"}</Header>}>
      <form onSubmit={(e) => e.preventDefault()}>
        <Form
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => navigate("/recovery-plans")}>Cancel</Button>
              <Button variant="primary" loading={saving} disabled={!admin} onClick={() => void save()}>
                {planId ? "Save changes" : "Create recovery plan"}
              </Button>
            </SpaceBetween>
          }
          errorText={saveError ? <ErrorAlert error={saveError} header="The recovery plan was not saved" /> : undefined}
        >
          <SpaceBetween size="l">
            <ErrorAlert error={loadError} header="Could not load the recovery plan" />
            <Container header={<Header variant="h2">Details</Header>}>
              <SpaceBetween size="m">
                <FormField label="Name" errorText={reasonsUnder(error, "name")}>
                  <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Plan name" />
                </FormField>
                <FormField label="Description - optional" errorText={reasonsUnder(error, "description")}>
                  <Textarea value={description} onChange={({ detail }) => setDescription(detail.value)} />
                </FormField>
                <FormField
                  label="Readiness: maximum replication lag (seconds) - optional"
                  description="A server replicating further behind is a readiness warning. Default 3600."
                  errorText={reasonsUnder(error, "maxReplicationLagSeconds")}
                >
                  <Input value={maxLag} inputMode="numeric" onChange={({ detail }) => setMaxLag(detail.value)} ariaLabel="Maximum replication lag" />
                </FormField>
                <FormField
                  label="Recovery time objective (minutes) - optional"
                  description="Each execution records its recovery time against it; one over it is flagged and notified."
                  errorText={reasonsUnder(error, "recoveryTimeObjectiveMinutes")}
                >
                  <Input value={objective} inputMode="numeric" onChange={({ detail }) => setObjective(detail.value)} ariaLabel="Recovery time objective" />
                </FormField>
              </SpaceBetween>
            </Container>
            {planId && <ReadinessPanel planId={planId} />}
            {planId && <RecoveryTimePanel planId={planId} objectiveMinutes={objective.trim() ? Number(objective.trim()) : undefined} />}
            {planId && <AuditTrail filter={{ plan: planId }} title="Who changed or ran this plan" testId="plan-audit" />}
            <WaveEditor waves={waves} onChange={setWaves} groupNames={groupNames} error={error} readOnly={!admin} />
          </SpaceBetween>
        </Form>
      </form>
    </ContentLayout>
  );
}
