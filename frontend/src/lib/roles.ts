import type { Role } from "./types";

// What each Cognito group may do; the API enforces the same (the x-roles of each route in
// openapi.json). The console only hides what would be refused anyway.
// A real recovery launches production in the recovery site: admins only (the API's
// x-roles-by-mode); operators run drills and operate executions.
export type Capability = "manageCatalog" | "operate" | "recover";

const CAPABILITIES: Record<Capability, Role[]> = {
  manageCatalog: ["admin"],
  operate: ["admin", "operator"],
  recover: ["admin"],
};

export function can(groups: readonly string[], capability: Capability): boolean {
  return CAPABILITIES[capability].some((role) => groups.includes(role));
}

export function needs(capability: Capability): string {
  return `Needs the ${CAPABILITIES[capability].join(" or ")} group`;
}
