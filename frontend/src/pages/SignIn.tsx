import Box from "@cloudscape-design/components/box";
import Button from "@cloudscape-design/components/button";
import Container from "@cloudscape-design/components/container";
import Form from "@cloudscape-design/components/form";
import FormField from "@cloudscape-design/components/form-field";
import Header from "@cloudscape-design/components/header";
import Input from "@cloudscape-design/components/input";
import SpaceBetween from "@cloudscape-design/components/space-between";
import { useState } from "react";
import { ErrorAlert } from "../components/ErrorAlert";
import { signIn, type Session, type SignInResult } from "../lib/auth";
import type { CognitoAuth, ConsoleConfig } from "../lib/config";

/** Cognito sign-in (SRP), with the new-password step an invited user meets first. */
export function SignIn({ config, onSignedIn }: { config: ConsoleConfig; onSignedIn: (s: Session) => void }) {
  const auth = config.auth as CognitoAuth;
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [newPassword, setNewPassword] = useState("");
  const [challenge, setChallenge] = useState<Extract<SignInResult, { kind: "new-password-required" }>>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (challenge) {
        onSignedIn(await challenge.complete(newPassword));
        return;
      }
      const result = await signIn(auth, username.trim(), password);
      if (result.kind === "signed-in") onSignedIn(result.session);
      else setChallenge(result);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Box margin="xxl" padding="xxl">
      <div style={{ maxWidth: 420, margin: "0 auto" }}>
        <form onSubmit={(e) => { e.preventDefault(); void submit(); }}>
          <Form
            header={<Header variant="h1" description={config.deploymentName}>Sign in to DRS Orchestrator</Header>}
            actions={<Button variant="primary" formAction="submit" loading={busy}>{challenge ? "Set password and sign in" : "Sign in"}</Button>}
          >
            <Container>
              <SpaceBetween size="m">
                <ErrorAlert error={error} header="Sign-in failed" />
                {challenge ? (
                  <FormField label="New password" description="Your first sign-in: choose your own password.">
                    <Input type="password" value={newPassword} onChange={({ detail }) => setNewPassword(detail.value)} />
                  </FormField>
                ) : (
                  <>
                    <FormField label="User name or e-mail">
                      <Input value={username} autoComplete="username" onChange={({ detail }) => setUsername(detail.value)} />
                    </FormField>
                    <FormField label="Password">
                      <Input type="password" value={password} autoComplete="current-password" onChange={({ detail }) => setPassword(detail.value)} />
                    </FormField>
                  </>
                )}
              </SpaceBetween>
            </Container>
          </Form>
        </form>
      </div>
    </Box>
  );
}
