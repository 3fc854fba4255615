import "@cloudscape-design/global-styles/index.css";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { restoreSession, sandboxSession, type Session } from "./lib/auth";
import { loadConfig, type ConsoleConfig } from "./lib/config";
import { SignIn } from "./pages/SignIn";

/** Which sandbox user the console signed in as, for this browser tab. */
const SANDBOX_USER_KEY = "drs-orchestrator-sandbox-user";

function Root() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [session, setSession] = useState<Session | null>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    loadConfig()
      .then(async (loaded) => {
        setConfig(loaded);
        setSession(
          loaded.auth.mode === "sandbox"
            ? sandboxSession(loaded, sessionStorage.getItem(SANDBOX_USER_KEY) ?? undefined)
            : await restoreSession(loaded.auth),
        );
      })
      .catch(setError);
  }, []);
  if (error) {
    return (
      <Box margin="xxl">
        <Alert type="error" header="The console cannot start">
          {error instanceof Error ? error.message : String(error)}
        </Alert>
      </Box>
    );
  }
  if (!config || session === undefined) return <Box margin="xxl">Loading…</Box>;
  if (!session) return <SignIn config={config} onSignedIn={setSession} />;
  return (
    <App
      key={session.username}
      config={config}
      session={session}
      onSignOut={() => {
        session.signOut();
        setSession(null);
      }}
      onSwitchUser={(username) => {
        // The sandbox only: sign in as another of its users (kept across reloads).
        sessionStorage.setItem(SANDBOX_USER_KEY, username);
        setSession(sandboxSession(config, username));
      }}
    />
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
