import type { Wave } from "./types";

export interface Layout {
  /** Column of each wave: 0 for waves without dependencies, else 1 + deepest dependency. */
  levels: Record<string, number>;
  /** Dependency edges as [from, to]: ``to`` waits for ``from``. */
  edges: [string, string][];
  /** A dependency cycle as a path of wave names (first = last), if there is one. */
  cycle?: string[];
  /** Dependencies on waves that do not exist, as [wave, missing]. */
  unknown: [string, string][];
}

/** Levels and edges of the waves' dependency graph; cycles and unknown names reported. */
export function layout(waves: readonly Wave[]): Layout {
  const byName = new Map(waves.map((w) => [w.name, w]));
  const levels: Record<string, number> = {};
  const edges: [string, string][] = [];
  const unknown: [string, string][] = [];
  let cycle: string[] | undefined;
  for (const wave of waves) {
    for (const dep of wave.dependsOn ?? []) {
      if (byName.has(dep)) edges.push([dep, wave.name]);
      else unknown.push([wave.name, dep]);
    }
  }
  const visiting: string[] = [];
  const level = (name: string): number => {
    if (name in levels) return levels[name];
    const seen = visiting.indexOf(name);
    if (seen >= 0) {
      cycle ??= [...visiting.slice(seen), name];
      return 0;
    }
    visiting.push(name);
    const deps = (byName.get(name)?.dependsOn ?? []).filter((d) => byName.has(d));
    const value = deps.length ? 1 + Math.max(...deps.map(level)) : 0;
    visiting.pop();
    levels[name] = value;
    return value;
  };
  waves.forEach((w) => level(w.name));
  return { levels, edges, cycle, unknown };
}

/** Rename a wave and every dependency on it, so editing a name never breaks the plan. */
export function renameWave(waves: readonly Wave[], index: number, name: string): Wave[] {
  const old = waves[index].name;
  return waves.map((wave, i) => ({
    ...wave,
    name: i === index ? name : wave.name,
    dependsOn: (wave.dependsOn ?? []).map((d) => (d === old && old !== "" ? name : d)),
  }));
}

/** Remove a wave and every dependency on it. */
export function removeWave(waves: readonly Wave[], index: number): Wave[] {
  const gone = waves[index].name;
  return waves
    .filter((_w, i) => i !== index)
    .map((wave) => ({ ...wave, dependsOn: (wave.dependsOn ?? []).filter((d) => d !== gone) }));
}

/** Drop empty optional members so the API gets what its schema expects. */
export function cleanWaves(waves: readonly Wave[]): Wave[] {
  return waves.map((wave) => {
    const clean: Wave = { name: wave.name.trim(), protectionGroups: wave.protectionGroups };
    if (wave.dependsOn?.length) clean.dependsOn = wave.dependsOn;
    if (wave.pauseBefore) clean.pauseBefore = true;
    if (wave.preActions?.length) clean.preActions = wave.preActions;
    if (wave.postActions?.length) clean.postActions = wave.postActions;
    // Absent: a failback runs the post actions; a list (even empty): only those.
    if (wave.failbackActions !== undefined) clean.failbackActions = wave.failbackActions;
    return clean;
  });
}
