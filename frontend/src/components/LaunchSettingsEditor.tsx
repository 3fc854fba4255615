import ColumnLayout from "@cloudscape-design/components/column-layout";
import FormField from "@cloudscape-design/components/form-field";
import Input from "@cloudscape-design/components/input";
import Select, { type SelectProps } from "@cloudscape-design/components/select";
import type { LaunchSettings } from "../lib/types";

const LEAVE = { value: "", label: "As DRS has it" };

type Choice = "targetInstanceTypeRightSizingMethod" | "launchDisposition";
type Flag = "copyPrivateIp" | "copyTags" | "postLaunchEnabled" | "osByol";

const CHOICES: Record<Choice, { label: string; options: SelectProps.Option[] }> = {
  targetInstanceTypeRightSizingMethod: {
    label: "Instance type right-sizing",
    options: [
      { value: "NONE", label: "None: the launch template's instance type" },
      { value: "BASIC", label: "Basic: from the source server's CPU and memory" },
      { value: "IN_AWS", label: "In AWS: from the recovery instance's use" },
    ],
  },
  launchDisposition: {
    label: "Launch disposition",
    options: [
      { value: "STARTED", label: "Started" },
      { value: "STOPPED", label: "Stopped" },
    ],
  },
};

const FLAGS: Record<Flag, string> = {
  copyPrivateIp: "Copy private IP",
  copyTags: "Copy tags",
  osByol: "Bring your own OS licence",
  postLaunchEnabled: "Post-launch actions",
};

function flagOf(settings: LaunchSettings, flag: Flag): boolean | undefined {
  return flag === "osByol" ? settings.licensing?.osByol : settings[flag];
}

/** ``settings`` with ``flag`` set to ``value`` (undefined: left as DRS has it). */
export function withFlag(settings: LaunchSettings, flag: Flag, value: boolean | undefined): LaunchSettings {
  const next: LaunchSettings = { ...settings };
  if (flag === "osByol") {
    if (value === undefined) delete next.licensing;
    else next.licensing = { osByol: value };
  } else if (value === undefined) delete next[flag];
  else next[flag] = value;
  return next;
}

type TemplateField = "instanceType" | "subnetId" | "securityGroupIds";
type Template = NonNullable<LaunchSettings["launchTemplate"]>;

const TEMPLATE_FIELDS: Record<TemplateField, { label: string; placeholder: string; description: string }> = {
  instanceType: {
    label: "Launch template: instance type",
    placeholder: "m5.large",
    description: "Needs right-sizing None: otherwise DRS picks the type itself.",
  },
  subnetId: { label: "Launch template: subnet", placeholder: "subnet-0123456789abcdef0", description: "" },
  securityGroupIds: {
    label: "Launch template: security groups",
    placeholder: "sg-0123456789abcdef0, sg-…",
    description: "Comma-separated.",
  },
};

/** ``settings`` with the launch template override ``field`` set from the text typed
 * (blank: the template keeps its own; no override left: no ``launchTemplate`` at all). */
export function withTemplate(settings: LaunchSettings, field: TemplateField, text: string): LaunchSettings {
  const template: Template = { ...(settings.launchTemplate ?? {}) };
  const trimmed = text.trim();
  if (!trimmed) delete template[field];
  else if (field === "securityGroupIds")
    template.securityGroupIds = trimmed
      .split(",")
      .map((id) => id.trim())
      .filter(Boolean);
  else template[field] = trimmed;
  const next: LaunchSettings = { ...settings };
  if (Object.keys(template).length) next.launchTemplate = template;
  else delete next.launchTemplate;
  return next;
}

function templateText(settings: LaunchSettings, field: TemplateField): string {
  const value = settings.launchTemplate?.[field];
  return Array.isArray(value) ? value.join(", ") : (value ?? "");
}

/** The DRS launch settings of a protection group; each field may be left as DRS has it. */
export function LaunchSettingsEditor({
  value,
  onChange,
  errorFor,
}: {
  value: LaunchSettings;
  onChange: (next: LaunchSettings) => void;
  errorFor: (field: string) => string | undefined;
}) {
  return (
    <ColumnLayout columns={3}>
      {(Object.keys(CHOICES) as Choice[]).map((field) => {
        const { label, options } = CHOICES[field];
        const chosen = options.find((o) => o.value === value[field]) ?? LEAVE;
        return (
          <FormField key={field} label={label} errorText={errorFor(`launchSettings.${field}`)}>
            <Select
              data-testid={`launch-${field}`}
              ariaLabel={label}
              selectedOption={chosen}
              options={[LEAVE, ...options]}
              onChange={({ detail }) => {
                const next = { ...value } as Record<string, unknown>;
                if (detail.selectedOption.value) next[field] = detail.selectedOption.value;
                else delete next[field];
                onChange(next as LaunchSettings);
              }}
            />
          </FormField>
        );
      })}
      {(Object.keys(FLAGS) as Flag[]).map((flag) => {
        const current = flagOf(value, flag);
        const options = [LEAVE, { value: "yes", label: "Yes" }, { value: "no", label: "No" }];
        return (
          <FormField key={flag} label={FLAGS[flag]}>
            <Select
              data-testid={`launch-${flag}`}
              ariaLabel={FLAGS[flag]}
              selectedOption={options[current === undefined ? 0 : current ? 1 : 2]}
              options={options}
              onChange={({ detail }) =>
                onChange(withFlag(value, flag, detail.selectedOption.value ? detail.selectedOption.value === "yes" : undefined))
              }
            />
          </FormField>
        );
      })}
      {(Object.keys(TEMPLATE_FIELDS) as TemplateField[]).map((field) => {
        const { label, placeholder, description } = TEMPLATE_FIELDS[field];
        return (
          <FormField
            key={field}
            label={label}
            description={description || undefined}
            errorText={errorFor(`launchSettings.launchTemplate.${field}`)}
          >
            <Input
              data-testid={`launch-template-${field}`}
              ariaLabel={label}
              placeholder={placeholder}
              value={templateText(value, field)}
              onChange={({ detail }) => onChange(withTemplate(value, field, detail.value))}
            />
          </FormField>
        );
      })}
    </ColumnLayout>
  );
}
