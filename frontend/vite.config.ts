/// <reference types="vitest/config" />
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The console is static files: config.json next to index.html tells it which deployment
// it belongs to, so one build serves every stack (and the sandbox).
export default defineConfig({
  plugins: [react()],
  // amazon-cognito-identity-js reads Node's `global`; the browser calls it globalThis.
  define: { global: "globalThis" },
  base: "./",
  build: { outDir: "dist", sourcemap: false, chunkSizeWarningLimit: 4000 },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test-setup.ts"],
    include: ["src/**/*.test.tsx", "src/**/*.test.ts"],
    css: false,
    // One environment for every file instead of a fresh one per file (jsdom and Cloudscape
    // loaded once: 30 s of CPU became 12 on 2 cores). The tests share no global state: the
    // API comes through AppContext, fake timers are restored in `finally`, and
    // test-setup.ts unmounts after each test; a test that changes a global restores it.
    isolate: false,
    // A test ends as soon as what it waits for happens; these bounds only decide when a
    // loaded machine (a second suite on the same cores) calls it missing. Vitest's default
    // of 5 s failed a component test there (issue 31); tests/patience.py has the same aim.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
