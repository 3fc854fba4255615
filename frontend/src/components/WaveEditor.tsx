import AttributeEditor from "@cloudscape-design/components/attribute-editor";
import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Checkbox from "@cloudscape-design/components/checkbox";
import ColumnLayout from "@cloudscape-design/components/column-layout";
import Container from "@cloudscape-design/components/container";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import Multiselect from "@cloudscape-design/components/multiselect";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { type ApiError, reasonsUnder } from "../lib/api";
import type { Action, Wave } from "../lib/types";
import { layout, removeWave, renameWave } from "../lib/waves";
import { DependencyGraph } from "./DependencyGraph";

function parseParameters(text: string): Record<string, string[]> | undefined {
  const entries = text
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const [key, values = ""] = pair.split("=", 2);
      return [key.trim(), values.split(",").map((v) => v.trim()).filter(Boolean)] as const;
    });
  return entries.length ? Object.fromEntries(entries) : undefined;
}

function formatParameters(parameters?: Record<string, string[]>): string {
  return Object.entries(parameters ?? {})
    .map(([key, values]) => `${key}=${values.join(",")}`)
    .join("; ");
}

function ActionsEditor({
  label,
  actions,
  onChange,
  errorText,
  readOnly,
  testId,
}: {
  label: string;
  actions: Action[];
  onChange: (actions: Action[]) => void;
  errorText?: string;
  readOnly: boolean;
  testId: string;
}) {
  const update = (index: number, change: Partial<Action>) =>
    onChange(actions.map((a, i) => (i === index ? { ...a, ...change } : a)));
  return (
    <FormField
      label={label}
      errorText={errorText}
      description="SSM Automation documents run around the launch (at most 5)."
      data-testid={testId}
    >
      <AttributeEditor
        items={actions}
        addButtonText="Add action"
        removeButtonText="Remove"
        disableAddButton={readOnly || actions.length >= 5}
        empty="No actions."
        onAddButtonClick={() => onChange([...actions, { document: "" }])}
        onRemoveButtonClick={({ detail }) => onChange(actions.filter((_a, i) => i !== detail.itemIndex))}
        definition={[
          {
            label: "SSM document",
            control: (action, index) => (
              <Input
                value={action.document}
                readOnly={readOnly}
                placeholder="An Automation document: AWS-RestartEC2Instance or your own"
                onChange={({ detail }) => update(index, { document: detail.value })}
              />
            ),
          },
          {
            label: "Parameters (key=v1,v2; key2=v)",
            control: (action, index) => (
              <Input
                value={formatParameters(action.parameters)}
                readOnly={readOnly}
                onChange={({ detail }) => update(index, { parameters: parseParameters(detail.value) })}
              />
            ),
          },
          {
            label: "Max wait (s)",
            control: (action, index) => (
              <Input
                type="number"
                value={action.maxWaitSeconds ? String(action.maxWaitSeconds) : ""}
                readOnly={readOnly}
                onChange={({ detail }) =>
                  update(index, { maxWaitSeconds: detail.value ? Number(detail.value) : undefined })
                }
              />
            ),
          },
        ]}
      />
    </FormField>
  );
}

export interface WaveEditorProps {
  waves: Wave[];
  onChange: (waves: Wave[]) => void;
  groupNames: string[];
  error?: ApiError;
  readOnly?: boolean;
}

/**
 * The waves of a recovery plan: name, protection groups, dependencies, pause before,
 * pre/post actions; the dependency graph drawn live; the API's validation errors shown on
 * the field they name.
 */
