import { render, screen } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Execution } from "../lib/types";
import { FailbackSteps } from "./FailbackSteps";

describe("FailbackSteps", () => {
  it("shows where each server goes back to and where its failback is", () => {
    const execution = {
      executionId: "fb-1",
      mode: "FAILBACK",
      recoveryExecutionId: "ex-1",
      failback: {
        "s-db": { instance: "i-1", step: "AWAITING_CLIENT" },
        "s-app": { instance: "i-2", origin: "111122223333/us-west-2", step: "HOME", reversedServer: "s-rev" },
        "s-web": { instance: "i-3", step: "FAILED", reason: "failback replication failed: FAILBACK_CLIENT_NOT_SEEN" },
      },
    } as unknown as Execution;
    render(<FailbackSteps execution={execution} />);
    expect(screen.getByText("Waiting for its failback client")).toBeTruthy();
    expect(screen.getByText("AWS 111122223333/us-west-2")).toBeTruthy();
    expect(screen.getAllByText("on premises")).toHaveLength(2);
    expect(screen.getByText("Home")).toBeTruthy();
    expect(screen.getByText("failback replication failed: FAILBACK_CLIENT_NOT_SEEN")).toBeTruthy();
    expect(screen.getByText(/workload of recovery ex-1/)).toBeTruthy();
  });
});
