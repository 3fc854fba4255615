import "@testing-library/jest-dom/vitest";
import { cleanup, configure } from "@testing-library/react";
import { afterEach } from "vitest";

// Unmount what each test rendered (vitest does not expose globals for RTL to hook into).
afterEach(cleanup);

// findBy* and waitFor end when their element appears; Testing Library gives up after 1 s by
// default, which a busy machine can take to render a page of Cloudscape components.
configure({ asyncUtilTimeout: 60_000 });
