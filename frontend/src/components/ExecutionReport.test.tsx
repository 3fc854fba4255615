import { render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { type Api, ApiError } from "../lib/api";
import { AppContext } from "../lib/context";
import type { Execution, ExecutionReportLinks } from "../lib/types";
import { TEST_CONFIG, testSession } from "../test-fixtures";
import { ExecutionReport } from "./ExecutionReport";

const LINKS: ExecutionReportLinks = {
  executionId: "ex-1",
  storedAt: "2026-11-30T12:00:05Z",
  expiresInSeconds: 300,
  html: "https://drs-x-bucket.s3.us-east-1.amazonaws.com/reports/ex-1.html?X-Amz-Signature=a",
  json: "https://drs-x-bucket.s3.us-east-1.amazonaws.com/reports/ex-1.json?X-Amz-Signature=b",
};

function shown(status: string, executionReport: Api["executionReport"]) {
  const execution = { executionId: "ex-1", status } as unknown as Execution;
  return render(
    <AppContext.Provider value={{ config: TEST_CONFIG, session: testSession(["read-only"]), api: { executionReport } as unknown as Api }}>
      <ExecutionReport execution={execution} />
    </AppContext.Provider>,
  );
}

describe("ExecutionReport", () => {
  it("links the stored report: the page opens in a new tab, the JSON downloads", async () => {
    const executionReport = vi.fn(async () => LINKS);
    shown("COMPLETED", executionReport);
    const page = await screen.findByTestId("report-html");
    expect(page.getAttribute("href")).toBe(LINKS.html);
    expect(page.getAttribute("target")).toBe("_blank");
    expect(screen.getByTestId("report-json").getAttribute("href")).toBe(LINKS.json);
    expect(executionReport).toHaveBeenCalledWith("ex-1");
  });

  it("says why there is none yet when the finder has not stored it", async () => {
    const message = "the report of execution ex-1 is not stored yet: it is written once every DRS job of the execution has ended, on the finder's next run";
    shown("FAILED", vi.fn(async () => Promise.reject(new ApiError(message, 404))));
    expect((await screen.findByTestId("report-pending")).textContent).toBe(message);
  });

  it("asks nothing while the execution runs", async () => {
    const executionReport = vi.fn(async () => LINKS);
    shown("RUNNING", executionReport);
    expect(await screen.findByText("The report is written once the execution has ended.")).toBeTruthy();
    expect(executionReport).not.toHaveBeenCalled();
  });

  it("shows any other failure as an error", async () => {
    shown("COMPLETED", vi.fn(async () => Promise.reject(new ApiError("try again: S3 HeadObject failed", 503))));
    expect(await screen.findByText("Could not find the report")).toBeTruthy();
  });
});
