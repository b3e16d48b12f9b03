// The call index (docs/rest-api.md): KV bucket `sb_call_index_<region>`, one key per stored call,
// written by the region right after the Call resource. Every filter of Twilio's Calls list is a
// token of the key, so `kv.keys(filter)` narrows on the server, and keys sort newest first:
//
//   <AccountSid>.<day>.<time>.<CallSid>.<status>.<to>.<from>.<parent>
//
// day = 99999999 - yyyymmdd and time = 999999 - HHMMSS of the call's start (UTC), so ascending key
// order is descending start time; to/from are `p<digits>` for E.164 and `b<base64url>` otherwise
// (KV keys allow only [-/_=.A-Za-z0-9]); parent is the parent CallSid or "-".
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import type { CallResource, CallStatus } from "../model/records.js";
import { openRegionKv } from "./region.js";

export function callIndexBucket(region: string): string {
  return `sb_call_index_${region.replaceAll("-", "_")}`;
}

/** What a key says about its call. */
export interface CallIndexEntry {
  key: string;
  accountSid: string;
  callSid: string;
  status: CallStatus;
  /** Start time in ms since the epoch, to the second. */
  startedAt: number;
  to?: string;
  from?: string;
  parentCallSid?: string;
}

/** A Calls list's filters; absent ones match anything. */
export interface CallIndexFilter {
  accountSid: string;
  /** yyyymmdd (UTC) of the start: an exact-day filter is a key token too. */
  day?: string;
  status?: string;
  to?: string;
  from?: string;
  parentCallSid?: string;
}

const opened = new WeakMap<NatsConnection, Map<string, Promise<KV>>>();

/** Opens (creating it in the region if need be) the region's index, once per connection. */
export function openCallIndex(nc: NatsConnection, region: string): Promise<KV> {
  let byRegion = opened.get(nc);
  if (!byRegion) {
    byRegion = new Map();
    opened.set(nc, byRegion);
  }
  let kv = byRegion.get(region);
  if (!kv) {
    kv = openRegionKv(nc, region, callIndexBucket(region), 1);
    // A failed open is not remembered: the next call tries again.
    kv.catch(() => byRegion.delete(region));
    byRegion.set(region, kv);
  }
  return kv;
}

/**
 * Indexes a stored call. Idempotent (the key depends only on the record), so the region's retry of
 * a failed store writes the same key again. A call with no account is visible to nobody: skipped.
 */
export async function indexCall(nc: NatsConnection, region: string, call: CallResource): Promise<void> {
  const key = callIndexKey(call);
  if (key) await (await openCallIndex(nc, region)).put(key, call.sid);
}

export function callIndexKey(call: CallResource): string | undefined {
  if (!call.account_sid) return undefined;
  const started = Date.parse(call.start_time ?? call.date_created);
  if (Number.isNaN(started)) return undefined;
  const { day, time } = invertedTime(started);
  const tokens = [
    call.account_sid,
    day,
    time,
    call.sid,
    call.status,
    addressToken(call.to),
    addressToken(call.from),
    call.parent_call_sid ?? "-",
  ];
  return tokens.join(".");
}

/** The `kv.keys()` filter for a list: one `*` per token the list does not fix. */
export function callIndexFilter(f: CallIndexFilter): string {
  const any = "*";
  return [
    f.accountSid,
    f.day ? String(99_999_999 - Number(f.day)).padStart(8, "0") : any,
    any,
    any,
    f.status ?? any,
    f.to !== undefined ? addressToken(f.to) : any,
    f.from !== undefined ? addressToken(f.from) : any,
    f.parentCallSid ?? any,
  ].join(".");
}

export function parseCallIndexKey(key: string): CallIndexEntry | undefined {
  const [accountSid, day, time, callSid, status, to, from, parent] = key.split(".");
  if (!accountSid || !day || !time || !callSid || !status) return undefined;
  const ymd = String(99_999_999 - Number(day)).padStart(8, "0");
  const hms = String(999_999 - Number(time)).padStart(6, "0");
  const startedAt = Date.UTC(
    Number(ymd.slice(0, 4)),
    Number(ymd.slice(4, 6)) - 1,
    Number(ymd.slice(6, 8)),
    Number(hms.slice(0, 2)),
    Number(hms.slice(2, 4)),
    Number(hms.slice(4, 6)),
  );
  return {
    key,
    accountSid,
    callSid,
    status: status as CallStatus,
    startedAt,
    ...(to !== undefined && { to: addressFromToken(to) }),
    ...(from !== undefined && { from: addressFromToken(from) }),
    ...(parent !== undefined && parent !== "-" && { parentCallSid: parent }),
  };
}

/** The yyyymmdd of a UTC instant, as the `day` filter takes it. */
export function utcDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}${p2(d.getUTCMonth() + 1)}${p2(d.getUTCDate())}`;
}

function invertedTime(ms: number): { day: string; time: string } {
  const d = new Date(ms);
  const hms = Number(`${p2(d.getUTCHours())}${p2(d.getUTCMinutes())}${p2(d.getUTCSeconds())}`);
  return {
    day: String(99_999_999 - Number(utcDay(ms))).padStart(8, "0"),
    time: String(999_999 - hms).padStart(6, "0"),
  };
}

function addressToken(value: string): string {
  return /^\+\d{1,15}$/.test(value) ? `p${value.slice(1)}` : `b${Buffer.from(value).toString("base64url")}`;
}

/** A key's to/from token back to the address (`p15551230001` -> `+15551230001`). */
export function addressFromToken(token: string): string {
  if (token.startsWith("p")) return `+${token.slice(1)}`;
  return token.startsWith("b") ? Buffer.from(token.slice(1), "base64url").toString("utf8") : token;
}

function p2(n: number): string {
  return String(n).padStart(2, "0");
}
