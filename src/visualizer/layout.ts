// Lays the statechart out so it reads at a glance: the machine's top-level states in one row, in the
// order they are declared (the path a call takes), each compound state's inside laid out by elkjs
// (layout-inner.ts). A transition to the next state in the row is a short arrow with its label in the
// gap; every other one runs in a lane of its own, above the row (back, and the machine's own "any
// state" transitions) or below it (forward), with its label on the lane, so no label hides another.
// Returns absolute coordinates: the browser only draws rectangles, paths and text.
import {
  atomicSize,
  type Box,
  LINE_HEIGHT,
  labelSize,
  layoutInside,
  NAME_CHAR,
  type Piece,
  type Point,
  wrapLabel,
} from "./layout-inner.js";
import { ANY_STATE, type ChartTransition, type Statechart, transitionLabel } from "./statechart.js";

export type { Box } from "./layout-inner.js";

export interface LaidOutState extends Box {
  id: string;
}

export interface LaidOutTransition {
  id: string;
  label: string;
  /** The path as points: start, bends, end. */
  points: Point[];
  labelBox: Box | null;
}

export interface StatechartLayout {
  chart: Statechart;
  width: number;
  height: number;
  states: LaidOutState[];
  transitions: LaidOutTransition[];
  /** The state whose title names the verb the call runs now (the parent of the verb state). */
  verbHolder: string | null;
}

const MARGIN = 8;
/** Between two lanes: one line of label above each lane's line. */
const LANE = LINE_HEIGHT + 6;
const MIN_GAP = 36;
/** Room in a compound's title bar for "▸ Enqueue #12". */
const VERB_NOW = 14;
/** The state that runs every verb invokes this (machines/call.setup.ts). */
const VERB_ACTOR = "runVerb";

type Lane = { t: ChartTransition; side: "top" | "bottom"; span: number; any: boolean };

export async function layoutStatechart(chart: Statechart): Promise<StatechartLayout> {
  const byId = new Map(chart.states.map((s) => [s.id, s]));
  const row = chart.states.filter((s) => s.depth === 1);
  const rowOf = (id: string): number => {
    let s = byId.get(id);
    while (s?.parent) s = byId.get(s.parent);
    return row.findIndex((r) => r.id === s?.id);
  };

  // Each state of the row as a piece: an atomic box, or a compound with its inside laid out.
  const pieces = new Map<string, Piece>();
  const inner = new Set<string>();
  for (const s of row) {
    const children = chart.states.filter((c) => c.parent === s.id);
    if (!children.length) {
      pieces.set(s.id, { ...atomicSize(s), boxes: new Map(), edges: [] });
      continue;
    }
    const ids = new Set(children.map((c) => c.id));
    const within = chart.transitions.filter((t) => ids.has(t.source) && ids.has(t.target));
    for (const t of within) inner.add(t.id);
    const piece = await layoutInside(s, children, within);
    // Its title bar holds its name and, on the verb state's parent, the verb the call runs.
    piece.width = Math.max(piece.width, (s.key.length + VERB_NOW) * NAME_CHAR + 2 * 12);
    pieces.set(s.id, piece);
  }

  // A transition to the next state of the row is drawn in the gap when it is the only one there;
  // every other one gets a lane.
  const outer = chart.transitions.filter((t) => !inner.has(t.id));
  const isNext = (t: ChartTransition) => t.source !== ANY_STATE && rowOf(t.target) === rowOf(t.source) + 1;
  const gapEdge = new Map<number, ChartTransition>();
  const lanes: Lane[] = [];
  for (const t of outer) {
    const from = rowOf(t.source);
    const to = rowOf(t.target);
    const any = t.source === ANY_STATE;
    if (isNext(t) && outer.filter((u) => isNext(u) && rowOf(u.target) === to).length === 1)
      gapEdge.set(to, t);
    else lanes.push({ t, side: any || to <= from ? "top" : "bottom", span: Math.abs(to - from), any });
  }
  // Shorter lanes nearer the row; the machine's own transitions outermost, beside the "any state" box.
  lanes.sort((a, b) => Number(a.any) - Number(b.any) || a.span - b.span);
  const gapLabel = new Map(
    [...gapEdge].map(([to, t]) => {
      const lines = wrapLabel(transitionLabel(t), 12);
      return [to, { lines, ...labelSize(lines) }];
    }),
  );

  // The row, left to right.
  const top = lanes.filter((l) => l.side === "top");
  const bottom = lanes.filter((l) => l.side === "bottom");
  const rowTop = MARGIN + (top.length + 1) * LANE + 6;
  const rowHeight = Math.max(...[...pieces.values()].map((p) => p.height));
  const boxes = new Map<string, Box>();
  let x = MARGIN;
  row.forEach((s, i) => {
    if (i > 0) x += Math.max(MIN_GAP, (gapLabel.get(i)?.width ?? 0) + 10);
    const p = pieces.get(s.id) as Piece;
    const y = rowTop + (rowHeight - p.height) / 2;
    boxes.set(s.id, { x, y, width: p.width, height: p.height });
    for (const [id, b] of p.boxes) boxes.set(id, { ...b, x: b.x + x, y: b.y + y });
    x += p.width;
  });
  const width = x + MARGIN;
  const rowBottom = rowTop + rowHeight;
  const laneY = (l: Lane) => {
    const list = l.side === "top" ? top : bottom;
    const i = list.indexOf(l);
    return l.side === "top" ? rowTop - 10 - i * LANE : rowBottom + 4 + (i + 1) * LANE;
  };

  // The "any state" box, left of the outermost lanes, which leave its right side.
  const anyLanes = top.filter((l) => l.any).map(laneY);
  if (anyLanes.length) {
    const y0 = Math.min(...anyLanes) - 12;
    boxes.set(ANY_STATE, { x: MARGIN, y: y0, width: 84, height: Math.max(...anyLanes) + 12 - y0 });
  }

  const transitions: LaidOutTransition[] = [];
  for (const [id, p] of pieces) {
    // A compound's inner transitions, moved from its own corner to where it stands in the row.
    const { x: dx, y: dy } = boxes.get(id) as Box;
    for (const e of p.edges) {
      transitions.push({
        id: e.id,
        label: e.label,
        points: e.points.map((q) => ({ x: q.x + dx, y: q.y + dy })),
        labelBox: e.labelBox && { ...e.labelBox, x: e.labelBox.x + dx, y: e.labelBox.y + dy },
      });
    }
  }
  for (const [to, t] of gapEdge) transitions.push(gapTransition(t, boxes, gapLabel.get(to)));
  transitions.push(...laneTransitions(lanes, boxes, laneY));

  const states: LaidOutState[] = chart.states.flatMap((s) => {
    const b = boxes.get(s.id);
    return b ? [{ id: s.id, ...b }] : [];
  });
  const verbState = chart.states.find((s) => s.invokes.includes(VERB_ACTOR));
  const height = (bottom.length ? laneY(bottom[bottom.length - 1] as Lane) : rowBottom) + MARGIN + 4;
  return { chart, width, height, states, transitions, verbHolder: verbState?.parent ?? null };
}

