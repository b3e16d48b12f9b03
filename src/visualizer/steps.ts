// From a reported state value and the event that caused it, which states are active, which
// transient states the step passed through (e.g. `dispatching`, left by an `always` transition in
// the same macrostep) and which of the chart's transitions were taken. The worker reports one
// event per change of state value, so one step can span several transitions.
import { ANY_STATE, type ChartState, type ChartTransition, type Statechart } from "./statechart.js";

export interface StepPath {
  /** Active state ids, outermost first. */
  active: string[];
  /** States entered and left again within the step. */
  passed: string[];
  /** Chart transition ids taken, in order. */
  taken: string[];
}

const MAX_TRANSIENT = 6;

export class StepResolver {
  readonly #byPath = new Map<string, ChartState>();
  readonly #byId = new Map<string, ChartState>();
  readonly #from = new Map<string, ChartTransition[]>();

  constructor(private readonly chart: Statechart) {
    for (const s of chart.states) this.#byId.set(s.id, s);
    for (const s of chart.states) if (s.id !== ANY_STATE) this.#byPath.set(this.#path(s), s);
    for (const t of chart.transitions) this.#from.set(t.source, [...(this.#from.get(t.source) ?? []), t]);
  }

  /** Active state ids for a state value such as `{"executing-twiml": "verb"}`. */
  activeIds(value: unknown, prefix = ""): string[] {
    if (typeof value === "string") {
      const s = this.#byPath.get(prefix ? `${prefix}.${value}` : value);
      return s ? [s.id] : [];
    }
    if (value === null || typeof value !== "object") return [];
    return Object.entries(value as Record<string, unknown>).flatMap(([key, child]) => {
      const path = prefix ? `${prefix}.${key}` : key;
      const s = this.#byPath.get(path);
      return s ? [s.id, ...this.activeIds(child, path)] : [];
    });
  }

  /** How the machine got from `previous` (active ids) to `value` on `eventType`. */
  resolve(previous: string[] | null, value: unknown, eventType: string): StepPath {
    const active = this.activeIds(value);
    if (!previous) return { active, passed: [], taken: [] };
    const before = new Set(previous);
    const after = new Set(active);
    // XState tries the innermost active state's transitions first, the machine's own ones last.
    const candidates = this.chart.transitions
      .filter((t) => t.triggers.some((x) => x.eventType === eventType))
      .filter((t) => before.has(t.source) || t.source === ANY_STATE)
      .sort((a, b) => this.#depth(b.source) - this.#depth(a.source));
    for (const t of candidates) {
      const rest = this.#settle(t.target, after, 0);
      if (rest) return { active, passed: rest.passed, taken: [t.id, ...rest.taken] };
    }
    return { active, passed: [], taken: [] };
  }

  /** Enters `target` (and its initial children), then follows eventless transitions to `after`. */
  #settle(target: string, after: Set<string>, depth: number): Omit<StepPath, "active"> | null {
    let leaf = target;
    for (let s = this.#byId.get(leaf); s?.initial; s = this.#byId.get(s.initial)) leaf = s.initial;
    if (after.has(leaf)) return { passed: [], taken: [] };
    if (depth >= MAX_TRANSIENT) return null;
    for (const t of this.#from.get(leaf) ?? []) {
      if (!t.triggers.some((x) => x.eventType === "")) continue;
      const rest = this.#settle(t.target, after, depth + 1);
      if (rest) return { passed: [leaf, ...rest.passed], taken: [t.id, ...rest.taken] };
    }
    return null;
  }

  #path(s: ChartState): string {
    const parent = s.parent ? this.#byId.get(s.parent) : undefined;
    return parent ? `${this.#path(parent)}.${s.key}` : s.key;
  }

  #depth(id: string): number {
    return this.#byId.get(id)?.depth ?? 0;
  }
}

/** The state every verb runs in: its step is named after the verb it runs. */
export const VERB_STATE = "verb";

/**
 * "executing-twiml.verb(Say)" for `{"executing-twiml": "verb"}` while a Say runs (`verb`, from the
 * state's inspection event), "storing.writing" for `{storing: "writing"}`.
 */
export function stateLabel(value: unknown, verb?: string | null): string {
  if (typeof value === "string") return value === VERB_STATE && verb ? `${value}(${verb})` : value;
  if (value === null || typeof value !== "object") return String(value);
  return Object.entries(value as Record<string, unknown>)
    .map(([key, child]) => `${key}.${stateLabel(child, verb)}`)
    .join(", ");
}
