// Live-call changes (DESIGN.md §3): a request on `sb.region.<r>.call.<sid>.control`, as the REST
// API's `POST Calls/{Sid}.json` sends it. The reply is the call's Call resource as it is now, or an
// error reply (service-error.ts) with Twilio's code.
import { z } from "zod";
import { fail } from "../errors/switchboard-error.js";

/** Twilio caps the `Twiml` parameter at 4000 characters (32018). */
export const MAX_TWIML_PARAM = 4000;

export const CallControlSchema = z.object({
  /** Fetch this URL now and run what it returns (Twilio's `Url`). */
  url: z.url({ protocol: /^https?$/ }).optional(),
  method: z.enum(["GET", "POST"]).optional(),
  /** Run this TwiML now (Twilio's `Twiml`). */
  twiml: z.string().optional(),
  /** End the call: `completed` hangs up a live call; `canceled` ends one not yet answered. */
  status: z.enum(["completed", "canceled"]).optional(),
});
// An empty request changes nothing and reads the call as it is now: the api asks so for a call too
// young to have a stored snapshot.
export type CallControl = z.infer<typeof CallControlSchema>;

export function parseCallControl(value: unknown): CallControl {
  const result = CallControlSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw fail(
      "invalidPayload",
      `invalid call update: ${issue?.path.join(".") || "payload"}: ${issue?.message}`,
    );
  }
  if (result.data.twiml !== undefined && result.data.twiml.length > MAX_TWIML_PARAM) {
    throw fail(
      "twimlParamTooLong",
      `Twiml is ${result.data.twiml.length} characters; the limit is ${MAX_TWIML_PARAM}`,
    );
  }
  return result.data;
}
