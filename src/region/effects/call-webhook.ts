// One webhook request about a call, made the same way for every kind (the call's documents, a verb's
// documents, whispers, status callbacks): signed with the account's credentials, sent through the
// worker's WebhookClient, timed for /metrics, shown in the call's inspection events, and a document's
// warnings (with their line and column) stored as the call's notifications.
import type { CallClock } from "../../clock/call-clock.js";
import { fail } from "../../errors/switchboard-error.js";
import type { HttpMethod } from "../../model/http.js";
import type { AccountRecord } from "../../model/records.js";
import type { WatchedKv } from "../../store/watched-kv.js";
import { sharedDocument } from "../../twiml/shared-documents.js";
import type { TwimlDocument } from "../../twiml/verb-data.js";
import type { WebhookClient } from "../../webhook/client.js";
import type { CookieJar } from "../../webhook/cookies.js";
import { failedResponseOf } from "../../webhook/failures.js";
import type { WebhookResponse } from "../../webhook/request.js";
import type { WorkerStatsPublisher } from "../host/worker-stats.js";
import type { Inspector } from "../inspect/inspector.js";
import type { Notifier } from "../outbox/notifier.js";

/**
 * What sending a call's webhook needs from the region: a RegionRuntime has all of it (spelled out
 * here, not picked from it, since the runtime's status callbacks use this file).
 */
export interface CallWebhookDeps {
  readonly region: string;
  readonly webhooks: WebhookClient;
  readonly stats: Pick<WorkerStatsPublisher, "observeWebhook">;
  readonly directory: { readonly accounts: WatchedKv<AccountRecord> };
  readonly outbox: { readonly notifier: Notifier };
  /** Absent where requests are not inspected (the outbox's callbacks). */
  readonly inspector?: Inspector;
}

export interface CallWebhook {
  callSid: string;
  accountSid: string | null | undefined;
  url: string;
  method: HttpMethod;
  params: Record<string, string>;
  /** I-Twilio-Idempotency-Token: stable for what the request is, so a resumed call sends the same. */
  idempotencyToken: string;
  /** The call's cookies; none for a request outside the call's session (a whisper, a callback). */
  cookies?: CookieJar;
  signal?: AbortSignal;
  /**
   * The call's clock, held while the request is out and stamped on its inspection events. A request
   * without one (a status callback, sent from the outbox after the fact) is counted for /metrics but
   * not inspected: the Call Events resource pairs each request with the response that follows it, and
   * a callback sent alongside the call's own requests would break those pairs.
   */
  clock?: CallClock;
}

const BODY_SHOWN = 4096;

const roundMs = (ms: number) => Math.round(ms * 100) / 100;

/** The account a call's request is signed for; 20404 when it is unknown. */
export function accountOf(
  deps: Pick<CallWebhookDeps, "directory">,
  accountSid: string | null | undefined,
): AccountRecord {
  const account = accountSid ? deps.directory.accounts.get(accountSid) : undefined;
  if (!account) throw fail("notFound", `unknown account ${accountSid}`);
  return account;
}

/** Sends the request; rejects (after publishing `webhook.error`) with the SwitchboardError of failures.ts. */
export async function sendCallWebhook(deps: CallWebhookDeps, req: CallWebhook): Promise<WebhookResponse> {
  const account = accountOf(deps, req.accountSid);
  const { clock, callSid } = req;
  const { inspector } = deps;
  const inspect =
    clock && inspector
      ? (event: Parameters<Inspector["publish"]>[1]) => inspector.publish(callSid, event, clock.now())
      : () => {};
  inspect({ type: "webhook.request", url: req.url, method: req.method, params: req.params });
  const started = performance.now();
  const send = () =>
    deps.webhooks.request({
      url: req.url,
      method: req.method,
      params: req.params,
      authToken: account.auth_token,
      ...(account.webhook_signing_key && { signingKey: account.webhook_signing_key }),
      headers: { "X-Home-Region": deps.region },
      idempotencyToken: req.idempotencyToken,
      ...(req.cookies && { cookies: req.cookies }),
      ...(req.signal && { signal: req.signal }),
    });
  let res: WebhookResponse;
  try {
    res = await (clock ? clock.holding(send) : send());
  } catch (err) {
    const e = err as { code?: number; message?: string; httpStatus?: number };
    const response = failedResponseOf(err);
    inspect({
      type: "webhook.error",
      url: req.url,
      code: e.code ?? 12400,
      message: e.message ?? String(err),
      ...(e.httpStatus !== undefined && { httpStatus: e.httpStatus }),
      durationMs: roundMs(performance.now() - started),
      ...(response && { response }),
    });
    throw err;
  }
  deps.stats.observeWebhook(res.durationMs);
  inspect({
    type: "webhook.response",
    url: res.url,
    status: res.status,
    contentType: res.contentType,
    durationMs: roundMs(res.durationMs),
    body: res.body.length <= BODY_SHOWN ? res.body : `${res.body.slice(0, BODY_SHOWN)}…`,
  });
  return res;
}

/**
 * Sends the request and reads the TwiML it returns (shared with other calls that got the same
 * answer); a body that is no document publishes `webhook.error` and rejects with its code (12100…).
 */
export async function fetchCallDocument(
  deps: CallWebhookDeps,
  req: CallWebhook & { clock: CallClock },
): Promise<{ res: WebhookResponse; doc: TwimlDocument }> {
  const res = await sendCallWebhook(deps, req);
  let doc: TwimlDocument;
  try {
    doc = sharedDocument(res);
  } catch (err) {
    const e = err as { code?: number; message?: string };
    deps.inspector?.publish(
      req.callSid,
      { type: "webhook.error", url: res.url, code: e.code ?? 12400, message: e.message ?? "", durationMs: 0 },
      req.clock.now(),
    );
    throw err;
  }
  const account = accountOf(deps, req.accountSid);
  for (const w of doc.warnings) {
    deps.outbox.notifier.notify({
      accountSid: account.sid,
      callSid: req.callSid,
      level: "warning",
      code: w.code,
      // Twilio's 12200 page: "check the line and column reported by the warning".
      message: w.line === undefined ? w.message : `${w.message} (line ${w.line}, column ${w.column})`,
      requestUrl: res.url,
      requestMethod: req.method,
      responseBody: res.body.slice(0, BODY_SHOWN),
    });
  }
  return { res, doc };
}
