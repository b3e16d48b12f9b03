// Status callbacks (spec §5), through a durable outbox: the call puts each callback in the region's
// stream SB_CALLBACKS_<R> (message id `<CallSid>.<key>`: a progress callback's SequenceNumber, or
// `completed` for the call's final one, so a call resumed by another
// worker that queues it again makes no second one), and the region's workers send them from there,
// acking once the request is done. A worker that dies mid-request leaves the message to be sent
// again with the same I-Twilio-Idempotency-Token. Sending never holds the call up; a callback that
// fails is recorded as a 15003 warning; its response body is ignored. A callback with `notBefore`
// (a transcription) goes back to the stream, delayed, until it is due.
import type { Consumer, ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import type { Logger } from "../../log.js";
import type { AccountRecord } from "../../model/records.js";
import { type OutboxCallback, parseOutboxCallback } from "../../protocol/callbacks.js";
import { decode, encode } from "../../protocol/codec.js";
import type { Subjects } from "../../protocol/subjects.js";
import { failedResponseOf, formEncodedHeaders } from "../../webhook/failures.js";
import { idempotencyToken } from "../../webhook/idempotency.js";
import { statusCallbackParams } from "../../webhook/params.js";
import { accountOf, type CallWebhookDeps, sendCallWebhook } from "../effects/call-webhook.js";

type Outgoing = OutboxCallback;
/**
 * A call's own final callback (the one queued as an event) is keyed `completed`, not by its
 * SequenceNumber: that number is worked out from how the call went (outbound-callee.ts), and if a
 * resume could not learn that a progress callback was sent, it would be that callback's key, and
 * the final one would be dropped as its duplicate.
 */
const keyOf = (cb: Outgoing) => ("key" in cb ? cb.key : "completed");

/** Callbacks sent at once by one worker; more wait in the stream. */
const IN_FLIGHT = 64;

export class StatusCallbacks {
  readonly #inFlight = new Set<Promise<void>>();
  #running = true;
  #loop: Promise<void> | undefined;
  /** The pull being read; stop() ends it (it waits for a lost server to come back otherwise). */
  #batch: ConsumerMessages | undefined;

  constructor(
    private readonly deps: Omit<CallWebhookDeps, "inspector"> & {
      js: JetStreamClient;
      subjects: Subjects;
      log: Logger;
    },
  ) {}

  /** Stores the callback in the outbox; resolves once JetStream has it. */
  async queue(cb: Outgoing): Promise<void> {
    const { js, subjects, region } = this.deps;
    await js.publish(subjects.regionCallbacks(region), encode(cb), {
      msgID: `${cb.facts.callSid}.${keyOf(cb)}`,
      timeout: 5_000,
    });
  }

  /** Sends what the outbox holds until `stop()`. */
  start(consumer: Consumer): void {
    this.#loop = (async () => {
      while (this.#running) {
        try {
          const batch = await consumer.fetch({
            max_messages: IN_FLIGHT - this.#inFlight.size || 1,
            expires: 2_000,
          });
          this.#batch = batch;
          if (!this.#running) batch.stop();
          for await (const msg of batch) {
            const sending = this.#send(msg).finally(() => this.#inFlight.delete(sending));
            this.#inFlight.add(sending);
            if (this.#inFlight.size >= IN_FLIGHT) await Promise.race(this.#inFlight);
          }
        } catch (err) {
          if (!this.#running) break;
          this.deps.log.warn({ err }, "pulling status callbacks failed; retrying");
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    })();
  }

  /** Stops pulling and waits for the callbacks being sent. */
  async stop(): Promise<void> {
    this.#running = false;
    // A pull does not end while its server is gone (nats.js holds its expiry until it reconnects): a
    // worker stopped then would never exit. What the pull had not delivered is the stream's again.
    this.#batch?.stop();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #send(msg: JsMsg): Promise<void> {
    let cb: Outgoing;
    try {
      cb = parseOutboxCallback(decode(msg.data));
    } catch (err) {
      this.deps.log.error({ err, seq: msg.seq }, "dropped an unreadable or invalid status callback");
      msg.term();
      return;
    }
    // Not due yet (a transcription): back to the stream until it is, holding no sending slot.
    const wait = "notBefore" in cb && cb.notBefore !== undefined ? cb.notBefore - Date.now() : 0;
    if (wait > 0) {
      msg.nak(wait);
      return;
    }
    await this.#request(cb);
    msg.ack();
  }

  async #request(cb: Outgoing): Promise<void> {
    const { facts } = cb;
    let account: AccountRecord;
    try {
      account = accountOf(this.deps, facts.accountSid);
    } catch {
      return; // the account was deleted: there is no one to call back
    }
    try {
      // No clock, no inspector: sent off the call's path, counted for /metrics but not inspected.
      await sendCallWebhook(this.deps, {
        callSid: facts.callSid,
        accountSid: account.sid,
        url: cb.url,
        method: cb.method,
        params: "key" in cb ? cb.params : statusCallbackParams(facts, cb.event),
        idempotencyToken: idempotencyToken(facts.callSid, "callback", keyOf(cb)),
      });
    } catch (err) {
      const e = err as { code?: number; message?: string; httpStatus?: number };
      const response = failedResponseOf(err);
      this.deps.outbox.notifier.notify({
        accountSid: account.sid,
        callSid: facts.callSid,
        level: "warning",
        // Twilio: a 4xx/5xx answer to a callback is 15003; a request that could not be made keeps its code.
        code: e.httpStatus !== undefined || e.code === undefined ? 15003 : e.code,
        message: `status callback ${cb.url}: ${e.message ?? String(err)}`,
        requestUrl: cb.url,
        requestMethod: cb.method,
        ...(response && {
          responseBody: response.body,
          responseHeaders: formEncodedHeaders(response.headers),
        }),
      });
    }
  }
}
