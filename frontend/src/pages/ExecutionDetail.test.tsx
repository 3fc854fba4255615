import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { act, render, screen, waitFor } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { type Api, ApiError } from "../lib/api";
import { AppContext } from "../lib/context";
import type { Execution, JobEvent } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { ExecutionDetail } from "./ExecutionDetail";

const CONFIG = TEST_CONFIG;
const session = testSession;

function execution(overrides: Partial<Execution> = {}): Execution {
  return {
    executionId: "ex-1",
    planId: "rp-1",
    planName: "Orders",
    mode: "DRILL",
    status: "PAUSED",
    startedAt: "2026-11-25T10:00:00Z",
    updatedAt: "2026-11-25T10:05:00Z",
    version: 7,
    waves: [
      { name: "DB", dependsOn: [], pauseBefore: false, approved: false, servers: ["s-db1", "s-db2"], status: "COMPLETED", jobIds: ["drsjob-1"] },
      { name: "Web", dependsOn: ["DB"], pauseBefore: true, approved: false, servers: ["s-web1"], status: "AWAITING_APPROVAL", jobIds: [] },
    ],
    jobs: { "drsjob-1": { jobId: "drsjob-1", waveName: "DB", status: "COMPLETED", type: "LAUNCH", servers: ["s-db1", "s-db2"] } },
    servers: {
      "s-db1": { sourceServerId: "s-db1", waveName: "DB", jobId: "drsjob-1", launchStatus: "LAUNCHED", recoveryInstanceId: "i-1" },
      "s-db2": { sourceServerId: "s-db2", waveName: "DB", jobId: "drsjob-1", launchStatus: "FAILED" },
    },
    ...overrides,
  };
}

const EVENTS: JobEvent[] = [
  { eventKey: "1#drsjob-1#JOB_START", jobId: "drsjob-1", event: "JOB_START", logDateTime: "2026-11-25T10:00:01Z" },
  { eventKey: "2#drsjob-1#LAUNCH_FAILED", jobId: "drsjob-1", event: "LAUNCH_FAILED", logDateTime: "2026-11-25T10:01:00Z", sourceServerId: "s-db2", eventData: { sourceServerID: "s-db2", rawError: "no capacity" } },
];

function fakeApi(item: Execution, control = vi.fn(async () => item)) {
  const api = {
    execution: vi.fn(async () => item),
    jobEvents: vi.fn(async () => ({ items: EVENTS })),
    all: async <T,>(page: (t?: string) => Promise<{ items: T[] }>) => (await page()).items,
    control,
  };
  return api;
}

function show(api: ReturnType<typeof fakeApi> & Record<string, unknown>, groups: string[]) {
  return render(
    <AppContext.Provider value={{ config: CONFIG, session: session(groups), api: api as unknown as Api }}>
      <ExecutionDetail executionId="ex-1" />
    </AppContext.Provider>,
  );
}

function button(_container: HTMLElement, text: string) {
  // The whole document: confirmations open in a modal outside the page's container.
  const found = createWrapper(document.body)
    .findAllButtons()
    // A disabled button also carries its disabled reason for screen readers.
    .find((b) => b.getElement().textContent?.startsWith(text));
  if (!found) throw new Error(`no button ${text}`);
  return found;
}

