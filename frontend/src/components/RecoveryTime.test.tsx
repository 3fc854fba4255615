import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { Execution, ExecutionSummary } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { ExecutionTimings, RecoveryTimePanel } from "./RecoveryTime";

const RUNS: ExecutionSummary[] = [
  {
    executionId: "ex-2",
    planId: "rp-1",
    startedAt: "2026-11-30T12:00:00.000000Z",
    status: "COMPLETED",
    mode: "DRILL",
    recoveryTimeObjectiveMinutes: 30,
    recoveryTime: { seconds: 2400, objectiveSeconds: 1800, overObjective: true },
  },
  {
    executionId: "ex-1",
    planId: "rp-1",
    startedAt: "2026-11-29T12:00:00.000000Z",
    status: "COMPLETED",
    mode: "DRILL",
    recoveryTimeObjectiveMinutes: 30,
    recoveryTime: { seconds: 1260, objectiveSeconds: 1800, overObjective: false },
  },
  { executionId: "ex-0", planId: "rp-1", startedAt: "2026-11-28T12:00:00.000000Z", status: "FAILED", mode: "DRILL" },
];

describe("RecoveryTimePanel", () => {
  it("shows each run against the objective and one bar per completed run, oldest first", async () => {
    const planExecutions = vi.fn(async () => ({ items: RUNS }));
    const { container } = render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { planExecutions } as unknown as Api }}>
        <RecoveryTimePanel planId="rp-1" objectiveMinutes={30} />
      </AppContext.Provider>,
    );
    expect(await screen.findByText("40 min 0 s, over the 30 min objective")).toBeTruthy();
    expect(screen.getByText("21 min 0 s, within the 30 min objective")).toBeTruthy();
    expect(screen.getByText("Not completed")).toBeTruthy();
    const bars = container.querySelectorAll("[data-testid=recovery-trend] rect");
    expect(Array.from(bars, (b) => b.getAttribute("fill"))).toEqual(["#037f0c", "#d91515"]);
    expect(planExecutions).toHaveBeenCalledWith("rp-1", 10);
  });
});

describe("ExecutionTimings", () => {
  it("gives the verdict and each wave's timings, leaving out what has not happened", () => {
    const execution = {
      executionId: "ex-1",
      recoveryTimeObjectiveMinutes: 15,
      recoveryTime: { seconds: 600, objectiveSeconds: 900, overObjective: false },
      timings: [
        { wave: "Data", startedAfter: 0.4, launch: 240, readyAfter: 250 },
        { wave: "Apps", startedAfter: 251, awaitingApproval: 60 },
      ],
    } as unknown as Execution;
    render(<ExecutionTimings execution={execution} />);
    expect(screen.getByText("10 min 0 s, within the 15 min objective")).toBeTruthy();
    expect(screen.getByText("4 min 0 s")).toBeTruthy();
    expect(screen.getByText("1 min 0 s")).toBeTruthy();
    expect(screen.getAllByText("-").length).toBe(3);
  });
});
