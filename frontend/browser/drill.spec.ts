import * as selectors from "@cloudscape-design/components/test-utils/selectors";
import { expect, type Page, test } from "@playwright/test";

// One operator's afternoon in the local sandbox: a protection group, a three-wave plan with
// dependencies and an approval, a drill with one simulated launch failure, and the drill
// instances terminated at the end. Everything goes through the console, the real API
// handler, the real state machine and the DRS simulator.

const FAILING_SERVER = "s-0ba00000000000002"; // batch-02.corp.example.com
// Cloudscape's own selectors (stable across its class-name hashing); the module's default
// export arrives wrapped once more under Playwright's CommonJS loader.
const createWrapper = ((selectors as unknown as { default: { default?: unknown } }).default.default ??
  selectors.default) as typeof selectors.default;
const page$ = createWrapper();

/**
 * Pick ``value`` in a Cloudscape multiselect and wait until its token shows it chosen. On a
 * loaded machine a click can land while the dropdown re-renders and be lost; the pick is
 * then made again, only while the token is still absent (a second click on a chosen option
 * would unselect it), three times at most.
 */
async function choose(page: Page, testId: string, value: string) {
  const multiselect = page$.findMultiselect(`[data-testid="${testId}"]`);
  const chosen = page.locator(multiselect.findTokens().toSelector()).filter({ hasText: value });
  for (let attempt = 1; attempt <= 3 && (await chosen.count()) === 0; attempt += 1) {
    await page.locator(multiselect.findTrigger().toSelector()).click();
    const option = page.locator(multiselect.findDropdown().findOptionByValue(value).toSelector());
    await expect(option).toBeVisible();
    await option.click();
    await page.keyboard.press("Escape");
    await expect(chosen)
      .toHaveCount(1, { timeout: 15_000 })
      .catch(() => undefined);
  }
  await expect(chosen).toHaveCount(1);
}

async function sandboxState(page: Page) {
  const response = await page.request.get("/sandbox/state");
  expect(response.ok()).toBeTruthy();
  return response.json();
}

