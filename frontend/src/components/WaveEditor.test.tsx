import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { act, render, screen } from "@testing-library/react";
import { useState } from "react";
import { describe, expect, it, vi } from "vitest";
import { ApiError } from "../lib/api";
import { cleanWaves } from "../lib/waves";
import type { Wave } from "../lib/types";
import { WaveEditor } from "./WaveEditor";

const GROUPS = ["Databases", "App servers", "Web servers"];

function threeWaves(): Wave[] {
  return [
    { name: "DB", protectionGroups: ["Databases"] },
    { name: "App", protectionGroups: ["App servers"], dependsOn: ["DB"] },
    { name: "Web", protectionGroups: ["Web servers"], dependsOn: ["App"], pauseBefore: true },
  ];
}

/** The editor with its own state, as a page holds it; ``seen`` gets every change. */
function Harness({ initial, error, seen }: { initial: Wave[]; error?: ApiError; seen?: (w: Wave[]) => void }) {
  const [waves, setWaves] = useState(initial);
  return (
    <WaveEditor
      waves={waves}
      groupNames={GROUPS}
      error={error}
      onChange={(next) => {
        seen?.(next);
        setWaves(next);
      }}
    />
  );
}

function edges(container: HTMLElement): string[] {
  return [...container.querySelectorAll("[data-edge]")].map((e) => e.getAttribute("data-edge") ?? "");
}