describe("ExecutionDetail", () => {
  it("shows waves, servers, the failed server and the DRS job events", async () => {
    const { container } = show(fakeApi(execution()), ["operator"]);
    await screen.findByText("Wave Web waits for approval");
    expect(container.querySelector('[data-wave-status="DB"]')?.textContent).toBe("COMPLETED");
    expect(container.querySelector('[data-wave-status="Web"]')?.textContent).toBe("AWAITING_APPROVAL");
    expect(container.querySelector('[data-server-status="s-db2"]')?.textContent).toBe("FAILED");
    expect(container.querySelector('[data-server-status="s-web1"]')?.textContent).toBe("NOT_STARTED");
    expect(screen.getByTestId("failed-servers").textContent).toContain("s-db2 (wave DB, job drsjob-1)");
    const events = createWrapper(container).findTable('[data-testid="job-events"]')!;
    await waitFor(() => expect(events.findRows()).toHaveLength(2));
    // Newest first, with the event's own details.
    expect(events.findBodyCell(1, 2)!.getElement().textContent).toBe("LAUNCH_FAILED");
    expect(events.findBodyCell(1, 5)!.getElement().textContent).toBe("rawError: no capacity");
  });

  it("shows each wave's actions as they ran, and a failback's servers home", async () => {
    const item = execution({
      mode: "FAILBACK",
      status: "RUNNING",
      servers: {},
      jobs: {},
      waves: [
        {
          name: "DB", dependsOn: [], pauseBefore: false, approved: false, servers: ["s-db1", "s-db2"],
          status: "POST_ACTIONS", jobIds: ["drsjob-9"],
          actionRuns: [
            { phase: "post", index: 0, document: "DR-DnsHome", status: "Success", startedAt: "2026-11-25T10:04:00Z", maxWaitSeconds: 900 },
            { phase: "post", index: 1, document: "DR-Check", status: "InProgress", startedAt: "2026-11-25T10:04:00Z", maxWaitSeconds: 900 },
          ],
        },
        { name: "Web", dependsOn: ["DB"], pauseBefore: false, approved: false, servers: ["s-web1"], status: "PENDING", jobIds: [] },
      ],
      failback: {
        "s-db1": { instance: "i-1", step: "HOME" },
        "s-db2": { instance: "i-2", step: "HOME" },
        "s-web1": { instance: "i-3", step: "WAITING" },
      },
    });
    const { container } = show(fakeApi(item), ["operator"]);
    await waitFor(() => expect(container.querySelector('[data-wave-actions="DB"]')).toBeTruthy());
    expect(container.querySelector('[data-wave-actions="DB"]')?.textContent).toBe(
      "after: DR-DnsHome Success; after: DR-Check InProgress",
    );
    expect(container.querySelector('[data-wave-actions="Web"]')?.textContent).toBe("-");
    const waves = createWrapper(container).findTable('[data-testid="waves-table"]')!;
    expect(waves.findColumnHeaders()[3].getElement().textContent).toBe("Home");
    expect(waves.findBodyCell(1, 4)!.getElement().textContent).toBe("2 / 2");
    expect(waves.findBodyCell(2, 4)!.getElement().textContent).toBe("0 / 1");
  });

  it("names a DRS target out of reach and where each server launched", async () => {
    const item = execution({
      status: "RUNNING",
      jobs: { "drsjob-1": { jobId: "drsjob-1", waveName: "DB", status: "STARTED", type: "LAUNCH", servers: ["s-db1", "s-db2"], target: "111122223333/us-west-2" } },
      unreachableTargets: { "111122223333/us-west-2": { reason: "AccessDenied: not authorized", since: "2026-11-25T10:04:00Z" } },
    });
    const { container } = show(fakeApi(item), ["operator"]);
    const alert = await screen.findByTestId("unreachable-targets");
    expect(alert.textContent).toContain("111122223333/us-west-2 since");
    expect(alert.textContent).toContain("AccessDenied: not authorized");
    const servers = createWrapper(container).findTable('[data-testid="servers-table"]')!;
    expect(servers.findBodyCell(1, 5)!.getElement().textContent).toBe("111122223333/us-west-2");
  });

  it("lets an operator approve a paused wave", async () => {
    const api = fakeApi(execution());
    const { container } = show(api, ["operator"]);
    await screen.findByText("Wave Web waits for approval");
    expect(button(container, "Approve and resume").isDisabled()).toBe(false);
    expect(button(container, "Terminate drill instances").isDisabled()).toBe(true);
    await act(async () => button(container, "Approve and resume").click());
    expect(api.control).toHaveBeenCalledWith("ex-1", "resume");
  });

  it("gives a read-only user no control", async () => {
    const api = fakeApi(execution());
    const { container } = show(api, ["read-only"]);
    await screen.findByText("Wave Web waits for approval");
    for (const text of ["Approve and resume", "Cancel execution", "Terminate drill instances"]) {
      expect(button(container, text).isDisabled()).toBe(true);
    }
    expect(screen.getByText("An operator or admin must approve it.")).toBeTruthy();
    act(() => button(container, "Approve and resume").click());
    expect(api.control).not.toHaveBeenCalled();
  });

  it("terminates a finished drill's instances after confirmation", async () => {
    const done = execution({ status: "FAILED", endedAt: "2026-11-25T10:09:00Z" });
    const api = fakeApi(done);
    const { container } = show(api, ["admin"]);
    await screen.findByTestId("failed-servers");
    expect(button(container, "Approve and resume").isDisabled()).toBe(true);
    act(() => button(container, "Terminate drill instances").click());
    await act(async () => button(container, "Terminate 1 instance(s)").click());
    expect(api.control).toHaveBeenCalledWith("ex-1", "terminate-instances");
  });

  it("starts a failback of a finished recovery with the options chosen, as an admin only", async () => {
    const done = execution({ mode: "RECOVERY", status: "COMPLETED", endedAt: "2026-11-25T10:09:00Z" });
    const api = { ...fakeApi(done), startFailback: vi.fn(async () => ({ ...done, executionId: "fb-1-1" })) };
    const { container, unmount } = show(api, ["admin"]);
    await screen.findByTestId("execution-status");
    act(() => button(container, "Start failback").click());
    const dialog = createWrapper(document.body)
      .findAllModals()
      .find((m) => m.findHeader().getElement().textContent === "Fail back to where the workload came from")!;
    act(() => dialog.findContent().findAllCheckboxes()[1].findNativeInput().click());
    await act(async () => dialog.findFooter()!.findAllButtons().find((b) => b.getElement().textContent === "Start failback")!.click());
    expect(api.startFailback).toHaveBeenCalledWith("ex-1", { restartReplication: true, terminateRecoveryInstances: true });
    unmount();
    const operator = show({ ...fakeApi(done), startFailback: vi.fn() }, ["operator"]);
    await screen.findByTestId("execution-status");
    expect(button(operator.container, "Start failback").isDisabled()).toBe(true);
  });

  it("says in words why an action failed", async () => {
    const refused = vi.fn(async () => {
      throw new ApiError("POST /executions/ex-1/resume failed (409): execution ex-1 is RUNNING, not PAUSED", 409);
    });
    const { container } = show(fakeApi(execution(), refused), ["admin"]);
    await screen.findByText("Wave Web waits for approval");
    await act(async () => button(container, "Approve and resume").click());
    expect(await screen.findByText("POST /executions/ex-1/resume failed (409): execution ex-1 is RUNNING, not PAUSED")).toBeTruthy();
  });
});
