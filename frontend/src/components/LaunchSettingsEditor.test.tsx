import createWrapper from "@cloudscape-design/components/test-utils/dom";
import { render } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { LaunchSettingsEditor, withFlag, withTemplate } from "./LaunchSettingsEditor";

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

  it("keeps launch template overrides under launchTemplate and drops it when none is left", () => {
    const typed = withTemplate({ copyTags: true }, "securityGroupIds", " sg-0123456789abcdef0, sg-0fedcba9876543210 ,");
    expect(typed).toEqual({
      copyTags: true,
      launchTemplate: { securityGroupIds: ["sg-0123456789abcdef0", "sg-0fedcba9876543210"] },
    });
    const both = withTemplate(typed, "instanceType", "m5.large");
    expect(both.launchTemplate).toEqual({
      instanceType: "m5.large",
      securityGroupIds: ["sg-0123456789abcdef0", "sg-0fedcba9876543210"],
    });
    expect(withTemplate(withTemplate(both, "instanceType", ""), "securityGroupIds", "  ")).toEqual({ copyTags: true });
  });

  it("types an instance type into the template override and shows the API's reason there", () => {
    const onChange = vi.fn();
    const { container } = render(
      <LaunchSettingsEditor
        value={{ launchTemplate: { subnetId: "subnet-0123456789abcdef0" } }}
        onChange={onChange}
        errorFor={(field) => (field === "launchSettings.launchTemplate.instanceType" ? "'m5.huge' is not an EC2 instance type" : undefined)}
      />,
    );
    const wrapper = createWrapper(container);
    const instanceType = wrapper.findInput('[data-testid="launch-template-instanceType"]')!;
    instanceType.setInputValue("m5.large");
    expect(onChange).toHaveBeenLastCalledWith({
      launchTemplate: { subnetId: "subnet-0123456789abcdef0", instanceType: "m5.large" },
    });
    expect(wrapper.findInput('[data-testid="launch-template-subnetId"]')!.getInputValue()).toBe("subnet-0123456789abcdef0");
    const errors = wrapper.findAllFormFields().map((f) => f.findError()?.getElement().textContent);
    expect(errors).toContain("'m5.huge' is not an EC2 instance type");
  });
});
