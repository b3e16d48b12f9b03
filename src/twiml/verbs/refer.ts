// <Refer><Sip>: asks the SIP endpoint of the call to transfer it elsewhere (a SIP REFER). Only a call that
// came in over SIP can be referred; on any other leg it fails with 13801 and the next verb runs. The
// REFER itself is simulated: accepted (202), its NOTIFY 200, as a SIP phone that transfers would answer.
import { ErrorCodes } from "../../errors/codes.js";
import { fail } from "../../errors/switchboard-error.js";
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
    if (!verb.action) return { kind: "next" };
    return {
      kind: "fetch",
      url: verb.action,
      method: verb.method,
      params: { ReferCallStatus: "in-progress", ReferSipResponseCode: "202", NotifySipResponseCode: "200" },
    };
  },
};
