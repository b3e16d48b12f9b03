// <Refer><Sip>: asks the SIP endpoint of the call to transfer it elsewhere (a SIP REFER). Only a SIP
// leg can be referred; on any other it fails with 13801 and the next verb runs. A call on the SIP
// gateway sends a real REFER and waits for its NOTIFYs (sip/ua/refer.ts); a simulated SIP call's REFER
// is accepted (202) and its NOTIFY says 200, as a SIP phone that transfers would answer. The action
// hears the REFER's status and, when NOTIFYs came, the last one's and what it means for the new call.
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
import type { ReferResult } from "../ports/channel.js";
import type { ReferVerb, VerbOutcome } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkNoText, directText } from "../verb-parsing.js";
import { callbackUrl, httpMethod } from "./connect/stream.js";

const schema = ErrorCodes.schemaValidation.code;

export const refer: VerbDefinition<ReferVerb> = {
  name: "Refer",
  parse(el, ctx) {
    checkAttributes(el, ["action", "method"], ctx);
    checkNoText(el, ctx);
    let target: string | undefined;
    for (const child of el.children) {
      if (typeof child === "string") continue;
      if (child.name !== "Sip" || target !== undefined) {
        ctx.warn(schema, `<Refer> takes one <Sip>; <${child.name}> ignored`, child);
        continue;
      }
      const uri = directText(child).trim();
      if (/^sips?:\S+$/i.test(uri)) target = uri;
      else ctx.warn(schema, `<Refer><Sip> "${uri}" is not a SIP URI; ignored`, child);
    }
    if (target === undefined) {
      ctx.warn(schema, "<Refer> has no <Sip> URI to refer the call to; skipped");
      return undefined;
    }
    const action = callbackUrl(el.attributes.action, ctx, el);
    return {
      name: "Refer",
      target,
      ...(action && { action }),
      method: httpMethod(el.attributes.method, ctx, el),
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    signal.throwIfAborted();
    if (ctx.call.transport !== "sip") {
      throw fail(
        "referNotSip",
        `<Refer> to ${verb.target}: the call is not a SIP leg, so it cannot be referred`,
      );
    }
    const result = ctx.channel.refer
      ? await ctx.channel.refer(verb.target, signal)
      : { referCode: 202, notifyCode: 200 };
    if (!verb.action) return { kind: "next" };
    return { kind: "fetch", url: verb.action, method: verb.method, params: referParams(result) };
  },
};

/**
 * The action's parameters: ReferSipResponseCode always; ReferCallStatus and NotifySipResponseCode
 * only when a NOTIFY reported on the new call (a refused REFER, or one never reported on, has neither).
 */
export function referParams(result: ReferResult): Record<string, string> {
  const params: Record<string, string> = { ReferSipResponseCode: String(result.referCode) };
  const notify = result.notifyCode;
  if (result.referCode >= 300 || notify === undefined) return params;
  params.NotifySipResponseCode = String(notify);
  params.ReferCallStatus =
    notify < 300
      ? "in-progress"
      : notify === 486 || notify === 600
        ? "busy"
        : notify === 487
          ? "canceled"
          : "failed";
  return params;
}
