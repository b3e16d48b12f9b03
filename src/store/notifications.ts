// Errors and warnings recorded against a call, in Twilio's Notification shape, in bucket
// `sb_notifications_<region>` under `<CallSid>.<ms since epoch, 13 digits>_<NotificationSid>`:
// listing a call's notifications is a server-side key filter (`<CallSid>.*`), never a scan of
// the bucket, and the keys sort in the order the notifications were made. A response body is stored
// once, under `bodies.<CallSid>.<hash>`, and the notifications about it point at it.
import { createHash } from "node:crypto";
import { DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { moreInfoUrl } from "../errors/codes.js";
import { rfc2822 } from "../model/dates.js";
import { newSid } from "../model/sid.js";
import { buckets } from "../protocol/subjects.js";
import { JsonKv } from "./json-kv.js";
import { storePlacement, withPlacementHint } from "./placement.js";
import { retrying } from "./retry.js";

/** Twilio's Notification resource (api.v2010.account.call.call_notification-instance). */
export interface NotificationRecord {
  sid: string;
  account_sid: string;
  call_sid: string;
  api_version: string;
  date_created: string;
  date_updated: string;
  error_code: string;
  /** "0" for an error, "1" for a warning. */
  log: "0" | "1";
  message_date: string;
  message_text: string;
  more_info: string;
  request_method: string | null;
  request_url: string | null;
  request_variables: string | null;
  response_body: string | null;
  response_headers: string | null;
  uri: string;
}

/** A notification as stored: its response body, if any, is the value of `response_body_key`. */
export interface StoredNotification extends NotificationRecord {
  response_body_key?: string;
}

/**
 * How long notifications are kept: 30 days, as Twilio keeps its Request Inspector's
 * (twilio-voice-spec.md). Past `NOTIFICATIONS_MAX_BYTES` a region's oldest go first.
 */
export const NOTIFICATIONS_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
export const NOTIFICATIONS_MAX_BYTES = 512 * 1024 * 1024;

export interface NewNotification {
  accountSid: string;
  callSid: string;
  code: number;
  level: "error" | "warning";
  message: string;
  requestUrl?: string;
  requestMethod?: string;
  requestVariables?: Record<string, string>;
  responseBody?: string;
  /** Twilio's `response_headers`: the headers form-encoded, `Name=value&…`. */
  responseHeaders?: string;
}

/**
 * Opens the region's bucket, creating it with its limits (age, bytes; the oldest discarded when full)
 * or giving them to a bucket made without them. `limits` is for tests.
 */
export async function openNotifications(
  nc: NatsConnection,
  region: string,
  limits: { maxBytes?: number; maxAgeMs?: number } = {},
): Promise<JsonKv<StoredNotification>> {
  const name = buckets.notifications(region);
  const maxBytes = limits.maxBytes ?? NOTIFICATIONS_MAX_BYTES;
  const maxAgeMs = limits.maxAgeMs ?? NOTIFICATIONS_MAX_AGE_MS;
  // Notifications are call data: they stay on the region's own servers (placement.ts).
  const placed = storePlacement(nc, region);
  const jsm = await retrying("JetStream", () => jetstreamManager(nc));
  const stream = `KV_${name}`;
  const limitsOf = { max_bytes: maxBytes, max_age: maxAgeMs * 1_000_000, discard: DiscardPolicy.Old };
  const existing = await retrying(`open bucket ${name}`, async () => {
    try {
      return (await jsm.streams.info(stream)).config;
    } catch (err) {
      if (!/stream not found/i.test(String((err as Error)?.message))) throw err;
    }
    // Made here rather than by Kvm.create, which makes a full bucket refuse new entries: a log drops
    // its oldest instead. The rest is what nats.js makes a KV bucket with.
    await withPlacementHint(placed, () =>
      jsm.streams.add({
        name: stream,
        subjects: [`$KV.${name}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        max_msgs_per_subject: 1,
        max_msg_size: -1,
        allow_rollup_hdrs: true,
        allow_direct: true,
        deny_delete: true,
        num_replicas: placed.replicas,
        ...(placed.placement && { placement: placed.placement }),
        ...limitsOf,
      }),
    );
    return undefined;
  });
  if (
    existing &&
    (existing.max_bytes !== limitsOf.max_bytes ||
      existing.max_age !== limitsOf.max_age ||
      existing.discard !== limitsOf.discard)
  ) {
    // A bucket made before the limits: only a role that may update streams (admin, `up`) gives them
    // to it; a region's workers may not (deploy/nats), and carry on without.
    await jsm.streams.update(stream, { ...existing, ...limitsOf }).catch(() => {});
  }
  const kv = await retrying(`open bucket ${name}`, () => new Kvm(nc).open(name));
  return new JsonKv<StoredNotification>(kv);
}

/** Where a call's response body is stored once: the same body twice is one key. */
export function bodyKey(callSid: string, body: string): string {
  return `bodies.${callSid}.${createHash("sha256").update(body).digest("hex").slice(0, 32)}`;
}

/** Stores `body` under its key unless it is there already; returns the key. */
export async function storeBody(
  kv: JsonKv<StoredNotification>,
  callSid: string,
  body: string,
): Promise<string> {
  const key = bodyKey(callSid, body);
  try {
    await kv.kv.create(key, body);
  } catch (err) {
    if (!/wrong last sequence|key exists/i.test(String((err as Error)?.message))) throw err;
  }
  return key;
}

export function notificationRecord(n: NewNotification, at = Date.now()): NotificationRecord {
  const sid = newSid("NO");
  const date = rfc2822(at);
  return {
    sid,
    account_sid: n.accountSid,
    call_sid: n.callSid,
    api_version: "2010-04-01",
    date_created: date,
    date_updated: date,
    error_code: String(n.code),
    log: n.level === "error" ? "0" : "1",
    message_date: date,
    message_text: n.message,
    more_info: moreInfoUrl(n.code),
    request_method: n.requestMethod ?? null,
    request_url: n.requestUrl ?? null,
    request_variables: n.requestVariables ? new URLSearchParams(n.requestVariables).toString() : null,
    response_body: n.responseBody ?? null,
    response_headers: n.responseHeaders ?? null,
    uri: `/2010-04-01/Accounts/${n.accountSid}/Calls/${n.callSid}/Notifications/${sid}.json`,
  };
}

/** The key a new notification of `callSid` is stored under. */
export function notificationKey(callSid: string, sid: string, at = Date.now()): string {
  // A document's warnings are reported within one millisecond, and the random NotificationSid after
  // the time would then order them by chance: the key's time is made strictly increasing instead.
  lastKeyMs = Math.max(at, lastKeyMs + 1);
  return `${callSid}.${String(lastKeyMs).padStart(13, "0")}_${sid}`;
}

/** The time in the newest notification key this process wrote (see notificationKey). */
let lastKeyMs = 0;

/** A call's notifications, oldest first, each with its response body. */
export async function listNotifications(
  kv: JsonKv<StoredNotification>,
  callSid: string,
): Promise<NotificationRecord[]> {
  const keys: string[] = [];
  for await (const key of await kv.kv.keys(`${callSid}.*`)) keys.push(key);
  keys.sort();
  const records = (await Promise.all(keys.map((k) => kv.get(k)))).filter(
    (r): r is StoredNotification => r !== undefined,
  );
  const bodies = new Map<string, Promise<string | null>>();
  const bodyOf = (key: string) => {
    let body = bodies.get(key);
    if (!body) {
      body = kv.kv.get(key).then((e) => (e?.operation === "PUT" ? e.string() : null));
      bodies.set(key, body);
    }
    return body;
  };
  return Promise.all(
    records.map(async ({ response_body_key, ...record }) =>
      response_body_key ? { ...record, response_body: await bodyOf(response_body_key) } : record,
    ),
  );
}
