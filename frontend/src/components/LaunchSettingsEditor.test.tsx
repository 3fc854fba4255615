import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { LaunchSettingsEditor, withFlag } from "./LaunchSettingsEditor";

describe("LaunchSettingsEditor", () => {
  it("sets a choice in DRS's own value and leaves it to DRS again", () => {
    const onChange = vi.fn();
    const { container } = render(
      <LaunchSettingsEditor value={{ copyTags: true }} onChange={onChange} errorFor={() => undefined} />,
    );
    // Right-sizing, launch disposition, then the flags.
    const disposition = createWrapper(container).findAllSelects()[1];
    disposition.openDropdown();
    disposition.selectOptionByValue("STOPPED");
    expect(onChange).toHaveBeenLastCalledWith({ copyTags: true, launchDisposition: "STOPPED" });
    const tags = createWrapper(container).findAllSelects()[3];
    tags.openDropdown();
    tags.selectOption(1); // "As DRS has it"
    expect(onChange).toHaveBeenLastCalledWith({});
  });

  it("maps the licence flag to licensing.osByol and drops it when left to DRS", () => {
    expect(withFlag({}, "osByol", false)).toEqual({ licensing: { osByol: false } });
    expect(withFlag({ licensing: { osByol: true }, copyTags: true }, "osByol", undefined)).toEqual({ copyTags: true });
    expect(withFlag({ copyTags: true }, "copyTags", undefined)).toEqual({});
    expect(withFlag({}, "copyPrivateIp", true)).toEqual({ copyPrivateIp: true });
  });

  it("shows the API's reason on the field it names", () => {
    const { container } = render(
      <LaunchSettingsEditor
        value={{}}
        onChange={() => undefined}
        errorFor={(field) => (field === "launchSettings.launchDisposition" ? "must be one of STOPPED, STARTED" : undefined)}
      />,
    );
    const fields = createWrapper(container).findAllFormFields();
    expect(fields[1].findError()!.getElement().textContent).toBe("must be one of STOPPED, STARTED");
  });
});
