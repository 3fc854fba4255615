import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { AuditEntry } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { actionText, AuditTrail } from "./AuditTrail";

const ENTRIES: AuditEntry[] = [
  {
    requestId: "r-3",
    at: "2026-11-30T12:00:03.000000Z",
    actor: { user: "oncall", sub: "s-2", groups: ["operator"] },
    action: "startRecovery",
    method: "POST",
    path: "/recovery-plans/rp-1/executions",
    objectType: "recovery-plan",
    objectId: "rp-1",
    status: 403,
    message: "a RECOVERY needs one of the groups admin",
    outcome: "refused",
  },
  {
    requestId: "r-2",
    at: "2026-11-30T12:00:02.000000Z",
    actor: { user: "admin", sub: "s-1", groups: ["admin"] },
    action: "updateRecoveryPlan",
    method: "PUT",
    path: "/recovery-plans/rp-1",
    objectType: "recovery-plan",
    objectId: "rp-1",
    before: { name: "old" },
    after: { name: "new" },
    status: 200,
    outcome: "succeeded",
  },
  {
    requestId: "r-1",
    at: "2026-11-30T12:00:01.000000Z",
    actor: { user: "admin", sub: "s-1", groups: ["admin"] },
    action: "createProtectionGroup",
    method: "POST",
    path: "/protection-groups",
    objectType: "protection-group",
    outcome: "unknown",
  },
];

describe("AuditTrail", () => {
  it("shows who did what to which object and what came of it, asking with its filter", async () => {
    const audit = vi.fn(async () => ({ items: ENTRIES }));
    render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { audit } as unknown as Api }}>
        <AuditTrail filter={{ plan: "rp-1" }} />
      </AppContext.Provider>,
    );
    expect(await screen.findByText("start recovery")).toBeTruthy();
    expect(screen.getByText("refused (403)")).toBeTruthy();
    expect(screen.getByText("a RECOVERY needs one of the groups admin")).toBeTruthy();
    expect(screen.getByText("succeeded (200)")).toBeTruthy();
    expect(screen.getByText("outcome not recorded")).toBeTruthy();
    expect(screen.getAllByText("recovery-plan rp-1")).toHaveLength(2);
    expect(audit).toHaveBeenCalledWith({ plan: "rp-1" }, 50, undefined);
  });

  it("says actions in words", () => {
    expect(actionText("terminateRecoveryInstances")).toBe("terminate recovery instances");
    expect(actionText("startDrill")).toBe("start drill");
  });
});
