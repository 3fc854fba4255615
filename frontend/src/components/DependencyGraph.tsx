import Box from "@cloudscape-design/components/box";
import { layout } from "../lib/waves";
import type { Wave } from "../lib/types";

const NODE_W = 150;
const NODE_H = 44;
const GAP_X = 70;
const GAP_Y = 18;

const FILL: Record<string, string> = {
  COMPLETED: "#e9f7ed",
  LAUNCHED: "#e9f7ed",
  FAILED: "#fdecec",
  AWAITING_APPROVAL: "#fff7e6",
  LAUNCHING: "#e8f4fd",
  PRE_ACTIONS: "#e8f4fd",
  POST_ACTIONS: "#e8f4fd",
  SKIPPED: "#f2f3f3",
};

/** The waves as a graph: a column per dependency depth, an arrow from each dependency. */
export function DependencyGraph({
  waves,
  statuses = {},
}: {
  waves: readonly Wave[];
  statuses?: Record<string, string>;
}) {
  const named = waves.filter((w) => w.name.trim() !== "");
  const { levels, edges, cycle } = layout(named);
  const columns: string[][] = [];
  for (const wave of named) (columns[levels[wave.name]] ??= []).push(wave.name);
  const position: Record<string, { x: number; y: number }> = {};
  columns.forEach((names, col) =>
    (names ?? []).forEach((name, row) => {
      position[name] = { x: 10 + col * (NODE_W + GAP_X), y: 10 + row * (NODE_H + GAP_Y) };
    }),
  );
  const width = 20 + Math.max(1, columns.length) * (NODE_W + GAP_X) - GAP_X;
  const tallest = Math.max(1, ...Array.from(columns, (c) => c?.length ?? 0));
  const height = 20 + tallest * (NODE_H + GAP_Y) - GAP_Y;
  const description = edges.length
    ? edges.map(([from, to]) => `${to} after ${from}`).join("; ")
    : "no dependencies: every wave may start at once";
  return (
    <div data-testid="dependency-graph">
      {cycle && (
        <Box color="text-status-error" data-testid="dependency-cycle">
          Dependency cycle: {cycle.join(" → ")}
        </Box>
      )}
      <svg
        role="img"
        aria-label={`Wave dependencies: ${description}`}
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
      >
        <defs>
          <marker id="arrow" markerWidth="8" markerHeight="8" refX="8" refY="4" orient="auto">
            <path d="M0,0 L8,4 L0,8 z" fill="#5f6b7a" />
          </marker>
        </defs>
        {edges.map(([from, to]) => {
          const a = position[from];
          const b = position[to];
          if (!a || !b) return null;
          return (
            <line
              key={`${from}->${to}`}
              data-edge={`${from}->${to}`}
              x1={a.x + NODE_W}
              y1={a.y + NODE_H / 2}
              x2={b.x}
              y2={b.y + NODE_H / 2}
              stroke="#5f6b7a"
              strokeWidth="1.5"
              markerEnd="url(#arrow)"
            />
          );
        })}
        {named.map((wave) => {
          const p = position[wave.name];
          const status = statuses[wave.name];
          return (
            <g key={wave.name} data-node={wave.name} transform={`translate(${p.x},${p.y})`}>
              <rect
                width={NODE_W}
                height={NODE_H}
                rx="8"
                fill={(status && FILL[status]) || "#ffffff"}
                stroke="#0972d3"
              />
              <text x="10" y="18" fontSize="13" fontWeight="bold">
                {wave.name.length > 18 ? `${wave.name.slice(0, 17)}…` : wave.name}
              </text>
              <text x="10" y="35" fontSize="11" fill="#5f6b7a">
                {status ?? `${wave.protectionGroups.length} group(s)${wave.pauseBefore ? " · pause" : ""}`}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
