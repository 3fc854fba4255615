import {
  AuthenticationDetails,
  CognitoUser,
  CognitoUserPool,
  type CognitoUserSession,
} from "amazon-cognito-identity-js";
import type { CognitoAuth, ConsoleConfig } from "./config";

/** Who is signed in, and how to get a current ID token for the API's authorizer. */
export interface Session {
  username: string;
  email?: string;
  groups: string[];
  idToken: () => Promise<string>;
  signOut: () => void;
  sandbox: boolean;
}

/** The sandbox's session as ``username`` (one of its users; the first when not named or
 *  unknown). */
export function sandboxSession(config: ConsoleConfig, username?: string): Session {
  if (config.auth.mode !== "sandbox") throw new Error("not a sandbox configuration");
  const auth = config.auth;
  const user = auth.users.find((u) => u.username === username) ?? auth;
  return {
    username: user.username,
    email: user.email,
    groups: user.groups,
    idToken: async () => user.token,
    signOut: () => undefined,
    sandbox: true,
  };
}

function pool(auth: CognitoAuth): CognitoUserPool {
  return new CognitoUserPool({ UserPoolId: auth.userPoolId, ClientId: auth.userPoolClientId });
}

function fromCognito(user: CognitoUser, session: CognitoUserSession): Session {
  const payload = session.getIdToken().decodePayload();
  const groups = payload["cognito:groups"];
  return {
    username: String(payload["cognito:username"] ?? user.getUsername()),
    email: payload.email ? String(payload.email) : undefined,
    groups: Array.isArray(groups) ? groups.map(String) : [],
    idToken: () =>
      new Promise((resolve, reject) =>
        // getSession refreshes the tokens with the refresh token when they have expired.
        user.getSession((error: Error | null, current: CognitoUserSession | null) =>
          error || !current ? reject(error ?? new Error("signed out")) : resolve(current.getIdToken().getJwtToken()),
        ),
      ),
    signOut: () => user.signOut(),
    sandbox: false,
  };
}

/** The session kept in the browser from an earlier sign-in, if it is still valid. */
export function restoreSession(auth: CognitoAuth): Promise<Session | null> {
  const user = pool(auth).getCurrentUser();
  if (!user) return Promise.resolve(null);
  return new Promise((resolve) =>
    user.getSession((error: Error | null, session: CognitoUserSession | null) =>
      resolve(!error && session?.isValid() ? fromCognito(user, session) : null),
    ),
  );
}

export type SignInResult =
  | { kind: "signed-in"; session: Session }
  | { kind: "new-password-required"; complete: (newPassword: string) => Promise<Session> };

/** Sign in with Cognito's SRP flow (the password never leaves the browser). */
export function signIn(auth: CognitoAuth, username: string, password: string): Promise<SignInResult> {
  const user = new CognitoUser({ Username: username, Pool: pool(auth) });
  return new Promise((resolve, reject) => {
    user.authenticateUser(new AuthenticationDetails({ Username: username, Password: password }), {
      onSuccess: (session) => resolve({ kind: "signed-in", session: fromCognito(user, session) }),
      onFailure: (error: Error) => reject(error),
      newPasswordRequired: () =>
        resolve({
          kind: "new-password-required",
          complete: (newPassword) =>
            new Promise((done, fail) =>
              user.completeNewPasswordChallenge(newPassword, {}, {
                onSuccess: (session) => done(fromCognito(user, session)),
                onFailure: (error: Error) => fail(error),
              }),
            ),
        }),
    });
  });
}
