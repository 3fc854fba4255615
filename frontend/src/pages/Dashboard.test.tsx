import { render, screen, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import type { Execution, Target } from "../lib/types";
import { QuotaHeadroom, quotaUse } from "./Dashboard";

const TARGETS: Target[] = [
  { key: "home/us-east-1", accountId: "123456789012", region: "us-east-1", home: true, reachable: true },
  { key: "111122223333/us-west-2", accountId: "111122223333", region: "us-west-2", home: false, reachable: true },
  { key: "444455556666/eu-west-1", accountId: "444455556666", region: "eu-west-1", home: false, reachable: true },
];

function job(jobId: string, servers: number, status: string, target?: string) {
  return {
    jobId,
    waveName: "Web",
    status,
    type: "LAUNCH",
    servers: Array.from({ length: servers }, (_, i) => `s-${jobId}${i}`),
    ...(target ? { target } : {}),
  };
}

const EXECUTIONS = [
  {
    executionId: "ex-1",
    jobs: {
      a: job("a", 100, "STARTED"),
      b: job("b", 100, "STARTED", "111122223333/us-west-2"),
      c: job("c", 50, "PENDING", "111122223333/us-west-2"),
      d: job("d", 100, "COMPLETED", "111122223333/us-west-2"),
    },
  },
  { executionId: "ex-2", jobs: { e: job("e", 30, "STARTED", "111122223333/us-west-2") } },
] as unknown as Execution[];

describe("quotaUse", () => {
  it("counts each account and region against its own quotas, never one shared total", () => {
    const use = quotaUse(EXECUTIONS, TARGETS);
    expect(use.map((u) => [u.key, u.jobs, u.servers])).toEqual([
      ["home/us-east-1", 1, 100],
      ["111122223333/us-west-2", 3, 180],
      ["444455556666/eu-west-1", 0, 0],
    ]);
  });

  it("shows a row per account and region with its own headroom", () => {
    render(<QuotaHeadroom use={quotaUse(EXECUTIONS, TARGETS)} />);
    const table = screen.getByTestId("quota-headroom");
    expect(within(table).getByText("123456789012 (this deployment's), us-east-1")).toBeTruthy();
    expect(within(table).getByText("111122223333, us-west-2")).toBeTruthy();
    expect(within(table).getByText("3 of 20 in use, 17 free")).toBeTruthy();
    expect(within(table).getByText("180 of 500 in use")).toBeTruthy();
    expect(within(table).getByText("0 of 20 in use, 20 free")).toBeTruthy();
  });
});
