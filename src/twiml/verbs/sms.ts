// <Sms> (deprecated by Twilio, still served): sends a text message during the call. switchboard has no
// SMS network, so the message is recorded as a 90008 notification on the call and reported as sent. With
// an action the returned TwiML takes over (SmsSid, SmsStatus); without one the next verb runs.
import { ErrorCodes } from "../../errors/codes.js";
import { isE164 } from "../../model/phone.js";
import { newSid } from "../../model/sid.js";
import type { SmsVerb, VerbOutcome } from "../verb-data.js";
import type { VerbDefinition } from "../verb-definition.js";
import { checkAttributes, checkChildElements, directText } from "../verb-parsing.js";
import { callbackUrl, httpMethod } from "./connect/stream.js";

export const sms: VerbDefinition<SmsVerb> = {
  name: "Sms",
  parse(el, ctx) {
    checkAttributes(el, ["to", "from", "action", "method", "statusCallback"], ctx);
    checkChildElements(el, ctx);
    const body = directText(el).trim();
    if (body === "") {
      ctx.warn(ErrorCodes.smsInvalidBody.code, "<Sms> has no message text; skipped");
      return undefined;
    }
    const a = el.attributes;
    const action = callbackUrl(a.action, ctx, el);
    const statusCallback = callbackUrl(a.statusCallback, ctx, el, ErrorCodes.smsInvalidStatusCallback.code);
    return {
      name: "Sms",
      body,
      ...(a.to !== undefined && { to: a.to }),
      ...(a.from !== undefined && { from: a.from }),
      ...(action && { action }),
      method: httpMethod(a.method, ctx, el, "method", ErrorCodes.smsInvalidMethod.code),
      ...(statusCallback && { statusCallback }),
    };
  },

  async execute(ctx, verb, signal): Promise<VerbOutcome> {
    signal.throwIfAborted();
    // On an inbound call the message goes back to the caller, from the number they called; on an
    // outbound one (REST or a Dial leg) to the called party, from the call's own From (spec §1).
    const inbound = ctx.call.direction === "inbound";
    const to = verb.to ?? (inbound ? ctx.call.from : ctx.call.to);
    const from = verb.from ?? (inbound ? ctx.call.to : ctx.call.from);
    const smsSid = newSid("SM");
    let status: "sending" | "invalid" = "sending";
    if (!isE164(to)) {
      ctx.warn(ErrorCodes.smsInvalidTo.code, `<Sms to="${to}"> is not a phone number that can take an SMS`);
      status = "invalid";
    } else if (!isE164(from)) {
      ctx.warn(
        ErrorCodes.smsInvalidFrom.code,
        `<Sms from="${from}"> is not a phone number that can send an SMS`,
      );
      status = "invalid";
    } else {
      ctx.warn(ErrorCodes.smsNotSent.code, `<Sms> ${smsSid} from ${from} to ${to}: ${verb.body}`);
      if (verb.statusCallback) {
        await ctx.callback({
          url: verb.statusCallback,
          method: "POST",
          params: {
            SmsSid: smsSid,
            SmsStatus: "sent",
            AccountSid: ctx.call.accountSid,
            From: from,
            To: to,
            Body: verb.body,
          },
          key: `sms.${smsSid}`,
        });
      }
    }
    if (!verb.action) return { kind: "next" };
    return {
      kind: "fetch",
      url: verb.action,
      method: verb.method,
      params: { SmsSid: smsSid, SmsStatus: status },
    };
  },
};
