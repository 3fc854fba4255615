import AppLayout from "@cloudscape-design/components/app-layout";
import BreadcrumbGroup from "@cloudscape-design/components/breadcrumb-group";
import SideNavigation from "@cloudscape-design/components/side-navigation";
import TopNavigation from "@cloudscape-design/components/top-navigation";
import Spinner from "@cloudscape-design/components/spinner";
import { lazy, type ReactElement, Suspense, useMemo } from "react";
import { Api } from "./lib/api";
import type { Session } from "./lib/auth";
import type { ConsoleConfig } from "./lib/config";
import { AppContext } from "./lib/context";
import { match, navigate, useRoute } from "./lib/router";

// Each page is its own chunk, loaded the first time it is shown: the first screen downloads
// the shell and one page, not the whole console.
const Dashboard = lazy(() => import("./pages/Dashboard").then((m) => ({ default: m.Dashboard })));
const ExecutionDetail = lazy(() =>
  import("./pages/ExecutionDetail").then((m) => ({ default: m.ExecutionDetail })),
);
const ExecutionList = lazy(() => import("./pages/Executions").then((m) => ({ default: m.ExecutionList })));
const ProtectionGroupEditor = lazy(() =>
  import("./pages/ProtectionGroups").then((m) => ({ default: m.ProtectionGroupEditor })),
);
const ProtectionGroupList = lazy(() =>
  import("./pages/ProtectionGroups").then((m) => ({ default: m.ProtectionGroupList })),
);
const RecoveryPlanEditor = lazy(() =>
  import("./pages/RecoveryPlans").then((m) => ({ default: m.RecoveryPlanEditor })),
);
const AuditPage = lazy(() => import("./pages/Audit").then((m) => ({ default: m.AuditPage })));
const TargetList = lazy(() => import("./pages/Targets").then((m) => ({ default: m.TargetList })));
const RecoveryPlanList = lazy(() =>
  import("./pages/RecoveryPlans").then((m) => ({ default: m.RecoveryPlanList })),
);

interface Routed {
  section: string;
  title: string;
  page: ReactElement;
}

function route(path: string): Routed {
  let params: Record<string, string> | null;
  if (path === "/protection-groups/new")
    return { section: "/protection-groups", title: "Create", page: <ProtectionGroupEditor /> };
  if ((params = match("/protection-groups/:id", path)))
    return { section: "/protection-groups", title: "Edit", page: <ProtectionGroupEditor key={params.id} groupId={params.id} /> };
  if (path.startsWith("/protection-groups"))
    return { section: "/protection-groups", title: "", page: <ProtectionGroupList /> };
  if (path === "/recovery-plans/new")
    return { section: "/recovery-plans", title: "Create", page: <RecoveryPlanEditor /> };
  if ((params = match("/recovery-plans/:id", path)))
    return { section: "/recovery-plans", title: "Edit", page: <RecoveryPlanEditor key={params.id} planId={params.id} /> };
  if (path.startsWith("/recovery-plans"))
    return { section: "/recovery-plans", title: "", page: <RecoveryPlanList /> };
  if ((params = match("/executions/:id", path)))
    return { section: "/executions", title: params.id, page: <ExecutionDetail key={params.id} executionId={params.id} /> };
  if (path.startsWith("/executions")) return { section: "/executions", title: "", page: <ExecutionList /> };
  if (path.startsWith("/targets")) return { section: "/targets", title: "", page: <TargetList /> };
  if (path.startsWith("/audit")) return { section: "/audit", title: "", page: <AuditPage /> };
  return { section: "/", title: "", page: <Dashboard /> };
}

const SECTIONS: Record<string, string> = {
  "/": "Dashboard",
  "/protection-groups": "Protection groups",
  "/recovery-plans": "Recovery plans",
  "/executions": "Executions",
  "/targets": "DRS targets",
  "/audit": "Audit trail",
};

export function App({
  config,
  session,
  onSignOut,
  onSwitchUser,
}: {
  config: ConsoleConfig;
  session: Session;
  onSignOut: () => void;
  onSwitchUser?: (username: string) => void;
}) {
  // The sandbox signs in as any of its users (one per role): the user menu switches.
  const others =
    session.sandbox && config.auth.mode === "sandbox"
      ? config.auth.users.filter((u) => u.username !== session.username)
      : [];
  const api = useMemo(() => new Api(config.apiUrl, session.idToken), [config.apiUrl, session]);
  const path = useRoute();
  const { section, title, page } = route(path);
  const follow = (event: CustomEvent<{ href: string; external?: boolean }>) => {
    if (event.detail.external) return;
    event.preventDefault();
    navigate(event.detail.href.replace(/^#/, ""));
  };
  return (
    <AppContext.Provider value={{ config, session, api }}>
      <TopNavigation
        identity={{ href: "#/", title: `DRS Orchestrator · ${config.stack}` }}
        utilities={[
          ...(session.sandbox ? [{ type: "button" as const, text: "Local sandbox" }] : []),
          {
            type: "menu-dropdown",
            text: session.username,
            description: `${session.email ?? ""} (${session.groups.join(", ") || "no group"})`,
            iconName: "user-profile",
            items: session.sandbox
              ? others.map((u) => ({ id: `as:${u.username}`, text: `Sign in as ${u.username} (${u.groups.join(", ")})` }))
              : [{ id: "signout", text: "Sign out" }],
            onItemClick: ({ detail }) => {
              if (detail.id === "signout") onSignOut();
              else if (detail.id.startsWith("as:")) onSwitchUser?.(detail.id.slice(3));
            },
          },
        ]}
      />
      <AppLayout
        toolsHide
        navigation={
          <SideNavigation
            header={{ text: config.deploymentName, href: "#/" }}
            activeHref={`#${section}`}
            onFollow={follow}
            items={Object.entries(SECTIONS).map(([href, text]) => ({ type: "link" as const, text, href: `#${href}` }))}
          />
        }
        breadcrumbs={
          <BreadcrumbGroup
            onFollow={follow}
            items={[
              { text: "DRS Orchestrator", href: "#/" },
              ...(section === "/" ? [] : [{ text: SECTIONS[section], href: `#${section}` }]),
              ...(title ? [{ text: title, href: `#${path}` }] : []),
            ]}
          />
        }
        content={<Suspense fallback={<Spinner size="large" />}>{page}</Suspense>}
      />
    </AppContext.Provider>
  );
}
