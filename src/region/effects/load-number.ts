// arriving: the called number's config in this region, and its account; for a call placed over REST,
// what its request said to run (its Url or Twiml, FallbackUrl, StatusCallback).
import { fromPromise } from "xstate";
import type { CallInput, NumberSetup } from "../../../machines/call.machine.js";
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
import { isE164, numberKey } from "../../model/phone.js";
import type { NumberConfig } from "../../model/records.js";
import type { Outbound } from "../../protocol/outbound.js";
import type { CallLookup } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

export function loadNumber(
  rt: Pick<RegionRuntime, "region" | "stores" | "directory" | "outbox">,
  callOf: CallLookup,
) {
  const { accounts, numbers } = rt.directory;
  /**
   * One NumberSetup per config object: the watched copy of the bucket replaces the object when the
   * config changes, so every call to a number shares it instead of keeping its own in its context for
   * as long as it lasts (issue #9). Nothing changes a NumberSetup once made.
   */
  const setups = new WeakMap<NumberConfig, NumberSetup>();
  return fromPromise<NumberSetup, { facts: CallInput["facts"]; accountSid?: string }>(async ({ input }) => {
    const { facts } = input;
    const call = callOf(facts.callSid);
    if (call.outbound) {
      const setup = outboundSetup(rt, input.accountSid, facts.from, call.outbound);
      if (call.outbound.twimlIgnored) {
        const both = ErrorCodes.twimlAndUrlBothSet;
        rt.outbox.notifier.notify({
          accountSid: setup.accountSid,
          callSid: facts.callSid,
          level: "warning",
          code: both.code,
          message: both.title,
        });
      }
      return setup;
    }
    const key = numberKey(facts.to);
    // The local copy first; a number added a moment ago may not have reached it yet.
    const config = numbers.get(key) ?? (await call.clock.holding(() => rt.stores.numbers.get(key)));
    if (!config) {
      throw fail("numberNotConfigured", `${facts.to} has no configuration in region ${rt.region}`);
    }
    if (input.accountSid && input.accountSid !== config.account_sid) {
      throw fail("notFound", `${facts.to} does not belong to account ${input.accountSid}`);
    }
    if (!accounts.has(config.account_sid)) {
      throw fail("notFound", `${facts.to} belongs to unknown account ${config.account_sid}`);
    }
    if (!config.voice_url) throw fail("noVoiceUrl", `${facts.to} has no voice URL in region ${rt.region}`);
    let setup = setups.get(config);
    if (!setup) {
      setup = numberSetup(config, config.voice_url);
      setups.set(config, setup);
    }
    return setup;
  });
}

function numberSetup(config: NumberConfig, voiceUrl: string): NumberSetup {
  return {
    accountSid: config.account_sid,
    phoneNumberSid: config.sid,
    apiVersion: config.api_version,
    voiceUrl,
    voiceMethod: config.voice_method,
    fallbackUrl: config.voice_fallback_url,
    fallbackMethod: config.voice_fallback_method,
    statusCallback: config.status_callback
      ? { url: config.status_callback, method: config.status_callback_method }
      : null,
  };
}

/**
 * An outbound call's setup comes from its REST request, not from a number; its Twiml (no Url) is
 * run by fetch-twiml.ts when the URL to fetch is empty. The api checked the account and the From.
 */
function outboundSetup(
  rt: Pick<RegionRuntime, "directory">,
  accountSid: string | undefined,
  from: string,
  outbound: Outbound,
): NumberSetup {
  if (!accountSid || !rt.directory.accounts.has(accountSid)) {
    throw fail("notFound", `outbound call of unknown account ${accountSid}`);
  }
  // A job from an older api names no fromSid: then the From's config in this region, if it has one.
  const fromConfig = isE164(from) ? rt.directory.numbers.get(numberKey(from)) : undefined;
  return {
    accountSid,
    phoneNumberSid: outbound.fromSid ?? (fromConfig?.account_sid === accountSid ? fromConfig.sid : null),
    apiVersion: "2010-04-01",
    voiceUrl: outbound.url ?? "",
    voiceMethod: outbound.method,
    fallbackUrl: outbound.fallbackUrl ?? null,
    fallbackMethod: outbound.fallbackMethod,
    statusCallback: outbound.statusCallback ?? null,
  };
}
