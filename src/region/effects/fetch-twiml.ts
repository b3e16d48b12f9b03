// fetching-webhook: request the document as Twilio does, and read the TwiML it returns.

import { fromPromise } from "xstate";
import type { FetchedDocument, FetchInput } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import { sharedDocument } from "../../twiml/shared-documents.js";
import type { Verb } from "../../twiml/verb-data.js";
import { intern } from "../../util/intern.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { callParams } from "../../webhook/params.js";
import { requestWebhook } from "../../webhook/request.js";
import type { CallLookup } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

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
    const account = facts.accountSid ? rt.directory.accounts.get(facts.accountSid) : undefined;
    if (!account) throw fail("notFound", `unknown account ${facts.accountSid}`);
    const params = callParams(facts, input.callStatus, input.extraParams);
    rt.inspector.publish(
      facts.callSid,
      { type: "webhook.request", url: input.url, method: input.method, params },
      call.clock.now(),
    );
    const started = performance.now();
    const res = await call.clock
      .holding(() =>
        requestWebhook({
          url: input.url,
          method: input.method,
          params,
          authToken: account.auth_token,
          ...(account.webhook_signing_key && { signingKey: account.webhook_signing_key }),
          headers: { "X-Home-Region": rt.region },
          // Stable per document of the call: a request made again by a worker that resumed the
          // call carries the token of the first attempt, so the app can tell it is the same one.
          idempotencyToken: idempotencyToken(facts.callSid, input.document),
          cookies: call.cookies,
          signal,
        }),
      )
      .catch((err: unknown) => {
        const e = err as { code?: number; message?: string; httpStatus?: number };
        rt.inspector.publish(
          facts.callSid,
          {
            type: "webhook.error",
            url: input.url,
            code: e.code ?? 12400,
            message: e.message ?? String(err),
            ...(e.httpStatus !== undefined && { httpStatus: e.httpStatus }),
            durationMs: Math.round((performance.now() - started) * 100) / 100,
          },
          call.clock.now(),
        );
        throw err;
      });
    observeResponse(rt, facts.callSid, res, call.clock.now());
    const doc = (() => {
      try {
        return sharedDocument(res);
      } catch (err) {
        const e = err as { code?: number; message?: string };
        const event = {
          type: "webhook.error" as const,
          url: res.url,
          code: e.code ?? 12400,
          message: e.message ?? "",
          durationMs: 0,
        };
        rt.inspector.publish(facts.callSid, event, call.clock.now());
        throw err;
      }
    })();
    for (const w of doc.warnings) {
      rt.outbox.notifier.notify({
        accountSid: account.sid,
        callSid: facts.callSid,
        level: "warning",
        code: w.code,
        // Twilio's 12200 page: "check the line and column reported by the warning".
        message: w.line === undefined ? w.message : `${w.message} (line ${w.line}, column ${w.column})`,
        requestUrl: res.url,
        requestMethod: input.method,
        responseBody: res.body.slice(0, 4096),
      });
    }
    // Calls to one app share its document URLs and documents: one copy, not one per live call. The
    // verbs are shared and frozen (nothing changes parsed verbs; the machine replaces, never edits).
    return { documentUrl: intern(res.url), verbs: doc.verbs as Verb[] };
  });
}

/** A webhook's answer, counted for /metrics and published for inspection (its body cut at 4 KiB). */
export function observeResponse(
  rt: Pick<RegionRuntime, "stats" | "inspector">,
  callSid: string,
  res: Awaited<ReturnType<typeof requestWebhook>>,
  clockAt: number,
): void {
  rt.stats.observeWebhook(res.durationMs);
  rt.inspector.publish(
    callSid,
    {
      type: "webhook.response",
      url: res.url,
      status: res.status,
      contentType: res.contentType,
      durationMs: Math.round(res.durationMs * 100) / 100,
      body: res.body.length <= 4096 ? res.body : `${res.body.slice(0, 4096)}…`,
    },
    clockAt,
  );
}
