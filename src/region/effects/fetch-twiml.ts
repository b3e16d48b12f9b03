// fetching-webhook: request the document as Twilio does, and read the TwiML it returns.

import { fromPromise } from "xstate";
import type { FetchedDocument, FetchInput } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import { parseTwiml } from "../../twiml/parse.js";
import type { Verb } from "../../twiml/verb-data.js";
import { intern } from "../../util/intern.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import type { CallLookup } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { fetchCallDocument } from "./call-webhook.js";

/**
 * Twilio documents no cap on the documents a voice call may request, but a Redirect or action loop
 * at time-scale 0 would spin without end (no audio ever takes time): a call gets this many.
 */
export const MAX_DOCUMENTS = 1000;

export function fetchTwiml(rt: RegionRuntime, callOf: CallLookup) {
  return fromPromise<FetchedDocument, FetchInput>(async ({ input, signal }) => {
    const { facts } = input;
    if (input.document > MAX_DOCUMENTS) {
      throw fail(
        "tooManyDocuments",
        `the call requested more than ${MAX_DOCUMENTS} TwiML documents (a loop?)`,
      );
    }
    const call = callOf(facts.callSid);
    if (input.url === "" && call.outbound?.twiml !== undefined)
      return outboundTwiml(rt, call.outbound.twiml, facts);
    const { res, doc } = await fetchCallDocument(rt, {
      callSid: facts.callSid,
      accountSid: facts.accountSid,
      url: input.url,
      method: input.method,
      params: callParams(facts, input.callStatus, input.extraParams),
      // Stable per document of the call: a request made again by a worker that resumed the call
      // carries the token of the first attempt, so the app can tell it is the same one.
      idempotencyToken: idempotencyToken(facts.callSid, input.document),
      cookies: call.cookies,
      signal,
      clock: call.clock,
    });
    // Calls to one app share its document URLs and documents: one copy, not one per live call. The
    // verbs are shared and frozen (nothing changes parsed verbs; the machine replaces, never edits).
    return { documentUrl: intern(res.url), verbs: doc.verbs as Verb[] };
  });
}

/**
 * An outbound call's `Twiml`: run as if fetched. There is no document URL, so relative URLs cannot
 * resolve (the parser warns 11100 and skips them), as for a call update's Twiml.
 */
function outboundTwiml(rt: RegionRuntime, twiml: string, facts: FetchInput["facts"]): FetchedDocument {
  const doc = parseTwiml(twiml, "");
  for (const w of doc.warnings) {
    rt.outbox.notifier.notify({
      accountSid: facts.accountSid ?? "",
      callSid: facts.callSid,
      level: "warning",
      code: w.code,
      message: w.message,
    });
  }
  return { documentUrl: "", verbs: [...doc.verbs] };
}