test("create a group and a plan, drill it, approve, see the failure, terminate", async ({ page }) => {
  page.on("pageerror", (error) => {
    throw error;
  });

  await test.step("create a protection group with the source server picker", async () => {
    await page.goto("/#/protection-groups/new");
    await page.getByRole("textbox", { name: "Group name" }).fill("Batch servers");
    const server = (hostname: string) => page.getByRole("row", { name: new RegExp(hostname) }).getByRole("checkbox");
    await server("batch-01.corp.example.com").check();
    await server("batch-02.corp.example.com").check();
    await expect(page.getByText("(2 selected)")).toBeVisible();
    // A server of another group cannot be picked: a server belongs to one group.
    await expect(server("db-01.corp.example.com")).toBeDisabled();
    await page.getByRole("button", { name: "Create protection group" }).click();
    await expect(page).toHaveURL(/#\/protection-groups$/);
    await expect(page.getByRole("link", { name: "Batch servers" })).toBeVisible();
  });

  await test.step("give the group launch settings and a launch template override, and apply them", async () => {
    await page.getByRole("link", { name: "Batch servers" }).click();
    await expect(page).toHaveURL(/#\/protection-groups\/pg-/);
    const disposition = page$.findSelect('[data-testid="launch-launchDisposition"]');
    await page.locator(disposition.findTrigger().toSelector()).click();
    await page.locator(disposition.findDropdown().findOptionByValue("STOPPED").toSelector()).click();
    // A launch template instance type while DRS right-sizes: refused on the right-sizing field.
    const instanceType = page.locator('[data-testid="launch-template-instanceType"] input');
    await instanceType.fill("m5.large");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page.getByTestId("launch-settings").getByText("must be NONE when launchTemplate.instanceType is set")).toBeVisible();
    await expect(page).toHaveURL(/#\/protection-groups\/pg-/);
    const rightSizing = page$.findSelect('[data-testid="launch-targetInstanceTypeRightSizingMethod"]');
    await page.locator(rightSizing.findTrigger().toSelector()).click();
    await page.locator(rightSizing.findDropdown().findOptionByValue("NONE").toSelector()).click();
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect(page).toHaveURL(/#\/protection-groups$/);
    await page.getByRole("link", { name: "Batch servers" }).click();
    await expect(page.locator(disposition.findTrigger().toSelector())).toContainText("Stopped");
    await expect(instanceType).toHaveValue("m5.large");
    await page.getByRole("button", { name: "Apply to servers" }).click();
    await expect(page.getByTestId("launch-settings-applied")).toHaveText("Applied to 2 server(s).");
  });

  await test.step("a conflicting tag selector is refused on its field", async () => {
    await page.goto("/#/protection-groups/new");
    await page.getByRole("textbox", { name: "Group name" }).fill("Batch again");
    await page.getByRole("button", { name: "Add tag selector" }).click();
    await page.getByRole("textbox", { name: "Tag selector 1 key" }).fill("Tier");
    await page.getByRole("textbox", { name: "Tag selector 1 values" }).fill("batch");
    await page.getByRole("button", { name: "Create protection group" }).click();
    await expect(page.getByText("already belongs to protection group 'Batch servers'").first()).toBeVisible();
    await expect(page).toHaveURL(/#\/protection-groups\/new$/);
  });

  await test.step("build a three-wave plan with dependencies and an approval", async () => {
    await page.goto("/#/recovery-plans/new");
    await page.getByRole("textbox", { name: "Plan name" }).fill("Browser drill");
    await page.getByRole("textbox", { name: "Recovery time objective" }).fill("30");
    await page.getByRole("textbox", { name: "Wave 1 name" }).fill("Databases");
    await choose(page, "wave-0-groups", "Orders databases");
    await page.getByRole("button", { name: "Add wave" }).click();
    await page.getByRole("textbox", { name: "Wave 2 name" }).fill("Apps");
    await choose(page, "wave-1-groups", "Orders app servers");
    await choose(page, "wave-1-depends-on", "Databases");
    await page.getByTestId("wave-1").getByRole("checkbox", { name: /Pause before this wave/ }).check();
    await page.getByRole("button", { name: "Add wave" }).click();
    await page.getByRole("textbox", { name: "Wave 3 name" }).fill("Batch");
    await choose(page, "wave-2-depends-on", "Apps");
    await expect(page.locator('[data-edge="Databases->Apps"]')).toHaveCount(1);
    await expect(page.locator('[data-edge="Apps->Batch"]')).toHaveCount(1);

    // The API refuses a wave without a group; the console shows why, on that field.
    await page.getByRole("button", { name: "Create recovery plan" }).click();
    const groupsField = page$.findFormField('[data-testid="wave-2-groups-field"]');
    await expect(page.locator(groupsField.findError().toSelector())).toHaveText(
      "wave 'Batch' has no protection group",
    );
    await choose(page, "wave-2-groups", "Batch servers");
    await page.getByRole("button", { name: "Create recovery plan" }).click();
    await expect(page).toHaveURL(/#\/recovery-plans$/);
    await expect(page.getByRole("link", { name: "Browser drill" })).toBeVisible();
  });

  await test.step("see the new plan evaluated on the dashboard", async () => {
    // Saving the plan asked the readiness function for an evaluation (asynchronously).
    const row = page.getByTestId("readiness-overview").getByRole("row", { name: /Browser drill/ });
    await expect(async () => {
      await page.goto("/#/");
      await page.reload();
      await expect(row).toContainText("Ready", { timeout: 2000 });
    }).toPass({ timeout: 60_000 });
    await page.goto("/#/recovery-plans");
  });

  await test.step("start a drill with one server set to fail", async () => {
    const steer = await page.request.post("/sandbox/drs", { data: { failingServers: [FAILING_SERVER] } });
    expect(steer.ok()).toBeTruthy();
    await page.getByRole("row", { name: /Browser drill/ }).getByRole("radio").check();
    await page.getByRole("button", { name: "Start drill" }).click();
    await expect(page).toHaveURL(/#\/executions\/ex-/);
  });

  await test.step("watch the first wave launch and its job events arrive", async () => {
    await expect(page.locator('[data-wave-status="Databases"]')).toHaveText("COMPLETED");
    const events = page.getByTestId("job-events");
    await expect(events.getByText("JOB_START").first()).toBeVisible();
    await expect(events.getByText("LAUNCH_END").first()).toBeVisible();
    // Its timings: started, launched and ready, in seconds after the execution started.
    const timings = page.getByTestId("execution-recovery-time");
    await expect(timings.getByRole("row", { name: /Databases/ })).toContainText(/Ready after|\d+ s/);
    await expect(timings.getByRole("row", { name: /Databases/ }).getByRole("cell").nth(4)).toHaveText(/\d+ s$/);
  });

  await test.step("approve the paused wave", async () => {
    await expect(page.getByText("Wave Apps waits for approval")).toBeVisible();
    await expect(page.getByTestId("execution-status")).toHaveText("PAUSED");
    await page.getByRole("button", { name: "Approve and resume" }).click();
    await expect(page.locator('[data-wave-status="Apps"]')).toHaveText("COMPLETED");
  });

  await test.step("see the failed server reported", async () => {
    await expect(page.getByTestId("execution-status")).toHaveText("FAILED");
    await expect(page.locator('[data-wave-status="Batch"]')).toHaveText("FAILED");
    await expect(page.getByTestId("failed-servers")).toContainText(FAILING_SERVER);
    await expect(page.locator(`[data-server-status="${FAILING_SERVER}"]`)).toHaveText("FAILED");
    await expect(page.getByTestId("job-events").getByText("LAUNCH_FAILED").first()).toBeVisible();
    // A failed drill has no recovery time: only a completed one is measured.
    await expect(page.getByTestId("execution-recovery-time")).toContainText("Not completed");
  });

  await test.step("terminate the drill instances", async () => {
    expect((await sandboxState(page)).drs.liveInstances.length).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Terminate drill instances" }).click();
    await page.getByRole("button", { name: /^Terminate \d+ instance\(s\)$/ }).click();
    await expect(page.getByTestId("terminations")).toBeVisible();
    await expect.poll(async () => (await sandboxState(page)).drs.liveInstances).toEqual([]);
  });

  await test.step("open the drill's report, stored once it settled", async () => {
    const report = page.getByTestId("execution-report");
    const opener = report.getByTestId("report-html");
    await expect(opener).toBeVisible({ timeout: 120_000 });
    const [tab] = await Promise.all([page.waitForEvent("popup"), opener.click()]);
    await expect(tab.locator("h1")).toContainText("Browser drill");
    await expect(tab.locator("svg").first()).toBeVisible();
    await expect(tab.getByText(FAILING_SERVER).first()).toBeVisible();
    await tab.close();
    // Written again once the termination's DRS jobs ended: the same link, the newer report.
    const href = (await opener.getAttribute("href")) ?? "";
    await expect
      .poll(async () => (await page.request.get(href)).text(), { timeout: 120_000 })
      .toContain("asked to terminate");
    const json = report.getByTestId("report-json");
    const document = await (await page.request.get((await json.getAttribute("href")) ?? "")).json();
    expect(document.execution.status).toBe("FAILED");
    expect(document.servers.map((s: { sourceServerId: string }) => s.sourceServerId)).toContain(FAILING_SERVER);
  });

  await test.step("see the drill in the plan's recovery-time history", async () => {
    await page.goto("/#/recovery-plans");
    await page.getByRole("link", { name: "Browser drill" }).click();
    const panel = page.getByTestId("recovery-time-panel");
    await expect(panel).toContainText("Objective: 30 min");
    await expect(panel.getByRole("row", { name: /FAILED/ })).toContainText("Not completed");
    await expect(panel).toContainText("No completed execution yet.");
    // Who changed or ran this plan: its creation, the drill, the approval, the terminations.
    const planTrail = page.getByTestId("plan-audit");
    await expect(planTrail.locator('[data-audit-action="createRecoveryPlan"]')).toBeVisible();
    await expect(planTrail.locator('[data-audit-action="startDrill"]')).toBeVisible();
    await expect(planTrail.locator('[data-audit-action="resumeExecution"]')).toBeVisible();
  });

  await test.step("sign in as each role and see the audit trail", async () => {
    let current = "sandbox-user";
    for (const role of ["operator", "read-only", "admin"]) {
      await page.goto("/#/audit");
      // The sandbox's user menu signs in as its user of each role.
      await page.getByRole("button", { name: new RegExp(`^${current}`) }).click();
      await page.getByRole("menuitem", { name: `Sign in as sandbox-${role} (${role})` }).click();
      current = `sandbox-${role}`;
      await expect(page.getByRole("button", { name: new RegExp(`^${current}`) })).toBeVisible();
      const trail = page.getByTestId("audit-trail");
      await expect(trail.locator('[data-audit-action="createProtectionGroup"]').first()).toBeVisible();
      await expect(trail.locator('[data-audit-action="terminateRecoveryInstances"]')).toBeVisible();
      await expect(trail.locator('[data-audit-user="sandbox-user"]').first()).toBeVisible();
      await page.goto("/#/recovery-plans");
      await page.getByRole("row", { name: /Browser drill/ }).getByRole("radio").check();
      const recover = page.getByRole("button", { name: "Start recovery" });
      if (role === "admin") await expect(recover).toBeEnabled();
      else await expect(recover).toBeDisabled();
    }
    // The admin's view of the trail narrowed to one action, by the server.
    await page.goto("/#/audit");
    await page.getByRole("textbox", { name: "Filter by action" }).fill("startDrill");
    await page.getByRole("button", { name: "Filter" }).click();
    const trail = page.getByTestId("audit-trail");
    await expect(trail.locator("[data-audit-action]")).toHaveCount(1);
  });
});

test("recover a plan, then bring it home: failback with the clients booted", async ({ page }) => {
  page.on("pageerror", (error) => {
    throw error;
  });
  const token = (await (await page.request.get("/config.json")).json()).auth.token as string;
  const api = (path: string, data?: unknown) =>
    data === undefined
      ? page.request.get(`/api${path}`, { headers: { Authorization: token } })
      : page.request.post(`/api${path}`, { headers: { Authorization: token }, data });

  await test.step("a plan of the databases with an action after each way, no server set to fail", async () => {
    expect((await page.request.post("/sandbox/drs", { data: { failingServers: [] } })).ok()).toBeTruthy();
    const created = await api("/recovery-plans", {
      name: "Browser failback",
      waves: [
        {
          name: "Databases",
          protectionGroups: ["Orders databases"],
          postActions: [{ document: "DR-DnsToRecovery" }],
          failbackActions: [{ document: "DR-DnsHome" }],
        },
      ],
    });
    expect(created.status()).toBe(201);
  });

  await test.step("recover it", async () => {
    await page.goto("/#/recovery-plans");
    await page.getByRole("row", { name: /Browser failback/ }).getByRole("radio").check();
    await page.getByRole("button", { name: "Start recovery" }).click();
    await page.getByRole("textbox", { name: "Type recover" }).fill("recover");
    await page.getByRole("dialog").getByRole("button", { name: "Start recovery" }).click();
    await expect(page).toHaveURL(/#\/executions\/ex-/);
    await expect(page.getByTestId("execution-status")).toHaveText("COMPLETED", { timeout: 120_000 });
    await expect(page.locator('[data-wave-actions="Databases"]')).toHaveText("after: DR-DnsToRecovery Success");
    await expect(page.getByTestId("failback-readiness-state")).toContainText("Ready, with warnings");
  });

  await test.step("start its failback, terminating the recovery instances once home", async () => {
    await page.getByRole("button", { name: "Start failback" }).click();
    const dialog = page.getByRole("dialog", { name: "Fail back to where the workload came from" });
    await dialog.getByRole("checkbox", { name: "Terminate the recovery instances once home" }).check();
    await dialog.getByRole("button", { name: "Start failback" }).click();
    await expect(page).toHaveURL(/#\/executions\/fb-/);
    await expect(page.getByTestId("failback-steps")).toContainText("Waiting for its failback client");
    // During the failback its readiness stays in view: what is left to move back.
    await expect(page.getByTestId("failback-readiness")).toContainText("to move back");
    await expect(page.getByTestId("failback-readiness")).toContainText("failback client");
  });

  await test.step("the operator boots the failback clients; the workload comes home", async () => {
    const failbackId = page.url().split("/").pop() ?? "";
    const item = await (await api(`/executions/${failbackId}`)).json();
    const instances = Object.values(item.failback as Record<string, { instance: string }>).map((s) => s.instance);
    expect((await page.request.post("/sandbox/failback-clients", { data: { recoveryInstanceIds: instances } })).ok()).toBeTruthy();
    await expect(page.getByTestId("execution-status")).toHaveText("COMPLETED", { timeout: 120_000 });
    await expect(page.getByTestId("failback-steps").getByText("Home", { exact: true })).toHaveCount(instances.length);
    // Home again, the wave ran its own failback action, not the one it ran after the recovery.
    await expect(page.locator('[data-wave-actions="Databases"]')).toHaveText("after: DR-DnsHome Success");
    await expect.poll(async () => (await sandboxState(page)).drs.liveInstances).toEqual([]);
  });
});