export function WaveEditor({ waves, onChange, groupNames, error, readOnly = false }: WaveEditorProps) {
  const update = (index: number, change: Partial<Wave>) =>
    onChange(waves.map((w, i) => (i === index ? { ...w, ...change } : w)));
  const { cycle } = layout(waves);
  const planLevel = (error?.fieldErrors ?? []).filter((e) => e.field === "waves").map((e) => e.reason);
  const nextName = () => {
    let n = waves.length + 1;
    while (waves.some((w) => w.name === `Wave ${n}`)) n += 1;
    return `Wave ${n}`;
  };
  return (
    <SpaceBetween size="l">
      <Container header={<Header variant="h2">Dependencies</Header>}>
        <DependencyGraph waves={waves} />
        {planLevel.map((reason) => (
          <Box key={reason} color="text-status-error" data-testid="plan-waves-error">
            {reason}
          </Box>
        ))}
        {cycle && !planLevel.length && (
          <Box color="text-status-error">The plan cannot be saved with a cycle.</Box>
        )}
      </Container>
      {waves.map((wave, index) => {
        const where = `waves[${index}]`;
        const others = waves.filter((w, i) => i !== index && w.name.trim() !== "").map((w) => w.name);
        return (
          <Container
            key={index}
            data-testid={`wave-${index}`}
            header={
              <Header
                variant="h3"
                actions={
                  !readOnly && (
                    <Button
                      onClick={() => onChange(removeWave(waves, index))}
                      disabled={waves.length === 1}
                      ariaLabel={`Remove wave ${wave.name || index + 1}`}
                    >
                      Remove wave
                    </Button>
                  )
                }
              >
                Wave {index + 1}
                {wave.name ? `: ${wave.name}` : ""}
              </Header>
            }
          >
            <SpaceBetween size="m">
              <ColumnLayout columns={2}>
                <FormField
                  label="Wave name"
                  data-testid={`wave-${index}-name-field`}
                  errorText={reasonsUnder(error, `${where}.name`)}
                >
                  <Input
                    value={wave.name}
                    readOnly={readOnly}
                    ariaLabel={`Wave ${index + 1} name`}
                    data-testid={`wave-${index}-name`}
                    onChange={({ detail }) => onChange(renameWave(waves, index, detail.value))}
                  />
                </FormField>
                <FormField
                  label="Protection groups"
                  data-testid={`wave-${index}-groups-field`}
                  errorText={reasonsUnder(error, `${where}.protectionGroups`)}
                >
                  <Multiselect
                    selectedOptions={wave.protectionGroups.map((g) => ({ label: g, value: g }))}
                    options={groupNames.map((g) => ({ label: g, value: g }))}
                    disabled={readOnly}
                    placeholder="Choose protection groups"
                    ariaLabel={`Wave ${index + 1} protection groups`}
                    data-testid={`wave-${index}-groups`}
                    onChange={({ detail }) =>
                      update(index, {
                        protectionGroups: detail.selectedOptions.map((o) => o.value ?? ""),
                      })
                    }
                  />
                </FormField>
                <FormField
                  label="Depends on"
                  data-testid={`wave-${index}-depends-on-field`}
                  description="The wave starts once these waves have launched."
                  errorText={reasonsUnder(error, `${where}.dependsOn`)}
                >
                  <Multiselect
                    selectedOptions={(wave.dependsOn ?? []).map((d) => ({ label: d, value: d }))}
                    options={others.map((name) => ({ label: name, value: name }))}
                    disabled={readOnly}
                    placeholder="No dependencies"
                    ariaLabel={`Wave ${index + 1} depends on`}
                    data-testid={`wave-${index}-depends-on`}
                    onChange={({ detail }) =>
                      update(index, { dependsOn: detail.selectedOptions.map((o) => o.value ?? "") })
                    }
                  />
                </FormField>
                <FormField label="Approval" errorText={reasonsUnder(error, `${where}.pauseBefore`)}>
                  <Checkbox
                    checked={Boolean(wave.pauseBefore)}
                    disabled={readOnly}
                    onChange={({ detail }) => update(index, { pauseBefore: detail.checked })}
                  >
                    Pause before this wave until an operator approves
                  </Checkbox>
                </FormField>
              </ColumnLayout>
              <ActionsEditor
                label="Pre-launch actions"
                testId={`wave-${index}-pre-actions`}
                actions={wave.preActions ?? []}
                readOnly={readOnly}
                errorText={reasonsUnder(error, `${where}.preActions`)}
                onChange={(preActions) => update(index, { preActions })}
              />
              <ActionsEditor
                label="Post-launch actions"
                testId={`wave-${index}-post-actions`}
                actions={wave.postActions ?? []}
                readOnly={readOnly}
                errorText={reasonsUnder(error, `${where}.postActions`)}
                onChange={(postActions) => update(index, { postActions })}
              />
              <FormField
                label="After a failback"
                description="Once the wave is home again: the same actions as after its launch, or actions of its own (switching DNS back, say)."
              >
                <Checkbox
                  checked={wave.failbackActions === undefined}
                  disabled={readOnly}
                  data-testid={`wave-${index}-failback-same`}
                  onChange={({ detail }) =>
                    update(index, { failbackActions: detail.checked ? undefined : [] })
                  }
                >
                  Run the post-launch actions
                </Checkbox>
              </FormField>
              {wave.failbackActions !== undefined && (
                <ActionsEditor
                  label="After-failback actions"
                  testId={`wave-${index}-failback-actions`}
                  actions={wave.failbackActions}
                  readOnly={readOnly}
                  errorText={reasonsUnder(error, `${where}.failbackActions`)}
                  onChange={(failbackActions) => update(index, { failbackActions })}
                />
              )}
            </SpaceBetween>
          </Container>
        );
      })}
      {!readOnly && (
        <Button
          iconName="add-plus"
          onClick={() => onChange([...waves, { name: nextName(), protectionGroups: [] }])}
          disabled={waves.length >= 50}
        >
          Add wave
        </Button>
      )}
    </SpaceBetween>
  );
}
