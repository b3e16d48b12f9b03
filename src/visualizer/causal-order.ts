// The worker publishes a state change only after XState has started the new state's effects, and an
// effect's first command goes out synchronously as it starts: on the stream, the webhook request
// comes just before `fetching-webhook`, and `say` just before `executing-twiml.verb` running a Say.
// This puts each state change back in front of the one command its entry caused, so entries land in
// their step.
import type { HistoryRecord } from "./history.js";
import { VERB_STATE } from "./steps.js";

/** The command a state's effect sends first, where it is not the verb's name in lower case. */
const FIRST_COMMAND: Record<string, string> = { routed: "ringing", answering: "answer" };

export function causalOrder(records: readonly HistoryRecord[]): HistoryRecord[] {
  const out: HistoryRecord[] = [];
  let lastState = -1;
  for (const r of records) {
    if (r.source !== "inspect" || r.event.type !== "state") {
      out.push(r);
      continue;
    }
    const previous = out.at(-1);
    // A verb's step is named by its verb: the one `verb` state runs every kind.
    const leaf = leafKey(r.event.value);
    const name = leaf === VERB_STATE ? (r.event.verb?.name ?? leaf) : leaf;
    if (previous && out.length - 1 > lastState && startedBy(name, previous)) {
      // Both left in the same synchronous step: the state was entered when its effect started.
      out.splice(out.length - 1, 0, { ...r, at: Math.min(r.at, previous.at) });
      lastState = out.length - 2;
    } else {
      out.push(r);
      lastState = out.length - 1;
    }
  }
  return out;
}

function startedBy(leaf: string, r: HistoryRecord): boolean {
  if (r.source === "inspect") return r.event.type === "webhook.request" && leaf === "fetching-webhook";
  return r.event.kind === (FIRST_COMMAND[leaf] ?? leaf.toLowerCase());
}

function leafKey(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value !== "object") return "";
  const [first] = Object.values(value as Record<string, unknown>);
  return first === undefined ? "" : leafKey(first);
}
