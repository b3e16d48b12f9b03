// The VerbContext's fetchTwiml: a document a verb requests for its own use (a waitUrl, a Queue
// noun's url), signed and sent as the call's webhooks are (cookies, X-Home-Region, the call's
// parameters), inspected like them; its warnings are the call's notifications.
import type { CallFacts } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import type { HttpMethod } from "../../model/http.js";
import { documentFromResponse } from "../../twiml/from-response.js";
import type { FetchedTwiml } from "../../twiml/verb-context.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import { requestWebhook } from "../../webhook/request.js";
import type { LiveCall } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";
import { observeResponse } from "./fetch-twiml.js";

export function verbFetchTwiml(rt: RegionRuntime, call: LiveCall, facts: CallFacts) {
  let requests = 0;
  return async (
    url: string,
    method: HttpMethod,
    extra: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<FetchedTwiml> => {
    const account = facts.accountSid ? rt.directory.accounts.get(facts.accountSid) : undefined;
    if (!account) throw fail("notFound", `unknown account ${facts.accountSid}`);
    const params = callParams(facts, "in-progress", extra);
    rt.inspector.publish(facts.callSid, { type: "webhook.request", url, method, params }, call.clock.now());
    const res = await call.clock.holding(() =>
      requestWebhook({
        url,
        method,
        params,
        authToken: account.auth_token,
        ...(account.webhook_signing_key && { signingKey: account.webhook_signing_key }),
        headers: { "X-Home-Region": rt.region },
        idempotencyToken: idempotencyToken(facts.callSid, "verb", call.clock.now(), ++requests),
        cookies: call.cookies,
        signal,
      }),
    );
    observeResponse(rt, facts.callSid, res, call.clock.now());
    const doc = documentFromResponse(res);
    for (const w of doc.warnings) {
      rt.outbox.notifier.notify({
        accountSid: account.sid,
        callSid: facts.callSid,
        level: "warning",
        code: w.code,
        message: w.message,
        requestUrl: res.url,
        requestMethod: method,
      });
    }
    return { ...doc, documentUrl: res.url };
  };
}
