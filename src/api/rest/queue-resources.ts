// The Queue and Member resources in Twilio's shape, from the region's queue records.
import { rfc2822 } from "../../model/dates.js";
import { averageWaitS, type MemberRecord, type QueueRecord } from "../../model/rooms.js";
import { resource } from "./schemas.js";

export const queueSchema = resource("Queue", {
  sid: "string",
  account_sid: "string",
  friendly_name: "string",
  current_size: "integer",
  max_size: "integer",
  average_wait_time: "integer",
  date_created: "string",
  date_updated: "string",
  uri: "string",
});
export const memberSchema = resource("Member", {
  call_sid: "string",
  queue_sid: "string",
  position: "integer",
  wait_time: "integer",
  date_enqueued: "string",
  uri: "string",
});

const base = (accountSid: string) => `/2010-04-01/Accounts/${accountSid}/Queues`;

export function queueResource(q: QueueRecord, now = Date.now()) {
  return {
    sid: q.sid,
    account_sid: q.accountSid,
    friendly_name: q.friendlyName,
    current_size: q.members.length,
    max_size: q.maxSize,
    average_wait_time: averageWaitS(q, now),
    date_created: rfc2822(q.dateCreated),
    date_updated: rfc2822(q.dateUpdated),
    uri: `${base(q.accountSid)}/${q.sid}.json`,
  };
}

export function memberResource(q: QueueRecord, m: MemberRecord, position: number, now = Date.now()) {
  return {
    call_sid: m.callSid,
    queue_sid: q.sid,
    position,
    wait_time: Math.max(0, Math.round((now - m.enqueuedAt) / 1000)),
    date_enqueued: rfc2822(m.enqueuedAt),
    uri: `${base(q.accountSid)}/${q.sid}/Members/${m.callSid}.json`,
  };
}
