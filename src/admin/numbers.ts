// Adding numbers to a region, changing them and routing them: `switchboard numbers add|update|route`.

import type { NatsConnection } from "@nats-io/transport-node";
import { fail } from "../errors/switchboard-error.js";
import { rfc2822 } from "../model/dates.js";
import type { HttpMethod } from "../model/http.js";
import { isE164, numberKey } from "../model/phone.js";
import type { NumberConfig, RoutingEntry } from "../model/records.js";
import { isSid, newSid } from "../model/sid.js";
import { buckets, NAME_PATTERN } from "../protocol/subjects.js";
import { defaultAccountSid, type GlobalStores, type TrunkStores } from "../store/global.js";
import { JsonKv } from "../store/json-kv.js";
import { openRegionKv } from "../store/region.js";
import { requireRegion } from "./regions.js";
import { requireTrunk } from "./trunks.js";

export interface AddNumberOptions {
  number: string;
  region: string;
  voiceUrl: string;
  voiceMethod?: string;
  fallbackUrl?: string;
  fallbackMethod?: string;
  statusCallback?: string;
  statusCallbackMethod?: string;
  accountSid?: string;
  friendlyName?: string;
  /** The trunk its calls go out through (a name in `sb_trunks`); null: none; undefined: keep. */
  trunk?: string | null;
}

/** The region's numbers bucket, created placed in the region (like a worker does) if it is new. */
export async function numbersBucket(nc: NatsConnection, region: string): Promise<JsonKv<NumberConfig>> {
  return new JsonKv<NumberConfig>(await openRegionKv(nc, region, buckets.numbers(region), 5));
}

/** Stores the number's config in its region; a number with no route yet is routed there too. */
export async function addNumber(
  nc: NatsConnection,
  global: GlobalStores & Partial<TrunkStores>,
  opts: AddNumberOptions,
): Promise<{ config: NumberConfig; routed: boolean }> {
  checkNumber(opts.number);
  checkRegion(opts.region);
  const accountSid = opts.accountSid ?? (await defaultAccountSid(global));
  if (!accountSid) {
    throw fail(
      "notFound",
      "no account: pass --account, or add one with `switchboard accounts add` (up makes one)",
    );
  }
  if (!isSid("AC", accountSid) || !(await global.accounts.get(accountSid))) {
    throw fail("notFound", `unknown account ${accountSid}`);
  }
  if (opts.fallbackUrl && !opts.voiceUrl)
    throw fail("fallbackWithoutVoiceUrl", "a fallback URL needs a voice URL");
  const trunk = opts.trunk ? await requireTrunk(global, opts.trunk) : opts.trunk;
  const numbers = await numbersBucket(nc, opts.region);
  const key = numberKey(opts.number);
  const existing = await numbers.get(key);
  const now = rfc2822(Date.now());
  const config: NumberConfig = {
    sid: existing?.sid ?? newSid("PN"),
    account_sid: accountSid,
    phone_number: opts.number,
    friendly_name: opts.friendlyName ?? existing?.friendly_name ?? opts.number,
    voice_url: checkUrl(opts.voiceUrl, "voice URL"),
    voice_method: checkMethod(opts.voiceMethod),
    voice_fallback_url: opts.fallbackUrl ? checkUrl(opts.fallbackUrl, "fallback URL") : null,
    voice_fallback_method: checkMethod(opts.fallbackMethod),
    status_callback: opts.statusCallback ? checkUrl(opts.statusCallback, "status callback") : null,
    status_callback_method: checkMethod(opts.statusCallbackMethod),
    api_version: "2010-04-01",
    date_created: existing?.date_created ?? now,
    date_updated: now,
    outbound_trunk: trunk === undefined ? (existing?.outbound_trunk ?? null) : trunk,
  };
  await numbers.put(key, config);
  const routed = await global.routing.create(key, {
    region: opts.region,
    friendlyName: config.friendly_name,
    dateUpdated: new Date().toISOString(),
    accountSid,
  });
  return { config, routed };
}

/**
 * Changes a number that exists: what `changes` gives, the rest as stored. Its region is `region`,
 * else the one its route points at.
 */
export async function updateNumber(
  nc: NatsConnection,
  global: GlobalStores & Partial<TrunkStores>,
  number: string,
  changes: Partial<Omit<AddNumberOptions, "number" | "accountSid">>,
): Promise<NumberConfig> {
  checkNumber(number);
  const key = numberKey(number);
  const region = changes.region ?? (await global.routing.get(key))?.region;
  if (!region) throw fail("notFound", `number ${number} has no route: name its region with --region`);
  await requireRegion(nc, region);
  const existing = await (await numbersBucket(nc, region)).get(key);
  if (!existing) throw fail("notFound", `number ${number} has no config in ${region}`);
  const kept = <T>(given: T | undefined, stored: T | null) => given ?? stored ?? undefined;
  const { config } = await addNumber(nc, global, {
    number,
    region,
    accountSid: existing.account_sid,
    voiceUrl: kept(changes.voiceUrl, existing.voice_url) ?? "",
    voiceMethod: changes.voiceMethod ?? existing.voice_method,
    fallbackMethod: changes.fallbackMethod ?? existing.voice_fallback_method,
    statusCallbackMethod: changes.statusCallbackMethod ?? existing.status_callback_method,
    friendlyName: changes.friendlyName ?? existing.friendly_name,
    ...optional("fallbackUrl", kept(changes.fallbackUrl, existing.voice_fallback_url)),
    ...optional("statusCallback", kept(changes.statusCallback, existing.status_callback)),
    ...(changes.trunk !== undefined && { trunk: changes.trunk }),
  });
  return config;
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>);
}

/** Points the number's calls at `region` (the global routing table). */
export async function routeNumber(
  global: GlobalStores,
  number: string,
  region: string,
): Promise<RoutingEntry> {
  checkNumber(number);
  checkRegion(region);
  const key = numberKey(number);
  const existing = await global.routing.get(key);
  const entry: RoutingEntry = {
    ...existing,
    region,
    friendlyName: existing?.friendlyName ?? number,
    dateUpdated: new Date().toISOString(),
  };
  await global.routing.put(key, entry);
  return entry;
}

function checkNumber(number: string): void {
  if (!isE164(number)) throw fail("invalidToNumber", `not an E.164 number: ${number}`);
}

function checkRegion(region: string): void {
  if (!NAME_PATTERN.test(region)) throw fail("invalidPayload", `not a region name: ${region}`);
}

function checkUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw fail("invalidUrl", `${what} is not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw fail("invalidUrl", `${what} must be http or https: ${url}`);
  }
  return url;
}

function checkMethod(method: string | undefined): HttpMethod {
  const m = (method ?? "POST").toUpperCase();
  if (m !== "GET" && m !== "POST") throw fail("invalidPayload", `method must be GET or POST, not ${method}`);
  return m;
}
