import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import ContentLayout from "@cloudscape-design/components/content-layout";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Link from "@cloudscape-design/components/link";
import Select from "@cloudscape-design/components/select";
import SpaceBetween from "@cloudscape-design/components/space-between";
import Table from "@cloudscape-design/components/table";
import TextFilter from "@cloudscape-design/components/text-filter";
import Textarea from "@cloudscape-design/components/textarea";
import { useEffect, useState } from "react";
import { ConfirmModal } from "../components/ConfirmModal";
import { ErrorAlert } from "../components/ErrorAlert";
import { LaunchSettingsEditor } from "../components/LaunchSettingsEditor";
import { ApiError, type GroupInput, reasonsUnder } from "../lib/api";
import { useApp } from "../lib/context";
import { usePagedList } from "../lib/paged";
import { usePolling } from "../lib/polling";
import { can, needs } from "../lib/roles";
import { navigate } from "../lib/router";
import { type LaunchSettings, type LaunchSettingsApplied, type ProtectionGroup, type SourceServer, type Target, whereOf } from "../lib/types";

function selection(group: ProtectionGroup): string {
  const parts: string[] = [];
  if (group.sourceServerIds?.length) parts.push(`${group.sourceServerIds.length} server(s)`);
  for (const [key, values] of Object.entries(group.tagSelectors ?? {})) {
    parts.push(`${key} = ${values.join(" | ")}`);
  }
  return parts.join(", ") || "-";
}

export function ProtectionGroupList() {
  const { api, session } = useApp();
  const polled = usePolling(() => api.all((t) => api.groups(100, t)), 15000);
  const [selected, setSelected] = useState<ProtectionGroup[]>([]);
  const [confirm, setConfirm] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  const admin = can(session.groups, "manageCatalog");
  const remove = async () => {
    setConfirm(false);
    try {
      await api.deleteGroup(selected[0].groupId);
      setSelected([]);
      await polled.refresh();
    } catch (error) {
      setActionError(error);
    }
  };
  return (
    <ContentLayout header={<Header variant="h1" description="Source servers recovered together, chosen by id or by tags.">Protection groups</Header>}>
      <SpaceBetween size="l">
        <ErrorAlert error={polled.error} header="Could not load protection groups" />
        <ErrorAlert error={actionError} header="Could not delete the protection group" />
        <Table
          items={polled.data ?? []}
          loading={polled.loading && !polled.data}
          loadingText="Loading protection groups"
          trackBy="groupId"
          selectionType="single"
          selectedItems={selected}
          onSelectionChange={({ detail }) => setSelected(detail.selectedItems)}
          ariaLabels={{
            selectionGroupLabel: "Protection groups",
            itemSelectionLabel: (_d, g) => `Select ${g.name}`,
            allItemsSelectionLabel: () => "Select all",
          }}
          empty={<Box textAlign="center">No protection group yet.</Box>}
          header={
            <Header
              counter={polled.data ? `(${polled.data.length})` : undefined}
              actions={
                <SpaceBetween direction="horizontal" size="xs">
                  <Button disabled={!admin || selected.length !== 1} onClick={() => setConfirm(true)}>
                    Delete
                  </Button>
                  <Button
                    disabled={!admin || selected.length !== 1}
                    onClick={() => navigate(`/protection-groups/${selected[0].groupId}`)}
                  >
                    Edit
                  </Button>
                  <Button
                    variant="primary"
                    disabled={!admin}
                    disabledReason={needs("manageCatalog")}
                    onClick={() => navigate("/protection-groups/new")}
                  >
                    Create protection group
                  </Button>
                </SpaceBetween>
              }
            >
              Protection groups
            </Header>
          }
          columnDefinitions={[
            {
              id: "name",
              header: "Name",
              cell: (g) => <Link href={`#/protection-groups/${g.groupId}`}>{g.name}</Link>,
            },
            { id: "where", header: "Account and Region", cell: (g) => whereOf(g) },
            { id: "selection", header: "Selection", cell: selection },
            { id: "description", header: "Description", cell: (g) => g.description ?? "-" },
            { id: "version", header: "Version", cell: (g) => g.version },
          ]}
        />
        <ConfirmModal
          visible={confirm}
          header="Delete protection group"
          confirmText="Delete"
          onConfirm={() => void remove()}
          onDismiss={() => setConfirm(false)}
        >
          Delete <b>{selected[0]?.name}</b>? Plans that use it will have to be changed first.
        </ConfirmModal>
      </SpaceBetween>
    </ContentLayout>
  );
}

