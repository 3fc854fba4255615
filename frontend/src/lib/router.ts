import { useEffect, useState } from "react";

// Hash routes (#/executions/ex-1): the console is static files on S3 behind CloudFront,
// and a hash route needs no rewrite rule there to survive a reload.

export function currentPath(): string {
  const hash = window.location.hash.replace(/^#/, "");
  return hash.startsWith("/") ? hash : "/";
}

export function navigate(path: string): void {
  window.location.hash = path;
}

export function useRoute(): string {
  const [path, setPath] = useState(currentPath());
  useEffect(() => {
    const onChange = () => setPath(currentPath());
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return path;
}

/** ``match("/executions/:id", "/executions/ex-1")`` -> ``{ id: "ex-1" }``, or null. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const names: string[] = [];
  const regex = new RegExp(
    "^" +
      pattern.replace(/:(\w+)/g, (_all, name: string) => {
        names.push(name);
        return "([^/]+)";
      }) +
      "/?$",
  );
  const found = regex.exec(path.split("?")[0]);
  if (!found) return null;
  return Object.fromEntries(names.map((name, i) => [name, decodeURIComponent(found[i + 1])]));
}
