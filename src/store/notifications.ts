// Errors and warnings recorded against a call, in Twilio's Notification shape, in bucket
// `sb_notifications_<region>` under `<CallSid>.<ms since epoch, 13 digits>_<NotificationSid>`:
// listing a call's notifications is a server-side key filter (`<CallSid>.*`), never a scan of
// the bucket, and the keys sort in the order the notifications were made.
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

export async function openNotifications(
  nc: NatsConnection,
  region: string,
): Promise<JsonKv<NotificationRecord>> {
  const name = buckets.notifications(region);
  // Notifications are call data: they stay on the region's own servers (placement.ts).
  const placed = storePlacement(nc, region);
  const kv = await retrying(`open bucket ${name}`, () =>
    withPlacementHint(placed, () => new Kvm(nc).create(name, { history: 1, ...placed })),
  );
  return new JsonKv<NotificationRecord>(kv);
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

export async function addNotification(
  kv: JsonKv<NotificationRecord>,
  n: NewNotification,
): Promise<NotificationRecord> {
  const at = Date.now();
  const record = notificationRecord(n, at);
  // A document's warnings are reported within one millisecond, and the random NotificationSid after
  // the time would then order them by chance: the key's time is made strictly increasing instead.
  lastKeyMs = Math.max(at, lastKeyMs + 1);
  await kv.put(`${n.callSid}.${String(lastKeyMs).padStart(13, "0")}_${record.sid}`, record);
  return record;
}

/** The time in the newest notification key this process wrote (see addNotification). */
let lastKeyMs = 0;

/** A call's notifications, oldest first. */
export async function listNotifications(
  kv: JsonKv<NotificationRecord>,
  callSid: string,
): Promise<NotificationRecord[]> {
  const keys: string[] = [];
  for await (const key of await kv.kv.keys(`${callSid}.*`)) keys.push(key);
  keys.sort();
  const records = await Promise.all(keys.map((k) => kv.get(k)));
  return records.filter((r): r is NotificationRecord => r !== undefined);
}
