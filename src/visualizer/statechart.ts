// The call machine's statechart as plain data, read from the machine definition itself (its state
// nodes and transitions), so the drawing can never drift from the code. Parallel transitions
// between the same two states are merged into one edge that lists every event it stands for.
import type { AnyStateMachine, AnyStateNode } from "xstate";

export interface ChartState {
  /** The state node id, e.g. "call.executing-twiml.verb". */
  id: string;
  key: string;
  parent: string | null;
  /** 0 for the pseudo node of the machine's own transitions, 1 for top-level states. */
  depth: number;
  type: "atomic" | "compound" | "parallel" | "final" | "history" | "any";
  /** The child entered by default, for compound states. */
  initial: string | null;
  /** The logic each state invokes, by name (e.g. "fetchTwiml"). */
  invokes: string[];
}

export interface ChartTrigger {
  /** The event type as the machine knows it ("" for an eventless `always` transition). */
  eventType: string;
  /** A short readable name: "fetchTwiml done", "endCall error", "always", "after 1000 ms", or the event type. */
  label: string;
  guard: string | null;
}

export interface ChartTransition {
  id: string;
  source: string;
  target: string;
  triggers: ChartTrigger[];
}

export interface Statechart {
  machineId: string;
  states: ChartState[];
  transitions: ChartTransition[];
}

/** The id of the pseudo node that stands for "any state": the machine's root-level transitions. */
export const ANY_STATE = "*";

export function statechartOf(machine: AnyStateMachine): Statechart {
  const root = machine.root as AnyStateNode;
  const states: ChartState[] = [];
  const byPair = new Map<string, ChartTransition>();
  const add = (source: string, target: string, trigger: ChartTrigger) => {
    const key = `${source} -> ${target}`;
    let t = byPair.get(key);
    if (!t) {
      t = { id: `t${byPair.size}`, source, target, triggers: [] };
      byPair.set(key, t);
    }
    if (!t.triggers.some((x) => x.eventType === trigger.eventType && x.guard === trigger.guard)) {
      t.triggers.push(trigger);
    }
  };

  const visit = (node: AnyStateNode, depth: number) => {
    const isRoot = node === root;
    const id = isRoot ? ANY_STATE : node.id;
    states.push({
      id,
      key: isRoot ? "any state" : node.key,
      parent: isRoot || node.parent === root ? null : (node.parent?.id ?? null),
      depth,
      type: isRoot ? "any" : node.type,
      initial: isRoot ? null : (node.initial?.target?.[0]?.id ?? null),
      invokes: node.invoke.map((i) => (typeof i.src === "string" ? i.src : "inline")),
    });
    const transitions = [...node.transitions.values()].flat().concat(node.always ?? []);
    // What each invocation runs, by its id: a done or error edge is named after it.
    const invoked = new Map(node.invoke.map((i) => [i.id, typeof i.src === "string" ? i.src : "inline"]));
    for (const t of transitions) {
      // Targetless transitions (an event the state ignores) change nothing: nothing to draw.
      for (const target of t.target ?? []) {
        add(id, target.id, {
          eventType: String(t.eventType ?? ""),
          label: triggerLabel(String(t.eventType ?? ""), invoked),
          guard: guardName(t.guard),
        });
      }
    }
    for (const child of Object.values(node.states)) visit(child as AnyStateNode, depth + 1);
  };
  visit(root, 0);
  return { machineId: root.id, states, transitions: [...byPair.values()] };
}

/**
 * "always", "after 1000 ms", the event type, or, for an invoked effect that ended, its name and how
 * ("fetchTwiml done", "endCall error"): every state invokes its own effect, so no two edges of the
 * chart share a label.
 */
function triggerLabel(eventType: string, invoked: ReadonlyMap<string, string>): string {
  if (eventType === "") return "always";
  for (const [prefix, how] of [
    ["xstate.done.actor.", "done"],
    ["xstate.error.actor.", "error"],
  ] as const) {
    if (!eventType.startsWith(prefix)) continue;
    const src = invoked.get(eventType.slice(prefix.length));
    return src ? `${src} ${how}` : how;
  }
  const after = /^xstate\.after\.(\d+)\./.exec(eventType);
  if (after) return `after ${after[1]} ms`;
  return eventType;
}

function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === "string") return guard;
  if (typeof guard === "object" && typeof (guard as { type?: unknown }).type === "string") {
    return (guard as { type: string }).type;
  }
  // An inline guard has no name worth showing; say that there is one.
  return "guard";
}

/** A short label, e.g. "runVerb done [isHangupOutcome | isRejectOutcome]". */
export function transitionLabel(t: ChartTransition): string {
  const groups = new Map<string, string[]>();
  for (const x of t.triggers) {
    const guards = groups.get(x.label) ?? [];
    if (x.guard) guards.push(x.guard);
    groups.set(x.label, guards);
  }
  // "fetchTwiml done, fetchTwiml error" reads as "fetchTwiml done, error".
  let actor = "";
  return [...groups]
    .map(([label, guards]) => {
      const [first = "", how] = label.split(" ");
      const short = how !== undefined && first === actor ? how : label;
      actor = how !== undefined ? first : "";
      return guards.length ? `${short} [${guards.join(" | ")}]` : short;
    })
    .join(", ");
}
