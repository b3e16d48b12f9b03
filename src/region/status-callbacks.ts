// Status callbacks (spec §5): requested in order per call, never holding the call up. A callback
// that fails is recorded as a 15003 warning against the call; its response body is ignored.
import type { CallFacts } from "../../machines/call.machine.js";
import type { Logger } from "../log.js";
import type { AccountRecord } from "../model/records.js";
import type { WatchedKv } from "../store/watched-kv.js";
import type { HttpMethod } from "../twiml/types.js";
import { type StatusEvent, statusCallbackParams } from "../webhook/params.js";
import { requestWebhook } from "../webhook/request.js";
import type { Notifier } from "./notifier.js";

export interface StatusCallback {
  facts: CallFacts;
  url: string;
  method: HttpMethod;
  event: StatusEvent;
}

export class StatusCallbacks {
  /** The tail of each call's queue: a call's callbacks go out one after another. */
  readonly #tails = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      region: string;
      accounts: WatchedKv<AccountRecord>;
      notifier: Notifier;
      log: Logger;
    },
  ) {}

  /** Queues the callback behind the call's earlier ones and returns at once. */
  send(cb: StatusCallback): void {
    const sid = cb.facts.callSid;
    const tail = (this.#tails.get(sid) ?? Promise.resolve()).then(() => this.#request(cb));
    this.#tails.set(sid, tail);
    void tail.finally(() => {
      if (this.#tails.get(sid) === tail) this.#tails.delete(sid);
    });
  }

  /** Resolves when every queued callback has been requested (for a graceful stop). */
  async drain(): Promise<void> {
    while (this.#tails.size > 0) await Promise.allSettled([...this.#tails.values()]);
  }

  async #request(cb: StatusCallback): Promise<void> {
    const { facts } = cb;
    const account = facts.accountSid ? this.deps.accounts.get(facts.accountSid) : undefined;
    if (!account) return;
    try {
      await requestWebhook({
        url: cb.url,
        method: cb.method,
        params: statusCallbackParams(facts, cb.event),
        authToken: account.auth_token,
        ...(account.webhook_signing_key && { signingKey: account.webhook_signing_key }),
        headers: { "X-Home-Region": this.deps.region },
      });
    } catch (err) {
      const e = err as { code?: number; message?: string; httpStatus?: number };
      this.deps.notifier.notify({
        accountSid: account.sid,
        callSid: facts.callSid,
        level: "warning",
        // Twilio: a 4xx/5xx answer to a callback is 15003; a request that could not be made keeps its code.
        code: e.httpStatus !== undefined || e.code === undefined ? 15003 : e.code,
        message: `status callback ${cb.url}: ${e.message ?? String(err)}`,
        requestUrl: cb.url,
        requestMethod: cb.method,
      });
    }
  }
}
