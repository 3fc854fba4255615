import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import type { Api } from "../lib/api";
import { AppContext } from "../lib/context";
import type { Target } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { TargetList } from "./Targets";


const TARGETS: Target[] = [
  { key: "home/us-east-1", accountId: "123456789012", region: "us-east-1", home: true, reachable: true },
  {
    key: "444455556666/eu-west-1",
    accountId: "444455556666",
    region: "eu-west-1",
    home: false,
    reachable: false,
    roleArn: "arn:aws:iam::444455556666:role/aws-elasticdrs-orchestrator-dev-drs-target",
    reason: "AccessDenied: not authorized to perform sts:AssumeRole",
  },
];

describe("TargetList", () => {
  it("lists each DRS target with whether its role can be assumed", async () => {
    const api = { targets: vi.fn(async () => ({ items: TARGETS })) };
    render(
      <AppContext.Provider
        value={{
          config: TEST_CONFIG,
          session: testSession([]),
          api: api as unknown as Api,
        }}
      >
        <TargetList />
      </AppContext.Provider>,
    );
    expect(await screen.findByText("123456789012 (this deployment's)")).toBeTruthy();
    expect(screen.getByText("Reachable")).toBeTruthy();
    expect(screen.getByText("Unreachable: AccessDenied: not authorized to perform sts:AssumeRole")).toBeTruthy();
    expect(screen.getByText(TARGETS[1].roleArn as string)).toBeTruthy();
  });
});
