// arriving: the called number's config in this region, and its account.
import { fromPromise } from "xstate";
import type { CallInput, NumberSetup } from "../../../machines/call.machine.js";
import { fail } from "../../errors/switchboard-error.js";
import { numberKey } from "../../model/phone.js";
import type { NumberConfig } from "../../model/records.js";
import type { CallLookup } from "../host/live-call.js";
import type { RegionRuntime } from "../runtime.js";

export function loadNumber(rt: Pick<RegionRuntime, "region" | "stores" | "directory">, callOf: CallLookup) {
  const { accounts, numbers } = rt.directory;
  /**
   * One NumberSetup per config object: the watched copy of the bucket replaces the object when the
   * config changes, so every call to a number shares it instead of keeping its own in its context for
   * as long as it lasts (issue #9). Nothing changes a NumberSetup once made.
   */
  const setups = new WeakMap<NumberConfig, NumberSetup>();
  return fromPromise<NumberSetup, { facts: CallInput["facts"]; accountSid?: string }>(async ({ input }) => {
    const { facts } = input;
    const key = numberKey(facts.to);
    // The local copy first; a number added a moment ago may not have reached it yet.
    const config =
      numbers.get(key) ?? (await callOf(facts.callSid).clock.holding(() => rt.stores.numbers.get(key)));
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
