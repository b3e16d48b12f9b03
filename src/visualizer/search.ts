// Searching every stored call, not only those the directory holds: the call index of each region
// (`sb_call_index_<r>`, one key per stored call with its CallSid, status, to and from as tokens) is
// filtered on the server where the query is a whole CallSid, number or status, and scanned key by key
// otherwise; live calls (not indexed until they end) come from the directory.
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/transport-node";
import { CALL_STATUSES, type CallResource } from "../model/records.js";
import { buckets } from "../protocol/subjects.js";
import { type CallIndexEntry, callIndexBucket, parseCallIndexKey } from "../store/call-index.js";
import { JsonKv } from "../store/json-kv.js";
import { listNotifications, type NotificationRecord } from "../store/notifications.js";
import type { CallDirectory, CallRow } from "./directory.js";
import { sanitize } from "./sanitize.js";

/** Matches returned at most, newest first. */
export const SEARCH_LIMIT = 100;

const STATUSES: ReadonlySet<string> = new Set(CALL_STATUSES);

/** Whether a call's CallSid, number or status holds the query (numbers also by their digits alone). */
export function matchesQuery(
  row: Pick<CallRow, "callSid" | "from" | "to" | "status"> & { edge?: string | null },
  query: string,
): boolean {
  const q = query.trim().toLowerCase();
  if (!q) return true;
  const digits = q.replace(/[^\d]/g, "");
  return (
    [row.callSid, row.from, row.to, row.status, row.edge].some((v) => v?.toLowerCase().includes(q)) ||
    (digits.length >= 3 &&
      digits.length === q.replace(/[\s()+-]/g, "").length &&
      [row.from, row.to].some((v) => v?.replace(/[^\d]/g, "").includes(digits)))
  );
}

/**
 * The key filters that find a query without a scan, or every key of the account (all keys for the
 * operator, `account` null) when none does. Keys lead with the AccountSid, so an account's search
 * never reads another account's calls.
 */
function indexFilters(q: string, account: string | null): string[] {
  // Keys: <AccountSid>.<day>.<time>.<CallSid>.<status>.<to>.<from>.<parent>
  const a = account ?? "*";
  if (/^CA[0-9a-f]{32}$/.test(q)) return [`${a}.*.*.${q}.*.*.*.*`];
  if (STATUSES.has(q)) return [`${a}.*.*.*.${q}.*.*.*`];
  if (/^\+\d{1,15}$/.test(q)) return [`${a}.*.*.*.*.p${q.slice(1)}.*.*`, `${a}.*.*.*.*.*.p${q.slice(1)}.*`];
  return [account === null ? ">" : `${account}.>`];
}

/**
 * Stored and live calls of `account` (every account's for the operator, null) that match `query`,
 * newest first, at most SEARCH_LIMIT.
 */
export async function searchCalls(
  nc: NatsConnection,
  directory: CallDirectory,
  query: string,
  account: string | null,
): Promise<{ calls: CallRow[]; complete: boolean }> {
  const q = query.trim();
  const found = new Map<string, CallRow>();
  const visible = (row: CallRow) => account === null || row.accountSid === account;
  for (const row of directory.rows(Number.POSITIVE_INFINITY))
    if (visible(row) && matchesQuery(row, q)) found.set(row.callSid, row);
  let complete = true;
  const kvm = new Kvm(nc);
  for (const region of directory.regions) {
    const index = await kvm.open(callIndexBucket(region)).catch(() => undefined);
    if (!index) continue;
    const byCall = new Map<string, CallIndexEntry>();
    for (const filter of indexFilters(q, account)) {
      const keys = await index.keys(filter).catch(() => undefined);
      if (!keys) continue;
      for await (const key of keys) {
        const e = parseCallIndexKey(key);
        const row = e && { callSid: e.callSid, from: e.from ?? null, to: e.to ?? null, status: e.status };
        if (e && row && matchesQuery(row, q)) byCall.set(e.callSid, e);
      }
    }
    const entries = [...byCall.values()];
    entries.sort((a, b) => b.startedAt - a.startedAt);
    if (entries.length > SEARCH_LIMIT) complete = false;
    const missing = entries.filter((e) => !found.has(e.callSid)).slice(0, SEARCH_LIMIT);
    for (const row of await Promise.all(missing.map((e) => storedRow(kvm, region, e))))
      found.set(row.callSid, row);
  }
  const calls = [...found.values()].sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  if (calls.length > SEARCH_LIMIT) complete = false;
  return { calls: calls.slice(0, SEARCH_LIMIT), complete };
}

/** A row for a call the directory does not hold: its record, and its notifications counted. */
async function storedRow(kvm: Kvm, region: string, e: CallIndexEntry): Promise<CallRow> {
  const row: CallRow = {
    callSid: e.callSid,
    accountSid: e.accountSid,
    region,
    edge: null,
    from: e.from ?? null,
    to: e.to ?? null,
    status: e.status,
    state: "completed",
    live: false,
    startedAt: e.startedAt,
    duration: null,
    parentCallSid: e.parentCallSid ?? null,
    errorCode: null,
    errors: 0,
    warnings: 0,
  };
  const [call, notes] = await Promise.all([
    kvm
      .open(buckets.calls(region))
      .then((kv) => kv.get(e.callSid))
      .then((m) => (m?.operation === "PUT" ? sanitize(m.json<CallResource>()) : undefined))
      .catch(() => undefined),
    kvm
      .open(buckets.notifications(region))
      .then((kv) => listNotifications(new JsonKv<NotificationRecord>(kv), e.callSid))
      .catch(() => [] as NotificationRecord[]),
  ]);
  if (call) {
    row.duration = call.duration;
    row.errorCode = call.error_code ?? null;
    row.startedAt = Date.parse(call.start_time ?? call.date_created) || e.startedAt;
  }
  row.errors = Math.max(notes.filter((n) => n.log === "0").length, row.errorCode ? 1 : 0);
  row.warnings = notes.filter((n) => n.log === "1").length;
  return row;
}