interface TagRow {
  key: string;
  values: string;
}

/** Create or edit a protection group: source server picker, tag selectors, errors inline. */
export function ProtectionGroupEditor({ groupId }: { groupId?: string }) {
  const { api, config, session } = useApp();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  // Where the group's servers replicate: one DRS target (this account and Region by default).
  const [where, setWhere] = useState<{ accountId?: string; region: string }>({ region: config.region });
  const [targets, setTargets] = useState<Target[]>([]);
  const [targetsError, setTargetsError] = useState<unknown>();
  const [picked, setPicked] = useState<SourceServer[]>([]);
  const [tags, setTags] = useState<TagRow[]>([]);
  const [launch, setLaunch] = useState<LaunchSettings>({});
  const [applied, setApplied] = useState<LaunchSettingsApplied>();
  const [applyError, setApplyError] = useState<unknown>();
  const [applying, setApplying] = useState(false);
  const [version, setVersion] = useState<number>();
  const [loadError, setLoadError] = useState<unknown>();
  const [saveError, setSaveError] = useState<unknown>();
  const [saving, setSaving] = useState(false);
  const [filter, setFilter] = useState("");
  const target = targets.find((t) => (where.accountId ? t.accountId === where.accountId && !t.home : t.home) && t.region === where.region);
  // Only the chosen target's servers: a group's servers all replicate in one account and Region.
  // Read once the targets are known (or could not be): one listing, of the chosen target.
  const [targetsKnown, setTargetsKnown] = useState(false);
  const inventory = usePagedList(
    (token) =>
      targetsKnown
        ? api.sourceServers(100, token, target ? { accountId: target.accountId, region: target.region } : undefined)
        : Promise.resolve({ items: [] }),
    [target?.key, targetsKnown],
  );

  useEffect(() => {
    api
      .targets()
      .then((answer) => setTargets(answer.items), setTargetsError)
      .finally(() => setTargetsKnown(true));
  }, [api]);
  const admin = can(session.groups, "manageCatalog");

  useEffect(() => {
    if (!groupId) return;
    api.group(groupId).then(
      (group) => {
        setName(group.name);
        setDescription(group.description ?? "");
        setWhere({ accountId: group.accountId, region: group.region });
        // Only the ids are stored with the group; the table matches them by id (trackBy).
        setPicked(
          (group.sourceServerIds ?? []).map((id) => ({
            sourceServerID: id,
            accountId: group.accountId ?? "",
            region: group.region,
            target: "",
            extended: false,
            hostname: null,
            tags: {},
            protectionGroup: null,
          })),
        );
        setTags(Object.entries(group.tagSelectors ?? {}).map(([key, values]) => ({ key, values: values.join(", ") })));
        setLaunch(group.launchSettings ?? {});
        setVersion(group.version);
      },
      setLoadError,
    );
  }, [api, groupId]);

  const error = saveError instanceof ApiError ? saveError : undefined;
  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    const body: GroupInput = { name: name.trim(), region: where.region };
    if (where.accountId) body.accountId = where.accountId;
    if (description.trim()) body.description = description.trim();
    if (picked.length) body.sourceServerIds = picked.map((s) => s.sourceServerID);
    const selectors = tags.filter((t) => t.key.trim());
    if (selectors.length) {
      body.tagSelectors = Object.fromEntries(
        selectors.map((t) => [t.key.trim(), t.values.split(",").map((v) => v.trim()).filter(Boolean)]),
      );
    }
    if (Object.keys(launch).length) body.launchSettings = launch;
    try {
      if (groupId && version !== undefined) await api.updateGroup(groupId, { ...body, version });
      else await api.createGroup(body);
      navigate("/protection-groups");
    } catch (caught) {
      setSaveError(caught);
    } finally {
      setSaving(false);
    }
  };
  const apply = async () => {
    if (!groupId) return;
    setApplying(true);
    setApplyError(undefined);
    try {
      setApplied(await api.applyLaunchSettings(groupId));
    } catch (caught) {
      setApplyError(caught);
    } finally {
      setApplying(false);
    }
  };
  const pickedIds = new Set(picked.map((s) => s.sourceServerID));
  const text = filter.toLowerCase();
  const shown = inventory.items.filter(
    (s) =>
      !text ||
      s.sourceServerID.toLowerCase().includes(text) ||
      (s.hostname ?? "").toLowerCase().includes(text) ||
      Object.entries(s.tags ?? {}).some(([k, v]) => `${k}=${v}`.toLowerCase().includes(text)),
  );
  return (
    <ContentLayout header={<Header variant="h1">{groupId ? `Edit ${name || "protection group"}` : "Create protection group"}</Header>}>
      <form onSubmit={(e) => e.preventDefault()}>
        <Form
          actions={
            <SpaceBetween direction="horizontal" size="xs">
              <Button variant="link" onClick={() => navigate("/protection-groups")}>Cancel</Button>
              <Button variant="primary" loading={saving} disabled={!admin} onClick={() => void save()}>
                {groupId ? "Save changes" : "Create protection group"}
              </Button>
            </SpaceBetween>
          }
          errorText={saveError ? <ErrorAlert error={saveError} header="The protection group was not saved" /> : undefined}
        >
          <SpaceBetween size="l">
            <ErrorAlert error={loadError} header="Could not load the protection group" />
            <Container
              data-testid="launch-settings"
              header={
                <Header
                  variant="h2"
                  description="The DRS launch configuration every server of the group should have. Saved with the group; readiness reports servers that differ; Apply sets them."
                  actions={
                    groupId ? (
                      <Button loading={applying} disabled={!can(session.groups, "operate")} onClick={() => void apply()}>
                        Apply to servers
                      </Button>
                    ) : undefined
                  }
                >
                  Launch settings
                </Header>
              }
            >
              <SpaceBetween size="s">
                <LaunchSettingsEditor value={launch} onChange={setLaunch} errorFor={(field) => reasonsUnder(error, field)} />
                {applied ? (
                  <Box data-testid="launch-settings-applied">
                    Applied to {applied.applied.length} server(s)
                    {applied.failed.length ? `; not to ${applied.failed.map((f) => `${f.sourceServerId} (${f.error})`).join(", ")}: apply again` : "."}
                  </Box>
                ) : null}
                <ErrorAlert error={applyError} header="The launch settings were not applied" />
              </SpaceBetween>
            </Container>
            <Container header={<Header variant="h2">Details</Header>}>
              <SpaceBetween size="m">
                <FormField label="Name" errorText={reasonsUnder(error, "name")}>
                  <Input value={name} onChange={({ detail }) => setName(detail.value)} ariaLabel="Group name" />
                </FormField>
                <FormField label="Description - optional" errorText={reasonsUnder(error, "description")}>
                  <Textarea value={description} onChange={({ detail }) => setDescription(detail.value)} />
                </FormField>
                <FormField
                  label="DRS target"
                  description="The account and Region the group's servers replicate in; an execution launches them there."
                  errorText={reasonsUnder(error, "accountId") ?? reasonsUnder(error, "region")}
                >
                  <Select
                    ariaLabel="DRS target"
                    selectedOption={{ label: whereOf(where), value: target?.key ?? "" }}
                    onChange={({ detail }) => {
                      const chosen = targets.find((t) => t.key === detail.selectedOption.value);
                      if (chosen) setWhere({ accountId: chosen.home ? undefined : chosen.accountId, region: chosen.region });
                    }}
                    options={targets.map((t) => ({
                      label: whereOf({ accountId: t.home ? undefined : t.accountId, region: t.region }),
                      value: t.key,
                      description: t.reachable ? t.roleArn : `unreachable: ${t.reason ?? "unknown reason"}`,
                    }))}
                  />
                </FormField>
                <ErrorAlert error={targetsError} header="Could not load the DRS targets" />
              </SpaceBetween>
            </Container>
            <FormField
              stretch
              label="Tag selectors"
              description="Servers whose tag has one of the values belong to the group, now and when they are added later."
              errorText={reasonsUnder(error, "tagSelectors")}
            >
              <AttributeEditor
                items={tags}
                addButtonText="Add tag selector"
                removeButtonText="Remove"
                empty="No tag selector."
                onAddButtonClick={() => setTags([...tags, { key: "", values: "" }])}
                onRemoveButtonClick={({ detail }) => setTags(tags.filter((_t, i) => i !== detail.itemIndex))}
                definition={[
                  {
                    label: "Tag key",
                    control: (row, index) => (
                      <Input
                        value={row.key}
                        ariaLabel={`Tag selector ${index + 1} key`}
                        onChange={({ detail }) => setTags(tags.map((t, i) => (i === index ? { ...t, key: detail.value } : t)))}
                      />
                    ),
                  },
                  {
                    label: "Values (comma-separated)",
                    control: (row, index) => (
                      <Input
                        value={row.values}
                        ariaLabel={`Tag selector ${index + 1} values`}
                        onChange={({ detail }) => setTags(tags.map((t, i) => (i === index ? { ...t, values: detail.value } : t)))}
                      />
                    ),
                  },
                ]}
              />
            </FormField>
            <FormField stretch label="Source servers" errorText={reasonsUnder(error, "sourceServerIds")}>
              <Table
                data-testid="source-server-picker"
                items={shown}
                trackBy="sourceServerID"
                selectionType="multi"
                selectedItems={inventory.items.filter((s) => pickedIds.has(s.sourceServerID))}
                onSelectionChange={({ detail }) => {
                  const visible = new Set(shown.map((s) => s.sourceServerID));
                  const kept = picked.filter((s) => !visible.has(s.sourceServerID));
                  setPicked([...kept, ...detail.selectedItems]);
                }}
                isItemDisabled={(s) => Boolean(s.protectionGroup && s.protectionGroup !== name && !pickedIds.has(s.sourceServerID))}
                ariaLabels={{
                  selectionGroupLabel: "Source servers",
                  itemSelectionLabel: (_d, s) => `Select ${s.hostname ?? s.sourceServerID}`,
                  allItemsSelectionLabel: () => "Select all",
                }}
                loading={inventory.loading && !inventory.items.length}
                loadingText="Loading source servers from DRS"
                filter={<TextFilter filteringText={filter} filteringPlaceholder="Find by id, hostname or tag" onChange={({ detail }) => setFilter(detail.filteringText)} />}
                header={<Header counter={`(${picked.length} selected)`} description="Servers already in another group cannot be picked: a server belongs to one group.">Source servers</Header>}
                footer={
                  inventory.nextToken && (
                    <Box textAlign="center">
                      <Button onClick={() => void inventory.more()} loading={inventory.loading}>Load more servers</Button>
                    </Box>
                  )
                }
                empty={<Box textAlign="center">DRS reports no source server in this account and Region.</Box>}
                columnDefinitions={[
                  { id: "host", header: "Hostname", cell: (s) => s.hostname ?? "-" },
                  { id: "id", header: "Source server", cell: (s) => s.sourceServerID },
                  { id: "tags", header: "Tags", cell: (s) => Object.entries(s.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(", ") || "-" },
                  { id: "group", header: "Protection group", cell: (s) => s.protectionGroup ?? "-" },
                ]}
              />
              <ErrorAlert error={inventory.error} header="Could not load source servers" />
            </FormField>
          </SpaceBetween>
        </Form>
      </form>
    </ContentLayout>
  );
}
