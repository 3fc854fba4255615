import type { Role } from "./types";

// What each Cognito group may do; the API enforces the same (the x-roles of each route in
// openapi.json). The console only hides what would be refused anyway.
export type Capability = "manageCatalog" | "operate";

const CAPABILITIES: Record<Capability, Role[]> = {
  manageCatalog: ["admin"],
  operate: ["admin", "operator"],
};

export function can(groups: readonly string[], capability: Capability): boolean {
  return CAPABILITIES[capability].some((role) => groups.includes(role));
}

export function needs(capability: Capability): string {
  return `Needs the ${CAPABILITIES[capability].join(" or ")} group`;
}
