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
  },
});
