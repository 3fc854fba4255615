// The console's configuration: config.json beside index.html, written per deployment by
// the Frontend component (Cognito sign-in) or served by `drsctl sandbox` (sandbox user).

export interface CognitoAuth {
  mode: "cognito";
  userPoolId: string;
  userPoolClientId: string;
}

/** A local sandbox user: its token plays a Cognito ID token. */
export interface SandboxUser {
  token: string;
  username: string;
  email: string;
  groups: string[];
}

export interface SandboxAuth extends SandboxUser {
  mode: "sandbox";
  /** Everyone the sandbox lets the console sign in as (one user per role); the first
   *  user (above) among them. */
  users: SandboxUser[];
}

export interface ConsoleConfig {
  stack: string;
  deploymentName: string;
  region: string;
  apiUrl: string;
  auth: CognitoAuth | SandboxAuth;
}

export class ConfigError extends Error {}

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

function text(value: unknown, key: string): string {
  if (typeof value !== "string" || value.trim() === "") {
    throw new ConfigError(`config.json: '${key}' must be a non-empty string`);
  }
  return value;
}

function sandboxUser(raw: Record<string, unknown>, key: string): SandboxUser {
  return {
    token: text(raw.token, `${key}.token`),
    username: text(raw.username, `${key}.username`),
    email: text(raw.email, `${key}.email`),
    groups: Array.isArray(raw.groups) ? raw.groups.map(String) : [],
  };
}

/** Check what config.json holds; the sandbox sign-in is refused anywhere but localhost. */
export function parseConfig(raw: unknown, hostname: string): ConsoleConfig {
  if (typeof raw !== "object" || raw === null) {
    throw new ConfigError("config.json must hold a JSON object");
  }
  const data = raw as Record<string, unknown>;
  const auth = (data.auth ?? {}) as Record<string, unknown>;
  const base = {
    stack: text(data.stack, "stack"),
    deploymentName: text(data.deploymentName, "deploymentName"),
    region: text(data.region, "region"),
    apiUrl: text(data.apiUrl, "apiUrl").replace(/\/+$/, ""),
  };
  if (auth.mode === "cognito") {
    return {
      ...base,
      auth: {
        mode: "cognito",
        userPoolId: text(auth.userPoolId, "auth.userPoolId"),
        userPoolClientId: text(auth.userPoolClientId, "auth.userPoolClientId"),
      },
    };
  }
  if (auth.mode === "sandbox") {
    if (!LOCAL_HOSTS.has(hostname)) {
      throw new ConfigError(
        `config.json asks for the sandbox sign-in, which only works on localhost, not ${hostname}`,
      );
    }
    const first = sandboxUser(auth, "auth");
    const listed = Array.isArray(auth.users) ? auth.users : [];
    const users = listed.map((u, i) => sandboxUser((u ?? {}) as Record<string, unknown>, `auth.users[${i}]`));
    return {
      ...base,
      auth: {
        mode: "sandbox",
        ...first,
        users: users.some((u) => u.username === first.username) ? users : [first, ...users],
      },
    };
  }
  throw new ConfigError("config.json: 'auth.mode' must be 'cognito' or 'sandbox'");
}

export async function loadConfig(
  fetchImpl: typeof fetch = fetch,
  hostname: string = window.location.hostname,
): Promise<ConsoleConfig> {
  let response: Response;
  try {
    response = await fetchImpl("config.json", { cache: "no-store" });
  } catch (error) {
    throw new ConfigError(`could not load config.json: ${String(error)}`);
  }
  if (!response.ok) {
    throw new ConfigError(`could not load config.json: ${response.status} ${response.statusText}`);
  }
  return parseConfig(await response.json(), hostname);
}
