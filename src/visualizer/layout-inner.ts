// The inside of a compound state (its children and the transitions among them), laid out by elkjs,
// and the text metrics the whole chart is sized with. layout.ts places these boxes in the row.
import { createRequire } from "node:module";
import type { ELK, ElkExtendedEdge, ElkNode } from "elkjs/lib/elk-api.js";
import { type ChartState, type ChartTransition, transitionLabel } from "./statechart.js";

// elkjs is CommonJS whose typings declare an ES default export; load it as what it is.
const Elk = createRequire(import.meta.url)("elkjs/lib/elk.bundled.js") as new () => ELK;

// The page draws state names at 12 px bold and labels at 10 px, in a monospace font.
export const NAME_CHAR = 7.4;
export const LABEL_CHAR = 6.1;
export const LINE_HEIGHT = 13;
/** A compound state's title bar, above its children. */
export const HEADER = 26;
export const PAD = 12;

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Point {
  x: number;
  y: number;
}

/** A laid-out piece: boxes and edges relative to its own top left corner. */
export interface Piece {
  width: number;
  height: number;
  boxes: Map<string, Box>;
  edges: { id: string; label: string; points: Point[]; labelBox: Box | null }[];
}

/** An atomic state's box: its name, and under it what it invokes. */
export function atomicSize(s: ChartState): { width: number; height: number } {
  const text = Math.max(s.key.length * NAME_CHAR, (s.invokes[0]?.length ?? 0) * LABEL_CHAR * 1.1);
  return { width: Math.max(70, Math.round(text + 24)), height: s.invokes.length ? 44 : 30 };
}

export function labelSize(lines: string[]): { width: number; height: number } {
  return {
    width: Math.round(Math.max(...lines.map((l) => l.length)) * LABEL_CHAR + 6),
    height: lines.length * LINE_HEIGHT + 2,
  };
}

/** Breaks a label after a separator so that no line is longer than `max` (a word may be). */
export function wrapLabel(text: string, max: number): string[] {
  const parts = text.split(/(?<=, | \| | )/);
  const lines: string[] = [];
  for (const part of parts) {
    const last = lines.length - 1;
    if (last >= 0 && `${lines[last]}${part}`.trimEnd().length <= max) lines[last] += part;
    else lines.push(part);
  }
  return lines.map((l) => l.trimEnd());
}

/** Lays out `parent`'s children (atomic) and the transitions among them, top to bottom. */
export async function layoutInside(
  parent: ChartState,
  children: ChartState[],
  inner: ChartTransition[],
): Promise<Piece> {
  const nodes: ElkNode[] = children.map((s) => ({ id: s.id, ...atomicSize(s) }));
  const edges: ElkExtendedEdge[] = inner.map((t) => {
    const lines = wrapLabel(transitionLabel(t), 12);
    return {
      id: t.id,
      sources: [t.source],
      targets: [t.target],
      labels: [{ text: lines.join("\n"), ...labelSize(lines) }],
    };
  });
  const laid: ElkNode = await new Elk().layout({
    id: parent.id,
    layoutOptions: {
      "elk.algorithm": "layered",
      "elk.direction": "DOWN",
      "elk.edgeRouting": "ORTHOGONAL",
      // In the order the states are declared: the initial child first.
      "elk.layered.cycleBreaking.strategy": "MODEL_ORDER",
      "elk.layered.considerModelOrder.strategy": "NODES_AND_EDGES",
      "elk.layered.spacing.nodeNodeBetweenLayers": "22",
      "elk.spacing.nodeNode": "18",
      "elk.spacing.edgeLabel": "3",
      "elk.padding": `[top=${HEADER + 6},left=${PAD},bottom=${PAD},right=${PAD}]`,
    },
    children: nodes,
    edges,
  });
  const boxes = new Map<string, Box>();
  for (const n of laid.children ?? []) {
    boxes.set(n.id, { x: n.x ?? 0, y: n.y ?? 0, width: n.width ?? 0, height: n.height ?? 0 });
  }
  return {
    width: laid.width ?? 0,
    height: laid.height ?? 0,
    boxes,
    edges: (laid.edges ?? []).map((e) => {
      const section = e.sections?.[0];
      const label = e.labels?.[0];
      return {
        id: e.id,
        label: label?.text ?? "",
        points: section ? [section.startPoint, ...(section.bendPoints ?? []), section.endPoint] : [],
        labelBox: label
          ? { x: label.x ?? 0, y: label.y ?? 0, width: label.width ?? 0, height: label.height ?? 0 }
          : null,
      };
    }),
  };
}
