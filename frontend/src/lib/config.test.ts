import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "./config";

const BASE = {
  stack: "dev",
  deploymentName: "aws-elasticdrs-orchestrator-dev",
  region: "us-east-1",
  apiUrl: "https://abc123.execute-api.us-east-1.amazonaws.com/v1/",
};
const SANDBOX = { mode: "sandbox", token: "sandbox-x", username: "u", email: "u@example.com", groups: ["admin"] };

describe("parseConfig", () => {
  it("reads a deployment's Cognito configuration", () => {
    const config = parseConfig(
      { ...BASE, auth: { mode: "cognito", userPoolId: "us-east-1_abc", userPoolClientId: "client" } },
      "d111111abcdef8.cloudfront.net",
    );
    expect(config.apiUrl).toBe("https://abc123.execute-api.us-east-1.amazonaws.com/v1");
    expect(config.auth).toEqual({ mode: "cognito", userPoolId: "us-east-1_abc", userPoolClientId: "client" });
  });

  it("accepts the sandbox sign-in on localhost only", () => {
    expect(parseConfig({ ...BASE, auth: SANDBOX }, "127.0.0.1").auth.mode).toBe("sandbox");
    expect(() => parseConfig({ ...BASE, auth: SANDBOX }, "d111111abcdef8.cloudfront.net")).toThrow(
      new ConfigError(
        "config.json asks for the sandbox sign-in, which only works on localhost, not d111111abcdef8.cloudfront.net",
      ),
    );
  });

  it("lists every sandbox user the console may sign in as, the first among them", () => {
    const operator = { token: "t-op", username: "sandbox-operator", email: "op@example.com", groups: ["operator"] };
    const auth = parseConfig({ ...BASE, auth: { ...SANDBOX, users: [SANDBOX, operator] } }, "localhost").auth;
    expect(auth.mode === "sandbox" && auth.users.map((u) => u.username)).toEqual(["u", "sandbox-operator"]);
    const alone = parseConfig({ ...BASE, auth: SANDBOX }, "localhost").auth;
    expect(alone.mode === "sandbox" && alone.users.map((u) => u.username)).toEqual(["u"]);
    expect(() => parseConfig({ ...BASE, auth: { ...SANDBOX, users: [{ username: "x" }] } }, "localhost")).toThrow(
      "config.json: 'auth.users[0].token' must be a non-empty string",
    );
  });

  it("names the key that is missing", () => {
    expect(() => parseConfig({ ...BASE, apiUrl: "", auth: SANDBOX }, "localhost")).toThrow(
      "config.json: 'apiUrl' must be a non-empty string",
    );
    expect(() => parseConfig({ ...BASE, auth: { mode: "magic" } }, "localhost")).toThrow(
      "config.json: 'auth.mode' must be 'cognito' or 'sandbox'",
    );
  });
});
