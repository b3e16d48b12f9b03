// What the edge stores in a region's call stream: the offer, resolved and stamped.
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";
import { intern } from "../util/intern.js";
import { CallerScriptSchema, SipLegSchema } from "./offer.js";

export const CallJobSchema = z.object({
  callSid: z.string().regex(/^CA[0-9a-f]{32}$/),
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
  return { ...job, to: intern(job.to), edge: intern(job.edge), region: intern(job.region) };
}
