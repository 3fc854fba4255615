import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { RecoveryPlan } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { RecoveryPlanList } from "./RecoveryPlans";

const PLAN: RecoveryPlan = {
  planId: "rp-1",
  name: "Orders",
  version: 1,
  waves: [{ name: "DB", protectionGroups: ["db"] }],
};

describe("RecoveryPlanList", () => {
  it("starts a recovery at a point in time (an admin)", async () => {
    const startExecution = vi.fn(async () => ({ executionId: "ex-9" }));
    const api = {
      plans: vi.fn(async () => ({ items: [PLAN] })),
      all: async <T,>(page: (t?: string) => Promise<{ items: T[] }>) => (await page()).items,
      startExecution,
    };
    const { container } = render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["admin"]), api: api as unknown as Api }}>
        <RecoveryPlanList />
      </AppContext.Provider>,
    );
    await screen.findByText("Orders");
    const page = createWrapper(container);
    page.findTable()!.findRowSelectionArea(1)!.click();
    const startRecovery = page.findAllButtons().find((b) => b.getElement().textContent === "Start recovery")!;
    startRecovery.click();
    const dialog = createWrapper(document.body).findModal()!;
    // The dialog's inputs in order: the point in time, then "type recover".
    const [when, typed] = dialog.findContent().findAllInputs();
    when.setInputValue("2026-11-29T03:00:00Z");
    typed.setInputValue("recover");
    dialog.findFooter()!.findAllButtons().find((b) => b.getElement().textContent === "Start recovery")!.click();
    await waitFor(() => expect(startExecution).toHaveBeenCalledWith("rp-1", "RECOVERY", "2026-11-29T03:00:00Z"));
  });

  it("lets an operator drill but not recover, and says why", async () => {
    const api = {
      plans: vi.fn(async () => ({ items: [PLAN] })),
      all: async <T,>(page: (t?: string) => Promise<{ items: T[] }>) => (await page()).items,
      startExecution: vi.fn(),
    };
    const { container } = render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["operator"]), api: api as unknown as Api }}>
        <RecoveryPlanList />
      </AppContext.Provider>,
    );
    await screen.findByText("Orders");
    const page = createWrapper(container);
    page.findTable()!.findRowSelectionArea(1)!.click();
    const button = (label: string) => page.findAllButtons().find((b) => b.getElement().textContent?.startsWith(label))!;
    expect(button("Start drill").isDisabled()).toBe(false);
    expect(button("Start recovery").isDisabled()).toBe(true);
    // The reason is the disabled button's description (and its tooltip on focus).
    expect((await screen.findAllByText("Needs the admin group: operators run drills")).length).toBeGreaterThan(0);
    expect(api.startExecution).not.toHaveBeenCalled();
  });
});
