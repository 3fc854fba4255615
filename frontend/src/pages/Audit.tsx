import Button from "@cloudscape-design/components/button";
import ContentLayout from "@cloudscape-design/components/content-layout";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { AuditTrail } from "../components/AuditTrail";
import type { AuditQuery } from "../lib/api";

const FIELDS: { key: keyof AuditQuery; label: string; placeholder: string }[] = [
  { key: "user", label: "User", placeholder: "Cognito user name" },
  { key: "object", label: "Object", placeholder: "group, plan or execution id" },
  { key: "action", label: "Action", placeholder: "startRecovery" },
  { key: "from", label: "From (UTC)", placeholder: "2026-11-30T00:00:00Z" },
  { key: "to", label: "To (UTC)", placeholder: "2026-11-30T23:59:59Z" },
];

/** The whole audit trail, narrowed on the server by user, object, action and time. */
export function AuditPage() {
  const [draft, setDraft] = useState<AuditQuery>({});
  const [applied, setApplied] = useState<AuditQuery>({});
  return (
    <ContentLayout header={<Header variant="h1">Audit trail</Header>}>
      <SpaceBetween size="l">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            setApplied(Object.fromEntries(Object.entries(draft).filter(([, v]) => v)));
          }}
        >
          <SpaceBetween direction="horizontal" size="s" alignItems="end">
            {FIELDS.map(({ key, label, placeholder }) => (
              <FormField key={key} label={label}>
                <Input
                  value={draft[key] ?? ""}
                  placeholder={placeholder}
                  ariaLabel={`Filter by ${label.toLowerCase()}`}
                  onChange={({ detail }) => setDraft({ ...draft, [key]: detail.value.trim() })}
                />
              </FormField>
            ))}
            <Button formAction="submit">Filter</Button>
          </SpaceBetween>
        </form>
        <AuditTrail filter={applied} />
      </SpaceBetween>
    </ContentLayout>
  );
}
