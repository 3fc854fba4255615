import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// Unmount what each test rendered (vitest does not expose globals for RTL to hook into).
afterEach(cleanup);
