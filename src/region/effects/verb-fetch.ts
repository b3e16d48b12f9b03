// The VerbContext's fetchTwiml: a document a verb requests for its own use (a waitUrl, a Queue
// noun's url), made as the call's own requests are (call-webhook.ts): cookies, X-Home-Region, the
// call's parameters, inspected and counted like them; its warnings are the call's notifications.
import type { CallFacts } from "../../../machines/call.machine.js";
import type { HttpMethod } from "../../model/http.js";
import type { FetchedTwiml } from "../../twiml/verb-context.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { fetchCallDocument } from "./call-webhook.js";

export function verbFetchTwiml(rt: RegionRuntime, call: LiveCall, facts: CallFacts) {
  let requests = 0;
  return async (
    url: string,
    method: HttpMethod,
    extra: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FetchedTwiml> => {
    const { res, doc } = await fetchCallDocument(rt, {
      callSid: facts.callSid,
      accountSid: facts.accountSid,
      url,
      method,
      params: callParams(facts, "in-progress", extra),
      idempotencyToken: idempotencyToken(facts.callSid, "verb", call.clock.now(), ++requests),
      cookies: call.cookies,
      signal,
      clock: call.clock,
    });
    return { ...doc, documentUrl: res.url };
  };
}
