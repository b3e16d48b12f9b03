// Brings a call snapshot stored by an older call machine to this machine's shape, so that a call
// persisted before an upgrade resumes after it. Pure: plain data in, plain data out.
//
// Before issue #15, `executing-twiml` had one child state per verb kind (`{"executing-twiml":
// "Pause"}`), each invoking an actor named after its verb (child `0.call.executing-twiml.Pause`, src
// `Pause`). Now every verb runs in the one `verb` state, invoking `runVerb`, with the verb's name in
// `context.verb`. A snapshot already in the new shape is returned as it is.

/** The children of `executing-twiml` that are not verbs, in either shape. */
const NOT_A_VERB = new Set(["dispatching", "answering", "verb"]);
const VERB_STATE = "call.executing-twiml.verb";

interface PersistedChild {
  src?: unknown;
  [key: string]: unknown;
}

interface PersistedCall {
  value?: unknown;
  context?: Record<string, unknown>;
  children?: Record<string, PersistedChild>;
  [key: string]: unknown;
}

/** The snapshot in this machine's shape: a copy when it had to change, else the same object. */
export function migrateCallSnapshot<T>(stored: T): T {
  const s = stored as PersistedCall;
  if (s === null || typeof s !== "object" || s.context === undefined) return stored;
  const oldVerb = perVerbState(s.value);
  if (oldVerb === null) {
    // Stored outside a verb by the old machine: only the context lacks the new field.
    return ("verb" in s.context ? stored : { ...s, context: { ...s.context, verb: null } }) as T;
  }
  const oldId = `call.executing-twiml.${oldVerb}`;
  const children: Record<string, PersistedChild> = {};
  for (const [id, child] of Object.entries(s.children ?? {})) {
    // The invoked verb's actor: `<n>.<state id>`, named after its verb kind.
    if (id.endsWith(`.${oldId}`) && child.src === oldVerb) {
      children[`${id.slice(0, -oldId.length)}${VERB_STATE}`] = { ...child, src: "runVerb" };
    } else children[id] = child;
  }
  return {
    ...s,
    value: { "executing-twiml": "verb" },
    context: { ...s.context, verb: oldVerb },
    children,
  } as T;
}

/** The verb named by an old per-verb state value (`{"executing-twiml": "Say"}`), else null. */
function perVerbState(value: unknown): string | null {
  if (value === null || typeof value !== "object") return null;
  const child = (value as Record<string, unknown>)["executing-twiml"];
  return typeof child === "string" && !NOT_A_VERB.has(child) ? child : null;
}
