// Verb name -> definition, built from one list: no switch to grow. The type check below fails to
// compile when verb-data.ts gains a verb that has no definition here.
import { fail } from "../errors/switchboard-error.js";
import type { VerbContext } from "./verb-context.js";
import type { Verb, VerbName, VerbOutcome } from "./verb-data.js";
import type { VerbDefinition } from "./verb-definition.js";
import { connect } from "./verbs/connect.js";
import { dial } from "./verbs/dial.js";
import { enqueue } from "./verbs/enqueue.js";
import { gather } from "./verbs/gather.js";
import { hangup } from "./verbs/hangup.js";
import { leave } from "./verbs/leave.js";
import { pause } from "./verbs/pause.js";
import { play } from "./verbs/play.js";
import { record } from "./verbs/record.js";
import { redirect } from "./verbs/redirect.js";
import { refer } from "./verbs/refer.js";
import { reject } from "./verbs/reject.js";
import { say } from "./verbs/say.js";
import { sms } from "./verbs/sms.js";
import { start } from "./verbs/start.js";
import { stop } from "./verbs/stop.js";

const definitions = [
  say,
  play,
  pause,
  hangup,
  reject,
  redirect,
  gather,
  record,
  connect,
  start,
  stop,
  refer,
  sms,
  dial,
  enqueue,
  leave,
] as const;

type Missing = Exclude<VerbName, (typeof definitions)[number]["name"]>;
const everyVerbDefined: [Missing] extends [never] ? true : Missing = true;
void everyVerbDefined;

/**
 * Every verb switchboard runs, by its case-sensitive TwiML name. Each entry's parse and execute take
 * that verb only; the map's looser type is safe because the key is the verb's own name.
 */
export const verbs: ReadonlyMap<string, VerbDefinition<Verb>> = new Map(
  definitions.map((definition): [string, VerbDefinition<Verb>] => [definition.name, definition]),
);

/** The definition for a TwiML element name, or undefined when switchboard has no such verb. */
export function verbDefinition(name: string): VerbDefinition<Verb> | undefined {
  return verbs.get(name);
}

/**
 * Runs a parsed verb with its own definition. Never throws: every failure is a rejection. Not an
 * async function: a parked call waits in it for as long as its verb runs, and each async frame it
 * waits in keeps a promise of its own (issue #9).
 */
export function executeVerb(ctx: VerbContext, verb: Verb, signal: AbortSignal): Promise<VerbOutcome> {
  try {
    const definition = verbs.get(verb.name);
    if (definition === undefined) throw fail("internalFailure", `No definition for verb <${verb.name}>`);
    return definition.execute(ctx, verb, signal);
  } catch (err) {
    return Promise.reject(err);
  }
}
