import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { FailbackReadiness } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { FailbackReadinessPanel, size } from "./FailbackReadiness";

const RESULT: FailbackReadiness = {
  executionId: "ex-1",
  evaluatedAt: "2026-11-30T12:00:00Z",
  state: "actionRequired",
  servers: 2,
  findings: [
    {
      severity: "actionRequired",
      check: "failback-origin",
      wave: "Web",
      sourceServerId: "s-aws",
      message: "it came from 444455556666/ap-southeast-2, which this deployment does not reach",
      fix: "add 444455556666/ap-southeast-2 to drsTargets (and deploy its target stack)",
    },
  ],
  bytesToMove: { "s-aws": 3 * 1024 ** 3, "s-onprem": 512 },
  totalBytesToMove: 3 * 1024 ** 3 + 512,
};

describe("FailbackReadinessPanel", () => {
  it("shows the verdict, each finding with its fix and the data still to move", async () => {
    const failbackReadiness = vi.fn(async () => RESULT);
    render(
      <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { failbackReadiness } as unknown as Api }}>
        <FailbackReadinessPanel recoveryExecutionId="ex-1" />
      </AppContext.Provider>,
    );
    // The verdict in the header and the finding's severity.
    expect((await screen.findAllByText("Action required")).length).toBe(2);
    expect(screen.getByText(/444455556666\/ap-southeast-2 to drsTargets/)).toBeTruthy();
    expect(screen.getByText("3.0 GiB")).toBeTruthy();
    expect(screen.getByText(/2 recovered server\(s\) checked .*; 3\.0 GiB to move back/)).toBeTruthy();
    expect(failbackReadiness).toHaveBeenCalledWith("ex-1");
  });

  it("says sizes in the unit a person reads", () => {
    expect(size(512)).toBe("512 B");
    expect(size(1536)).toBe("1.5 KiB");
  });

  it("asks again while a failback of the recovery runs", async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const failbackReadiness = vi.fn(async () => RESULT);
      render(
        <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { failbackReadiness } as unknown as Api }}>
          <FailbackReadinessPanel recoveryExecutionId="ex-1" live />
        </AppContext.Provider>,
      );
      await screen.findByText(/3\.0 GiB to move back/);
      expect(failbackReadiness).toHaveBeenCalledTimes(1);
      await vi.advanceTimersByTimeAsync(15_000);
      expect(failbackReadiness).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });
});