/** The arrow from a state to the next one in the row, its label above it in the gap. */
function gapTransition(
  t: ChartTransition,
  boxes: Map<string, Box>,
  label: { lines: string[]; width: number; height: number } | undefined,
): LaidOutTransition {
  const s = boxes.get(t.source) as Box;
  const d = boxes.get(t.target) as Box;
  const ys = s.y + s.height / 2;
  const yt = Math.min(Math.max(ys, d.y + 10), d.y + d.height - 10);
  const x1 = s.x + s.width;
  const x2 = d.x;
  const mid = (x1 + x2) / 2;
  const points =
    ys === yt
      ? [
          { x: x1, y: ys },
          { x: x2, y: yt },
        ]
      : [
          { x: x1, y: ys },
          { x: mid, y: ys },
          { x: mid, y: yt },
          { x: x2, y: yt },
        ];
  const labelBox = label && {
    x: mid - label.width / 2,
    y: Math.min(ys, yt) - label.height - 3,
    width: label.width,
    height: label.height,
  };
  return { id: t.id, label: label?.lines.join("\n") ?? "", points, labelBox: labelBox ?? null };
}

/**
 * Every lane's path: out of its source's top or bottom (or the "any state" box's right side), along
 * its lane, into its target. Where several ends share a side of a box, they are spread along it so
 * that a lane's line never crosses the lanes nearer the row.
 */
function laneTransitions(
  lanes: Lane[],
  boxes: Map<string, Box>,
  laneY: (l: Lane) => number,
): LaidOutTransition[] {
  type End = { lane: Lane; end: "source" | "target"; other: number; order: number };
  const ends = new Map<string, End[]>();
  const centre = (id: string) => {
    const b = boxes.get(id) as Box;
    return b.x + b.width / 2;
  };
  lanes.forEach((lane, order) => {
    const { t, side } = lane;
    const add = (id: string, end: End["end"], other: number) => {
      const key = `${id} ${side}`;
      ends.set(key, [...(ends.get(key) ?? []), { lane, end, other, order }]);
    };
    if (!lane.any) add(t.source, "source", t.source === t.target ? 0 : centre(t.target));
    add(t.target, "target", lane.any || t.source === t.target ? 0 : centre(t.source));
  });
  const slot = new Map<string, number>();
  for (const [key, list] of ends) {
    const id = key.slice(0, key.lastIndexOf(" "));
    const b = boxes.get(id) as Box;
    const mid = centre(id);
    // Ends whose lane goes left first, nearest lane leftmost; then loops; then rightwards, nearest last.
    const rank = (e: End) =>
      e.other === 0 && !e.lane.any
        ? [1, e.end === "source" ? 0 : 1]
        : e.other < mid || e.lane.any
          ? [0, e.order]
          : [2, -e.order];
    list.sort((a, c) => {
      const [ga = 0, oa = 0] = rank(a);
      const [gc = 0, oc = 0] = rank(c);
      return ga - gc || oa - oc;
    });
    for (const [i, e] of list.entries())
      slot.set(`${e.lane.t.id} ${e.end}`, b.x + (b.width * (i + 1)) / (list.length + 1));
  }
  return lanes.map((lane) => {
    const { t, side } = lane;
    const y = laneY(lane);
    const edgeOf = (b: Box) => (side === "top" ? b.y : b.y + b.height);
    const d = boxes.get(t.target) as Box;
    const tx = slot.get(`${t.id} target`) ?? d.x;
    const lines = [transitionLabel(t)];
    const size = labelSize(lines);
    let points: Point[];
    let labelX: number;
    if (lane.any) {
      const a = boxes.get(ANY_STATE) as Box;
      points = [
        { x: a.x + a.width, y },
        { x: tx, y },
        { x: tx, y: edgeOf(d) },
      ];
      labelX = a.x + a.width + 8;
    } else {
      const s = boxes.get(t.source) as Box;
      const sx = slot.get(`${t.id} source`) ?? s.x;
      points = [
        { x: sx, y: edgeOf(s) },
        { x: sx, y },
        { x: tx, y },
        { x: tx, y: edgeOf(d) },
      ];
      labelX = (sx + tx) / 2 - size.width / 2;
    }
    const labelBox = { x: labelX, y: y - size.height - 1, ...size };
    return { id: t.id, label: lines.join("\n"), points, labelBox };
  });
}
