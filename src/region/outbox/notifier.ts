// Reports an error or warning against a call three ways at once: stored as a Notification (what
// the REST API and Twilio's debugger show), published for inspection, and logged. Storing never
// holds the call up: a failed write is logged, not thrown. What one call can store is bounded: the
// same code and message again is one notification with a count, a response body is stored once, and
// past MAX_CALL_NOTIFICATIONS distinct warnings (or errors) a single 90013 notification counts the rest.
import { ErrorCodes } from "../../errors/codes.js";
import type { Logger } from "../../log.js";
import { rfc2822 } from "../../model/dates.js";
import type { JsonKv } from "../../store/json-kv.js";
import {
  type NewNotification,
  notificationKey,
  notificationRecord,
  type StoredNotification,
  storeBody,
} from "../../store/notifications.js";
import type { Inspector } from "../inspect/inspector.js";

/**
 * Distinct warnings (code and message) one call stores, and as many errors (counted apart, so the
 * error that ends a call is kept however many warnings came before); one 90013 counts the rest.
 */
export const MAX_CALL_NOTIFICATIONS = 100;
/** Calls whose notifications this worker remembers, to aggregate repeats (the oldest are forgotten). */
const CALLS_REMEMBERED = 5_000;

/** One stored notification and how often it happened; one write in flight, the newest count wins. */
interface Stored {
  key: string;
  record: StoredNotification;
  message: string;
  count: number;
  writing: Promise<void>;
  dirty: boolean;
}

interface CallNotes {
  byText: Map<string, Stored>;
  distinct: { error: number; warning: number };
  bodies: Map<string, Promise<string>>;
  limit?: Stored;
}

export class Notifier {
  readonly #calls = new Map<string, CallNotes>();
  /** Writes not yet done, for settled(): a worker that stops must not exit with one in flight. */
  readonly #pending = new Set<Promise<void>>();

  constructor(
    private readonly notifications: JsonKv<StoredNotification>,
    private readonly inspector: Inspector,
    private readonly log: Logger,
  ) {}

  notify(n: NewNotification): void {
    const notes = this.#notesOf(n.callSid);
    const text = `${n.code} ${n.message}`;
    const seen = notes.byText.get(text);
    if (seen) {
      this.#repeat(seen);
      return;
    }
    if (notes.distinct[n.level] >= MAX_CALL_NOTIFICATIONS) {
      this.#overLimit(notes, n);
      return;
    }
    notes.distinct[n.level]++;
    this.inspector.publish(n.callSid, {
      type: "notification",
      level: n.level,
      code: n.code,
      message: n.message,
    });
    this.log[n.level === "error" ? "warn" : "info"]({ callSid: n.callSid, code: n.code }, n.message);
    notes.byText.set(text, this.#store(notes, n));
  }

  #notesOf(callSid: string): CallNotes {
    let notes = this.#calls.get(callSid);
    if (notes) {
      // Most recently used last, so the first entry is the one to forget.
      this.#calls.delete(callSid);
    } else {
      notes = { byText: new Map(), distinct: { error: 0, warning: 0 }, bodies: new Map() };
      if (this.#calls.size >= CALLS_REMEMBERED) {
        const oldest = this.#calls.keys().next().value;
        if (oldest !== undefined) this.#calls.delete(oldest);
      }
    }
    this.#calls.set(callSid, notes);
    return notes;
  }

  #store(notes: CallNotes, n: NewNotification): Stored {
    const { responseBody, ...rest } = n;
    const record: StoredNotification = notificationRecord(rest);
    const stored: Stored = {
      key: notificationKey(n.callSid, record.sid),
      record,
      message: record.message_text,
      count: 1,
      writing: Promise.resolve(),
      dirty: false,
    };
    // The body once per call however many notifications point at it; written before them.
    const body = responseBody === undefined ? undefined : this.#bodyOf(notes, n.callSid, responseBody);
    stored.writing = this.#track(
      (async () => {
        if (body) record.response_body_key = await body;
        await this.notifications.put(stored.key, record);
      })().catch((err) =>
        this.log.error({ err, callSid: n.callSid, code: n.code }, "cannot store notification"),
      ),
    );
    return stored;
  }

  /** Resolves once every notification written so far is stored (or its failure logged). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  #track(writing: Promise<void>): Promise<void> {
    this.#pending.add(writing);
    void writing.finally(() => this.#pending.delete(writing));
    return writing;
  }

  #bodyOf(notes: CallNotes, callSid: string, body: string): Promise<string> {
    let key = notes.bodies.get(body);
    if (!key) {
      key = storeBody(this.notifications, callSid, body);
      notes.bodies.set(body, key);
    }
    return key;
  }

  /** The same notification again: its count goes up, rewritten in place (one write in flight). */
  #repeat(stored: Stored): void {
    stored.count++;
    stored.record.message_text = `${stored.message} (${stored.count} times)`;
    stored.record.date_updated = rfc2822(Date.now());
    if (stored.dirty) return;
    stored.dirty = true;
    stored.writing = this.#track(
      stored.writing.then(async () => {
        stored.dirty = false;
        await this.notifications
          .put(stored.key, stored.record)
          .catch((err) => this.log.error({ err, key: stored.key }, "cannot store notification"));
      }),
    );
  }

  #overLimit(notes: CallNotes, n: NewNotification): void {
    if (notes.limit) {
      this.#repeat(notes.limit);
      return;
    }
    const code = ErrorCodes.notificationsLimited.code;
    const message = `More than ${MAX_CALL_NOTIFICATIONS} distinct ${n.level}s on this call; the rest are counted here, not stored`;
    this.log.warn({ callSid: n.callSid, code }, message);
    notes.limit = this.#store(notes, {
      accountSid: n.accountSid,
      callSid: n.callSid,
      code,
      level: "warning",
      message,
    });
  }
}
