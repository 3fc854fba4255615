import "@cloudscape-design/global-styles/index.css";
import Alert from "@cloudscape-design/components/alert";
import Box from "@cloudscape-design/components/box";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { restoreSession, sandboxSession, type Session } from "./lib/auth";
import { loadConfig, type ConsoleConfig } from "./lib/config";
import { SignIn } from "./pages/SignIn";

function Root() {
  const [config, setConfig] = useState<ConsoleConfig>();
  const [session, setSession] = useState<Session | null>();
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    loadConfig()
      .then(async (loaded) => {
        setConfig(loaded);
        setSession(loaded.auth.mode === "sandbox" ? sandboxSession(loaded) : await restoreSession(loaded.auth));
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
      config={config}
      session={session}
      onSignOut={() => {
        session.signOut();
        setSession(null);
      }}
    />
  );
}

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
