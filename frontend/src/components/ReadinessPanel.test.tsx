import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { PlanReadiness, RecordedReadiness } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { ReadinessPanel } from "./ReadinessPanel";

const STALLED: PlanReadiness = {
  planId: "rp-1",
  planName: "Orders",
  state: "actionRequired",
  evaluatedAt: "2026-11-30T12:00:00.000000Z",
  servers: 3,
  findings: [
    {
      severity: "actionRequired",
      check: "replication",
      wave: "Apps",
      sourceServerId: "s-q0000000000000003",
      message: "data replication of s-q0000000000000003 (wave Apps) is STALLED (UNSTABLE_NETWORK)",
      fix: "restore replication in the DRS console (agent, network, replication server)",
    },
  ],
};

describe("ReadinessPanel", () => {
  it("evaluates the plan when shown and again on demand, naming each finding and its fix", async () => {
    const readiness = vi.fn(async () => STALLED);
    const readinessHistory = vi.fn(async () => ({ items: [] }));
    const { container } = render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { readiness, readinessHistory } as unknown as Api }}>
        <ReadinessPanel planId="rp-1" />
      </AppContext.Provider>,
    );
    expect(await screen.findByText("Action required", { selector: "[data-testid=readiness-state] *" })).toBeTruthy();
    const table = createWrapper(container).findTable('[data-testid="readiness"]')!;
    expect(table.findBodyCell(1, 3)!.getElement().textContent).toBe("s-q0000000000000003");
    expect(table.findBodyCell(1, 5)!.getElement().textContent).toContain("restore replication");
    expect(readiness).toHaveBeenCalledWith("rp-1");
    createWrapper(container).findButton()!.click();
    await waitFor(() => expect(readiness).toHaveBeenCalledTimes(2));
  });

  it("shows the recorded history: each evaluation's state, findings and why it ran", async () => {
    const recorded = (state: RecordedReadiness["state"], trigger: RecordedReadiness["trigger"], at: string, count: number): RecordedReadiness => ({
      planId: "rp-1",
      planName: "Orders",
      state,
      evaluatedAt: at,
      servers: 3,
      trigger,
      findingCount: count,
      counts: {},
    });
    const readinessHistory = vi.fn(async () => ({
      items: [
        recorded("actionRequired", "replication-event", "2026-11-30T12:30:00.000000Z", 1),
        recorded("passed", "plan-changed", "2026-11-30T12:00:00.000000Z", 0),
      ],
    }));
    const { container } = render(
      <AppContext.Provider
        value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { readiness: vi.fn(async () => STALLED), readinessHistory } as unknown as Api }}
      >
        <ReadinessPanel planId="rp-1" />
      </AppContext.Provider>,
    );
    const history = createWrapper(container).findExpandableSection('[data-testid="readiness-history"]')!;
    history.findExpandButton().click();
    await waitFor(() => expect(history.findContent()!.findTable()!.findRows()).toHaveLength(2));
    const table = history.findContent()!.findTable()!;
    expect(table.findBodyCell(1, 2)!.getElement().textContent).toBe("Action required");
    expect(table.findBodyCell(1, 4)!.getElement().textContent).toBe("DRS replication event");
    expect(table.findBodyCell(2, 4)!.getElement().textContent).toBe("plan changed");
    expect(readinessHistory).toHaveBeenCalledWith("rp-1");
  });
});
