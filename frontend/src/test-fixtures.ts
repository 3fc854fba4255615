import type { Session } from "./lib/auth";
import type { ConsoleConfig } from "./lib/config";

/** The console configuration pages are tested with (a sandbox deployment of stack dev). */
export const TEST_CONFIG: ConsoleConfig = {
  stack: "dev",
  deploymentName: "aws-elasticdrs-orchestrator-dev",
  region: "us-east-1",
  apiUrl: "http://127.0.0.1:8080/api",
  auth: { mode: "sandbox", token: "t", username: "u", email: "u@example.com", groups: [], users: [] },
};

/** A signed-in sandbox user in ``groups``. */
export function testSession(groups: string[]): Session {
  return { username: "u", groups, idToken: async () => "t", signOut: () => undefined, sandbox: true };
}
