// What the edge stores in a region's call stream: the offer, resolved and stamped.
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import { intern } from "../util/intern.js";
import { type CallerScript, CallerScriptSchema, CallSidSchema, SipLegSchema } from "./offer.js";
import { OutboundSchema } from "./outbound.js";

// The edge checks every job it builds against this schema before storing it, and the worker parses
// what it takes with it: one schema, so an acknowledged call is always one a worker can run.
export const CallJobSchema = z.object({
  callSid: CallSidSchema,
  to: z.string(),
  from: z.string(),
  accountSid: z.string().optional(),
  edge: z.string(),
  region: z.string(),
  /** When the edge accepted the offer (ms since epoch). */
  offeredAt: z.number(),
  sipHeaders: z.record(z.string(), z.string()).optional(),
  geo: z.record(z.string(), z.string()).optional(),
  caller: CallerScriptSchema.optional(),
  sip: SipLegSchema.optional(),
  /**
   * A call placed over REST (Direction outbound-api): ring `to`, then run this. Only the api sends
   * these, on the region's `outbound` subject; the worker refuses one that came on `calls`.
   */
  outbound: OutboundSchema.optional(),
});
export type CallJob = z.infer<typeof CallJobSchema>;

export function parseCallJob(value: unknown): CallJob {
  const result = CallJobSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw fail("invalidPayload", `invalid call job: ${issue?.path.join(".")}: ${issue?.message}`);
  }
  const job = result.data;
  // Held by each live call for as long as it lasts: share the fields that calls repeat.
  const shared = {
    ...job,
    callSid: detached(job.callSid),
    from: detached(job.from),
    to: intern(job.to),
    edge: intern(job.edge),
    region: intern(job.region),
  };
  if (job.accountSid !== undefined) shared.accountSid = detached(job.accountSid);
  if (job.caller) shared.caller = sharedScript(job.caller);
  return shared;
}

/**
 * A copy of `s` that holds only itself. msgpack decoding gives a message's strings as slices of one
 * string of the whole message, and V8 copies only slices shorter than 13 characters: a kept CallSid
 * kept the whole decoded job, about 150 bytes more per live call (issue #9).
 */
function detached(s: string): string {
  return s.length < 13 ? s : Buffer.from(s, "utf8").toString("utf8");
}

// The calls of one load or test run repeat one caller script: one copy each, as intern() does for
// strings (a script is never changed once parsed). Bounded, so scripts that do not repeat cannot grow it.
const MAX_SCRIPTS = 1_000;
const MAX_SCRIPT_CHARS = 1_024;
const scripts = new Map<string, CallerScript>();

function sharedScript(script: CallerScript): CallerScript {
  const key = JSON.stringify(script);
  if (key.length > MAX_SCRIPT_CHARS) return script;
  const known = scripts.get(key);
  if (known) return known;
  if (scripts.size < MAX_SCRIPTS) scripts.set(key, script);
  return script;
}
