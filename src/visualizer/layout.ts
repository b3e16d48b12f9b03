// Lays the statechart out with elkjs (layered, compound states drawn around their children) and
// returns absolute coordinates, so the browser only draws rectangles, paths and text.
import { createRequire } from "node:module";
import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import { type Statechart, transitionLabel } from "./statechart.js";

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutState extends Box {
  id: string;
}

export interface LaidOutTransition {
  id: string;
  label: string;
  /** The path as points: start, bends, end. */
  points: { x: number; y: number }[];
  labelBox: Box | null;
}

export interface StatechartLayout {
  chart: Statechart;
  width: number;
  height: number;
  states: LaidOutState[];
  transitions: LaidOutTransition[];
}

// elkjs is CommonJS whose typings declare an ES default export; load it as what it is.
const Elk = createRequire(import.meta.url)("elkjs/lib/elk.bundled.js") as new () => ELK;

// The page draws labels at 11 px in a monospace font: about 6.7 px a character.
const CHAR_WIDTH = 6.7;
const LINE_HEIGHT = 14;
const HEADER = 26;

export async function layoutStatechart(
  chart: Statechart,
  overrides: Record<string, string> = {},
): Promise<StatechartLayout> {
  const nodes = new Map<string, ElkNode>();
  const top: ElkNode[] = [];
  for (const s of chart.states) {
    const hasChildren = chart.states.some((c) => c.parent === s.id);
    const title = s.invokes.length ? Math.max(s.key.length, s.invokes[0]?.length ?? 0) : s.key.length;
    const node: ElkNode = {
      id: s.id,
      labels: [{ text: s.key }],
      ...(!hasChildren && {
        width: Math.max(70, title * CHAR_WIDTH + 24),
        height: s.invokes.length ? 44 : 30,
      }),
      layoutOptions: hasChildren ? { "elk.padding": `[top=${HEADER + 8},left=12,bottom=12,right=12]` } : {},
      children: [],
    };
    nodes.set(s.id, node);
    const parent = s.parent === null ? undefined : nodes.get(s.parent);
    (parent?.children ?? top).push(node);
  }
  const edges: ElkExtendedEdge[] = chart.transitions.map((t) => {
    const lines = wrapLabel(transitionLabel(t));
    const width = Math.max(...lines.map((l) => l.length)) * CHAR_WIDTH + 4;
    return {
      id: t.id,
      sources: [t.source],
      targets: [t.target],
      labels: [{ text: lines.join("\n"), width, height: lines.length * LINE_HEIGHT }],
    };
  });
  const graph: ElkNode = {
    id: "root",
    layoutOptions: {
      "elk.algorithm": "layered",
      // Left to right in the order the states are declared: the call's main path reads as a line,
      // and the loops back (Redirect, fallback) are the edges drawn backwards.
      "elk.direction": "RIGHT",
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.edgeLabels.centerLabelPlacementStrategy": "TAIL_LAYER",
      "elk.hierarchyHandling": "INCLUDE_CHILDREN",
      "elk.edgeRouting": "ORTHOGONAL",
      "elk.layered.spacing.nodeNodeBetweenLayers": "36",
      "elk.spacing.nodeNode": "28",
      "elk.spacing.edgeLabel": "4",
      "elk.layered.nodePlacement.strategy": "NETWORK_SIMPLEX",
      "elk.edgeLabels.inline": "false",
      "elk.json.edgeCoords": "ROOT",
      "elk.json.shapeCoords": "ROOT",
      ...overrides,
    },
    children: top,
    edges,
  };
  const laid = await new Elk().layout(graph);

  const states: LaidOutState[] = [];
  const collect = (n: ElkNode) => {
    states.push({ id: n.id, x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
    for (const c of n.children ?? []) collect(c);
  };
  for (const c of laid.children ?? []) collect(c);
  const transitions: LaidOutTransition[] = [];
  const visitEdges = (n: ElkNode) => {
    for (const e of n.edges ?? []) {
      const section = e.sections?.[0];
      const label = e.labels?.[0];
      transitions.push({
        id: e.id,
        label: label?.text ?? "",
        points: section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [],
        labelBox: label
          ? { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0 }
          : null,
      });
    }
    for (const c of n.children ?? []) visitEdges(c);
  };
  visitEdges(laid);
  return { chart, width: laid.width ?? 0, height: laid.height ?? 0, states, transitions };
}

// Long labels (several guards) are broken after a separator so they do not widen the whole layer.
const MAX_LINE = 24;

function wrapLabel(text: string): string[] {
  const parts = text.split(/(?<=, | \| )/);
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (last >= 0 && (lines[last] ?? "").length + part.length <= MAX_LINE) lines[last] += part;
    else lines.push(part);
  }
  return lines.map((l) => l.trimEnd());
}
