import { createContext, useContext } from "react";
import type { Api } from "./api";
import type { Session } from "./auth";
import type { ConsoleConfig } from "./config";

export interface AppContextValue {
  config: ConsoleConfig;
  session: Session;
  api: Api;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error("useApp outside the signed-in console");
  return value;
}
