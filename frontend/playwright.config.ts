import { defineConfig } from "@playwright/test";

// Browser tests drive Debian's Chromium (no browser download) against a running sandbox:
// SANDBOX_URL when the caller started one (the pytest suite does), else one started here.
const external = process.env.SANDBOX_URL;
const port = 8765;

export default defineConfig({
  testDir: "browser",
  timeout: 240_000,
  expect: { timeout: 60_000 },
  workers: 1,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/report.json" }]],
  outputDir: "test-results/artifacts",
  use: {
    baseURL: external ?? `http://127.0.0.1:${port}`,
    screenshot: "only-on-failure",
    viewport: { width: 1400, height: 1000 },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: external
    ? undefined
    : {
        command: `uv run drsctl sandbox --port ${port}`,
        cwd: "..",
        url: `http://127.0.0.1:${port}/config.json`,
        timeout: 240_000,
        reuseExistingServer: false,
        gracefulShutdown: { signal: "SIGINT", timeout: 20_000 },
      },
});