describe("WaveEditor", () => {
  it("draws one arrow per dependency", () => {
    const { container } = render(<Harness initial={threeWaves()} />);
    expect(edges(container).sort()).toEqual(["App->Web", "DB->App"]);
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe(
      "Wave dependencies: App after DB; Web after App",
    );
  });

  it("renames a wave everywhere it is depended on", () => {
    const seen = vi.fn();
    const { container } = render(<Harness initial={threeWaves()} seen={seen} />);
    act(() => createWrapper(container).findInput('[data-testid="wave-0-name"]')!.setInputValue("Databases"));
    const last: Wave[] = seen.mock.calls.at(-1)?.[0];
    expect(last[0].name).toBe("Databases");
    expect(last[1].dependsOn).toEqual(["Databases"]);
    expect(edges(container).sort()).toEqual(["App->Web", "Databases->App"]);
  });

  it("adds a dependency chosen in the multiselect and draws it", () => {
    const initial = threeWaves().map((w) => ({ ...w, dependsOn: [] }));
    const { container } = render(<Harness initial={initial} />);
    expect(edges(container)).toEqual([]);
    const dependsOn = createWrapper(container).findMultiselect('[data-testid="wave-2-depends-on"]')!;
    act(() => dependsOn.openDropdown());
    const offered = dependsOn.findDropdown().findOptions().map((o) => o.getElement().textContent);
    expect(offered).toEqual(["DB", "App"]);
    act(() => dependsOn.selectOptionByValue("App"));
    expect(edges(container)).toEqual(["App->Web"]);
  });

  it("removing a wave drops the dependencies on it", () => {
    const seen = vi.fn();
    const { container } = render(<Harness initial={threeWaves()} seen={seen} />);
    const wave = createWrapper(container).findContainer('[data-testid="wave-1"]')!;
    act(() => wave.findHeader()!.findButton()!.click());
    const last: Wave[] = seen.mock.calls.at(-1)?.[0];
    expect(last.map((w) => w.name)).toEqual(["DB", "Web"]);
    expect(last[1].dependsOn).toEqual([]);
    expect(edges(container)).toEqual([]);
  });

  it("shows each API validation error on the field it names", () => {
    const error = new ApiError("POST /recovery-plans failed (400): invalid recovery plan", 400, [
      { field: "waves[1].dependsOn[0]", reason: "unknown wave 'Gone'" },
      { field: "waves[2].protectionGroups", reason: "wave 'Web' has no protection group" },
      { field: "waves", reason: "dependency cycle: DB -> App -> DB" },
    ]);
    const { container } = render(<Harness initial={threeWaves()} error={error} />);
    const fieldError = (testId: string) =>
      createWrapper(container).findFormField(`[data-testid="${testId}"]`)!.findError()?.getElement().textContent;
    expect(fieldError("wave-1-depends-on-field")).toBe("unknown wave 'Gone'");
    expect(fieldError("wave-2-groups-field")).toBe("wave 'Web' has no protection group");
    expect(fieldError("wave-0-depends-on-field")).toBeUndefined();
    expect(fieldError("wave-1-groups-field")).toBeUndefined();
    expect(screen.getByTestId("plan-waves-error").textContent).toBe("dependency cycle: DB -> App -> DB");
  });

  it("names a dependency cycle before the API does", () => {
    const waves = threeWaves();
    waves[0].dependsOn = ["Web"];
    render(<Harness initial={waves} />);
    expect(screen.getByTestId("dependency-cycle").textContent).toBe("Dependency cycle: DB → Web → App → DB");
  });

  it("edits pre-launch actions with their parameters", () => {
    const seen = vi.fn();
    const { container } = render(<Harness initial={threeWaves()} seen={seen} />);
    const field = createWrapper(container).findFormField('[data-testid="wave-0-pre-actions"]')!;
    const actions = field.findControl()!.findAttributeEditor()!;
    act(() => actions.findAddButton().click());
    const row = actions.findRow(1)!;
    act(() => row.findField(1)!.findControl()!.findInput()!.setInputValue("AWS-RestartEC2Instance"));
    act(() => row.findField(2)!.findControl()!.findInput()!.setInputValue("commands=echo ready; workingDirectory=/tmp"));
    act(() => row.findField(3)!.findControl()!.findInput()!.setInputValue("600"));
    const last: Wave[] = seen.mock.calls.at(-1)?.[0];
    expect(last[0].preActions).toEqual([
      {
        document: "AWS-RestartEC2Instance",
        parameters: { commands: ["echo ready"], workingDirectory: ["/tmp"] },
        maxWaitSeconds: 600,
      },
    ]);
  });

  it("gives a wave actions of its own after a failback, or the post-launch ones", () => {
    const seen = vi.fn();
    const initial = threeWaves();
    initial[0].postActions = [{ document: "DR-DnsToRecovery" }];
    const { container } = render(<Harness initial={initial} seen={seen} />);
    const wrapper = createWrapper(container);
    const same = wrapper.findCheckbox('[data-testid="wave-0-failback-same"]')!;
    expect(same.findNativeInput().getElement().checked).toBe(true);
    expect(wrapper.findFormField('[data-testid="wave-0-failback-actions"]')).toBeNull();
    act(() => same.findNativeInput().click());
    expect(seen.mock.calls.at(-1)?.[0][0].failbackActions).toEqual([]);
    const actions = wrapper
      .findFormField('[data-testid="wave-0-failback-actions"]')!
      .findControl()!
      .findAttributeEditor()!;
    act(() => actions.findAddButton().click());
    act(() => actions.findRow(1)!.findField(1)!.findControl()!.findInput()!.setInputValue("DR-DnsHome"));
    const last: Wave[] = seen.mock.calls.at(-1)?.[0];
    expect(last[0].failbackActions).toEqual([{ document: "DR-DnsHome" }]);
    expect(last[0].postActions).toEqual([{ document: "DR-DnsToRecovery" }]);
    expect(cleanWaves(last)[0].failbackActions).toEqual([{ document: "DR-DnsHome" }]);
    act(() => same.findNativeInput().click());
    const back: Wave[] = seen.mock.calls.at(-1)?.[0];
    expect(cleanWaves(back)[0]).not.toHaveProperty("failbackActions");
  });

  it("shows a failback action's error on its list", () => {
    const error = new ApiError("POST /recovery-plans failed (400): invalid recovery plan", 400, [
      { field: "waves[0].failbackActions[0].document", reason: "must not be empty" },
    ]);
    const initial = threeWaves();
    initial[0].failbackActions = [{ document: " " }];
    const { container } = render(<Harness initial={initial} error={error} />);
    const field = createWrapper(container).findFormField('[data-testid="wave-0-failback-actions"]')!;
    expect(field.findError()?.getElement().textContent).toContain("must not be empty");
  });
});
